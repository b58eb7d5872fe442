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
        foreach (var session in await store.NotEndedAsync(ct))
        {
            if (Why(session, now, portalStartedAt, grace) is not { } reason) continue;
            logger.LogInformation("Debug session {Session} ends: {Reason}", session.Id, reason);
            await sessions.EndAsync(session, Audit.AuditLog.System, reason, ct);
        }

        hub.DropEnded();
    }

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
