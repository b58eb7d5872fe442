using Kaizen.Portal.Runners;
using Kaizen.Portal.Secrets;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Debug;

/// <summary>
/// The runners' side of debug sessions: a claim may get a queued debug session (the job as it was assigned, with the
/// session's secrets rule applied), a heartbeat may carry attach requests for the jobs the runner is running.
/// </summary>
public sealed class DebugDispatch(
    DebugSessionStore store, DebugSessionService sessions, RunnerStore runners, JobEnvironmentProvider environments,
    Auth.SshKeys sshKeys, TimeProvider time, ILogger<DebugDispatch> logger)
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The oldest queued debug session this runner can set up, as the job's assignment with
    /// <see cref="JobAssignment.Debug"/> set; null when there is none.</summary>
    public async Task<JobAssignment?> TryClaimAsync(long runnerId, IReadOnlyList<string>? executors, CancellationToken ct)
    {
        while (sessions.DebugQueue.Maybe)
        {
            var version = sessions.DebugQueue.Version;
            // A debug session holds a slot like a job and goes only where its job may run.
            if (await runners.OfferAsync(runnerId, executors, ct) is not ({ } offer, > 0)) return null;
            var session = await store.ClaimAsync(runnerId, needs => Runners.RunnerPools.Fits(needs, offer), Now, ct);
            if (session is null)
            {
                // Sessions this runner may not take still wait for another: only then is the hint still up.
                if (!await store.AnyQueuedAsync(DebugKinds.Debug, ct)) sessions.DebugQueue.Drained(version);
                return null;
            }

            await sessions.TakenAsync(session.Id, ct);
            if (await AssignmentAsync(session, ct) is { } assignment) return assignment;
        }

        return null;
    }

    private async Task<JobAssignment?> AssignmentAsync(DebugSessionRow session, CancellationToken ct)
    {
        try
        {
            var job = await runners.AssignmentOfAsync(session.JobId, ct);
            var origin = await runners.OriginAsync(session.JobId, ct);
            if (job is null || origin is null) throw new InvalidOperationException("the job no longer exists");
            job = await Runners.RunnerEndpoints.WithEnvironmentAsync(job, origin, environments, ct);
            var environment = new Dictionary<string, string>(job.Environment)
            {
                ["KAIZEN_DEBUG_SESSION"] = session.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            // Decided when the session started (admins only, never a fork's build); checked again against the build.
            var secrets = session.WithSecrets && !origin.FromFork ? job.Secrets : [];
            var keys = await sshKeys.LinesAsync(session.UserId, ct);
            // `kaizen artifact pull` and `kaizen cache restore` work as in the job; pushing and storing are refused.
            var token = Auth.Tokens.New("kzj_");
            await store.SetTokenAsync(session.Id, Auth.Tokens.Hash(token), ct);
            return job with
            {
                Environment = environment,
                Secrets = secrets,
                JobToken = token,
                Debug = new DebugAssignment(session.Id, session.ExpiresAt, session.RunSetup, keys),
            };
        }
        catch (Exception ex) when (ex is SecretUnreadableException or InvalidOperationException)
        {
            logger.LogWarning("Debug session {Session} cannot start: {Error}", session.Id, ex.Message);
            await sessions.EndAsync(session, Audit.AuditLog.System, $"could not be set up: {ex.Message}", ct);
            return null;
        }
    }

    /// <summary>Attach sessions waiting for jobs this runner runs now; each is handed out once.</summary>
    public async Task<IReadOnlyList<AttachRequest>> AttachRequestsAsync(long runnerId, CancellationToken ct)
    {
        if (!sessions.AttachQueue.Maybe) return [];
        var version = sessions.AttachQueue.Version;
        var taken = await store.TakeAttachRequestsAsync(runnerId, Now, ct);
        foreach (var request in taken) await sessions.TakenAsync(request.SessionId, ct);
        // Attach sessions of other runners' jobs may still wait: only a search that found none anywhere lowers the hint.
        if (taken.Count == 0 && !await store.AnyQueuedAsync(DebugKinds.Attach, ct)) sessions.AttachQueue.Drained(version);
        return taken;
    }
}
