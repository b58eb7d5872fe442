using System.Globalization;
using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Debug;

/// <summary>
/// Starts, extends and ends debug sessions, and decides who may have one and with what. Members debug finished jobs
/// (without secrets unless they are admins, and never a fork's); only admins attach to running jobs (a running job's
/// shell holds whatever the job was given). Starts and ends are audited, keystrokes never.
/// </summary>
public sealed class DebugSessionService(
    DebugSessionStore store, BuildStore builds, AuditLog audit, TerminalHub hub, LiveUpdates live, WorkSignal signal,
    IOptions<KaizenOptions> options, TimeProvider time)
{
    private DebugOptions Options => options.Value.Debug;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Whether a debug session may wait for a runner (claims look for one only then).</summary>
    public QueueHint DebugQueue { get; } = new();

    /// <summary>Whether an attach session may wait for its job's runner (heartbeats look for one only then).</summary>
    public QueueHint AttachQueue { get; } = new();

    /// <summary>Sessions of <paramref name="kind"/> may be waiting (a new one, or ones found at start).</summary>
    public void Queued(string kind)
    {
        (kind == DebugKinds.Attach ? AttachQueue : DebugQueue).Raise();
        signal.Pulse();
    }

    /// <summary>Null when <paramref name="user"/> may start a session of <paramref name="kind"/> on <paramref name="job"/>; else why not.</summary>
    public string? WhyNot(ClaimsPrincipal user, JobRow job, string kind)
    {
        if (user.UserId() is null) return "Sign in to debug jobs.";
        var admin = user.IsInRole(Roles.Admin);
        if (!admin && !user.IsInRole(Roles.Member)) return "Viewers cannot start debug sessions; an admin can make you a member.";
        if (kind == DebugKinds.Attach)
        {
            if (!admin) return "Only admins can attach to a running job: its shell holds whatever the job was given. Debug it once it has finished.";
            return job.Status == Status.Running ? null : "Only a running job can be attached to; debug a finished job instead.";
        }

        if (kind != DebugKinds.Debug) return $"There is no kind of session called '{kind}'.";
        return Status.IsFinished(job.Status)
            ? null
            : job.Status == Status.Running
                ? "The job is still running: attach to it, or debug it once it has finished."
                : "The job has not run yet: debug it once it has finished.";
    }

    /// <summary>Whether a session <paramref name="user"/> starts gets the job's secrets: admins only (secrets are theirs
    /// alone, down to their names), and never for a build of a fork's code.</summary>
    public bool ReceivesSecrets(ClaimsPrincipal user, bool fromFork) => !fromFork && user.IsInRole(Roles.Admin);

    public async Task<Outcome<DebugSessionRow>> StartAsync(long jobId, string kind, DebugRequest request, ClaimsPrincipal user,
        CancellationToken ct = default)
    {
        var job = await builds.FindJobAsync(jobId, ct);
        if (job is null) return Outcome<DebugSessionRow>.Fail(Problem.NotFound, $"There is no job {jobId}.");
        if (WhyNot(user, job, kind) is { } why)
        {
            // Who may is a permission (403); what state the job is in is a conflict the caller can wait out (409).
            var allowed = user.IsInRole(Roles.Admin) || (user.IsInRole(Roles.Member) && kind == DebugKinds.Debug);
            return Outcome<DebugSessionRow>.Fail(allowed ? Problem.Conflict : Problem.Forbidden, why);
        }
        var minutes = request.Minutes ?? Options.DefaultMinutes;
        if (MinutesError(minutes) is { } error) return Outcome<DebugSessionRow>.Fail(Problem.Invalid, error);
        var build = await builds.FindAsync(job.BuildId, ct);
        if (build is null) return Outcome<DebugSessionRow>.Fail(Problem.NotFound, $"There is no job {jobId}.");

        var withSecrets = ReceivesSecrets(user, build.FromFork);
        var id = await store.InsertAsync(jobId, kind, user.UserId()!.Value, user.Identity?.Name ?? "", withSecrets,
            request.RunSetup ?? true, minutes, Now, ct);
        var session = (await store.GetAsync(id, ct))!;
        await audit.RecordAsync(user, AuditActions.DebugStarted, Target(session),
            $"{(kind == DebugKinds.Attach ? "attach" : "debug")} session {id}, {(withSecrets ? "with" : "without")} secrets, {Minutes(minutes)}",
            ct);
        Queued(kind);
        live.Publish(LiveUpdates.Keys.Job(jobId), LiveUpdates.Keys.Debug(id));
        return Outcome<DebugSessionRow>.Of(session);
    }

    public Task<DebugSessionRow?> GetAsync(long id, CancellationToken ct = default) => store.GetAsync(id, ct);

    /// <summary>The session if <paramref name="user"/> may see it (its user, or an admin); null otherwise.</summary>
    public async Task<DebugSessionRow?> VisibleAsync(long id, ClaimsPrincipal user, CancellationToken ct = default)
    {
        var session = await store.GetAsync(id, ct);
        return session is not null && (session.UserId == user.UserId() || user.IsInRole(Roles.Admin)) ? session : null;
    }

    public Task<IReadOnlyList<DebugSessionRow>> OpenForJobAsync(long jobId, long userId, CancellationToken ct = default) =>
        store.OpenForJobAsync(jobId, userId, ct);

    /// <summary>Moves the end <paramref name="minutes"/> (default <see cref="DebugOptions.DefaultMinutes"/>) past now or past the
    /// current end, whichever is later. Only the session's user extends it.</summary>
    public async Task<Outcome<DebugSessionRow>> ExtendAsync(long id, double? minutes, ClaimsPrincipal user, CancellationToken ct = default)
    {
        var session = await store.GetAsync(id, ct);
        if (session is null || session.UserId != user.UserId()) return Outcome<DebugSessionRow>.Fail(Problem.NotFound, $"There is no debug session {id} of yours.");
        if (session.IsEnded) return Outcome<DebugSessionRow>.Fail(Problem.Conflict, $"Debug session {id} has ended ({session.EndReason}); start a new one.");
        var more = minutes ?? Options.DefaultMinutes;
        if (MinutesError(more) is { } error) return Outcome<DebugSessionRow>.Fail(Problem.Invalid, error);
        var expires = Math.Max(session.ExpiresAt, Now) + (long)(more * 60_000);
        if (!await store.ExtendAsync(id, expires, ct)) return Outcome<DebugSessionRow>.Fail(Problem.Conflict, $"Debug session {id} has ended; start a new one.");
        await hub.SendToRunnerAsync(id, new TerminalControl(TerminalControl.Expires, At: expires));
        return Outcome<DebugSessionRow>.Of(await ChangedAsync(id, ct));
    }

    /// <summary>Ends a session as <paramref name="user"/> (its user or an admin).</summary>
    public async Task<Outcome<DebugSessionRow>> EndAsync(long id, ClaimsPrincipal user, CancellationToken ct = default)
    {
        var session = await VisibleAsync(id, user, ct);
        if (session is null) return Outcome<DebugSessionRow>.Fail(Problem.NotFound, $"There is no debug session {id} of yours.");
        await EndAsync(session, AuditLog.ActorOf(user), $"ended by {user.Identity?.Name}", ct);
        return Outcome<DebugSessionRow>.Of((await store.GetAsync(id, ct))!);
    }

    /// <summary>Ends a session for the portal's own reasons (time-out, the runner went away or said it is over).</summary>
    public async Task EndAsync(DebugSessionRow session, string actor, string reason, CancellationToken ct = default)
    {
        if (!await store.EndAsync(session.Id, Now, reason, ct)) return;
        var ended = (await store.GetAsync(session.Id, ct))!;
        var open = ended.StartedAt is { } started ? $", {Minutes((Now - started) / 60_000.0)} after it started" : "";
        await audit.RecordAsync(actor, AuditActions.DebugEnded, Target(ended), $"session {session.Id}: {reason}{open}", ct);
        await hub.EndAsync(session.Id, StatusOf(ended));
        live.Publish(LiveUpdates.Keys.Debug(session.Id), LiveUpdates.Keys.Job(session.JobId));
    }

    /// <summary>The runner opened the shell: the session's time counts from now.</summary>
    public async Task RunnerReadyAsync(long id, string? sshCommand, CancellationToken ct = default)
    {
        if (!await store.MarkOpenAsync(id, Now, sshCommand, ct)) return;
        var session = await ChangedAsync(id, ct);
        await hub.SendToRunnerAsync(id, new TerminalControl(TerminalControl.Expires, At: session.ExpiresAt));
    }

    /// <summary>The runner that took <paramref name="session"/> never connected: it waits for a runner again. False when
    /// it had moved on meanwhile (connected, ended).</summary>
    public async Task<bool> ReturnToQueueAsync(DebugSessionRow session, CancellationToken ct = default)
    {
        if (session.RunnerId is not { } runnerId || !await store.ReturnToQueueAsync(session.Id, runnerId, ct)) return false;
        Queued(session.Kind);
        await ChangedAsync(session.Id, ct);
        return true;
    }

    /// <summary>What a browser is told of a session's state.</summary>
    public static TerminalControl StatusOf(DebugSessionRow session) =>
        new(TerminalControl.Status, At: session.ExpiresAt, Reason: session.EndReason, State: session.Status, Ssh: session.SshCommand);

    private async Task<DebugSessionRow> ChangedAsync(long id, CancellationToken ct)
    {
        var session = (await store.GetAsync(id, ct))!;
        await hub.SendToBrowsersAsync(id, StatusOf(session));
        live.Publish(LiveUpdates.Keys.Debug(id));
        return session;
    }

    /// <summary>The session marked taken by a runner (claims and attach hand-outs change it outside this service).</summary>
    public async Task TakenAsync(long id, CancellationToken ct = default) => await ChangedAsync(id, ct);

    private string? MinutesError(double minutes) =>
        double.IsFinite(minutes) && minutes > 0 && minutes <= Options.MaxMinutes
            ? null
            : $"minutes must be more than 0 and at most {Options.MaxMinutes.ToString(CultureInfo.InvariantCulture)}.";

    private static string Minutes(double minutes) =>
        minutes >= 1 ? $"{Math.Round(minutes, 1).ToString(CultureInfo.InvariantCulture)} min" : $"{Math.Round(minutes * 60).ToString(CultureInfo.InvariantCulture)} s";

    private static string Target(DebugSessionRow session) => $"project:{session.ProjectSlug}/job:{session.JobId}";
}

/// <summary>
/// A cheap "maybe something is waiting" flag: raised when work is queued, lowered by a search that found nothing as of
/// the version it read first (work queued meanwhile keeps it raised), so idle polls skip the query.
/// </summary>
public sealed class QueueHint
{
    private long _raised = 1;
    private long _drained;

    public bool Maybe => Interlocked.Read(ref _raised) != Interlocked.Read(ref _drained);

    /// <summary>Read before searching; pass to <see cref="Drained"/> if the search found nothing.</summary>
    public long Version => Interlocked.Read(ref _raised);

    public void Raise() => Interlocked.Increment(ref _raised);

    public void Drained(long version)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _drained)) < version && Interlocked.CompareExchange(ref _drained, version, seen) != seen)
        {
        }
    }
}
