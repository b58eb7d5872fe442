using Kaizen.Portal.Builds;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Debug;

/// <summary>
/// Ends debug sessions nobody ends: past their time, attach sessions whose job finished before a runner took them, and
/// sessions whose runner never connected or went away (it reconnects within <see cref="DebugOptions.ConnectSeconds"/>
/// after a portal restart or a network blip). Ending tells the runner to stop, which frees its slot.
/// </summary>
public sealed class DebugSessionReaper(DebugSessionStore store, DebugSessionService sessions, TerminalHub hub,
    IOptions<KaizenOptions> options, TimeProvider time, ILogger<DebugSessionReaper> logger) : BackgroundService
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, int> _handoffs = new();

    /// <summary>How often sessions are checked.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var startedAt = time.GetUtcNow();
        using var timer = new PeriodicTimer(Period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(startedAt, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Checking debug sessions failed");
            }
        }
    }

    /// <summary>One pass; <paramref name="portalStartedAt"/> gives runners of sessions that were open before a restart time to reconnect.</summary>
    public async Task SweepAsync(DateTimeOffset portalStartedAt, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var grace = TimeSpan.FromSeconds(options.Value.Debug.ConnectSeconds);
        var notEnded = await store.NotEndedAsync(ct);
        foreach (var session in notEnded)
        {
            var reason = Why(session, now, portalStartedAt, grace);
            if (reason is null && NeverConnected(session, now, portalStartedAt))
            {
                var handoffs = _handoffs.AddOrUpdate(session.Id, 1, (_, n) => n + 1);
                if (handoffs <= options.Value.Debug.MaxHandoffs)
                {
                    logger.LogWarning("Debug session {Session}: runner {Runner} took it and never connected; it waits for a runner again",
                        session.Id, session.RunnerName ?? session.RunnerId?.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    await sessions.ReturnToQueueAsync(session, ct);
                    continue;
                }

                reason = $"runners took it {handoffs} times and none opened its terminal (can they reach the portal's WebSockets?)";
            }

            if (reason is null) continue;
            logger.LogInformation("Debug session {Session} ends: {Reason}", session.Id, reason);
            await sessions.EndAsync(session, Audit.AuditLog.System, reason, ct);
        }

        foreach (var id in _handoffs.Keys.Except(notEnded.Select(s => s.Id)).ToList()) _handoffs.TryRemove(id, out _);
        hub.DropEnded();
    }

    /// <summary>
    /// A runner took the session after this portal started and has not connected its terminal within
    /// <see cref="DebugOptions.HandoffSeconds"/>: connecting is the first thing a runner does with a session, so it stopped
    /// or lost the reply as it took it. (A session handed out before a restart gets the longer reconnect grace.)
    /// </summary>
    private bool NeverConnected(DebugSessionRow session, DateTimeOffset now, DateTimeOffset portalStartedAt) =>
        session is { Status: DebugStates.Starting, StartedAt: { } startedAt }
        && startedAt >= portalStartedAt.ToUnixTimeMilliseconds()
        && now.ToUnixTimeMilliseconds() - startedAt > options.Value.Debug.HandoffSeconds * 1000
        && !hub.RunnerEverConnected(session.Id);

    private string? Why(DebugSessionRow session, DateTimeOffset now, DateTimeOffset portalStartedAt, TimeSpan grace)
    {
        if (session.ExpiresAt <= now.ToUnixTimeMilliseconds())
        {
            return session.Status == DebugStates.Queued
                ? session.Kind == DebugKinds.Attach ? "timed out waiting for the job's runner" : "timed out waiting for a runner"
                : "timed out";
        }

        if (session.Status == DebugStates.Queued)
        {
            return session.Kind == DebugKinds.Attach && session.JobStatus != Status.Running ? "the job finished before a shell could open" : null;
        }

        if (hub.RunnerConnected(session.Id)) return null;
        var since = hub.RunnerGoneSince(session.Id)
            ?? Max(portalStartedAt, DateTimeOffset.FromUnixTimeMilliseconds(session.StartedAt ?? session.CreatedAt));
        return now - since > grace
            ? session.Status == DebugStates.Starting ? "the runner did not connect" : "the runner went away"
            : null;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
