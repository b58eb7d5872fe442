using Dapper;
using Kaizen.Portal.Data;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Debug;

/// <summary>Debug sessions as stored: created by people, taken by runners, ended by whoever comes first.</summary>
public sealed class DebugSessionStore(Database db)
{
    public async Task<long> InsertAsync(long jobId, string kind, long userId, string userName, bool withSecrets, bool runSetup,
        double minutes, long now, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(db.Sql(DebugSql.Insert), new
        {
            JobId = jobId, Kind = kind, Status = DebugStates.Queued, UserId = userId, UserName = userName,
            WithSecrets = withSecrets, RunSetup = runSetup, Minutes = minutes, Now = now,
            ExpiresAt = now + (long)(minutes * 60_000),
        });
    }

    public async Task<DebugSessionRow?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<DebugSessionRow>(DebugSql.ById, new { Id = id });
    }

    /// <summary>A user's sessions of a job that have not ended, newest first.</summary>
    public async Task<IReadOnlyList<DebugSessionRow>> OpenForJobAsync(long jobId, long userId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<DebugSessionRow>(DebugSql.OpenForJob, new { JobId = jobId, UserId = userId, Ended = DebugStates.Ended })).AsList();
    }

    /// <summary>Sessions that have not ended (for the reaper).</summary>
    public async Task<IReadOnlyList<DebugSessionRow>> NotEndedAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<DebugSessionRow>(DebugSql.NotEnded)).AsList();
    }

    /// <summary>Takes the oldest queued debug session a runner offering <paramref name="docker"/> can set up; null when none.
    /// Two runners asking at once never get the same one.</summary>
    public async Task<DebugSessionRow?> ClaimAsync(long runnerId, bool docker, long now, CancellationToken ct = default) =>
        await ClaimAsync(runnerId, needs => docker || !needs.Docker, now, ct);

    /// <summary>The oldest queued debug session whose job <paramref name="fits"/> the runner (the job's own rules of where
    /// it may run: labels, sandbox, Docker), now starting on it; null when there is none.</summary>
    public async Task<DebugSessionRow?> ClaimAsync(long runnerId, Func<Runners.JobNeeds, bool> fits, long now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(fits);
        await using var c = await db.OpenAsync(ct);
        var queued = (await c.QueryAsync<long, Runners.JobPoolRow, (long SessionId, Runners.JobPoolRow Job)>(DebugSql.Queued,
            (id, job) => (id, job), new { Queued = DebugStates.Queued, Kind = DebugKinds.Debug }, splitOn: "id")).AsList();
        foreach (var (sessionId, _) in queued.Where(q => fits(Runners.RunnerPools.NeedsOf(q.Job))))
        {
            var taken = await c.ExecuteAsync(DebugSql.Claim, new
            {
                SessionId = sessionId, RunnerId = runnerId, Now = now, Queued = DebugStates.Queued, Starting = DebugStates.Starting,
            });
            if (taken == 1) return await c.QuerySingleOrDefaultAsync<DebugSessionRow>(DebugSql.ById, new { Id = sessionId });
        }
        return null;
    }

    /// <summary>Hands the queued attach sessions of jobs this runner runs now to it (each once).</summary>
    public async Task<IReadOnlyList<AttachRequest>> TakeAttachRequestsAsync(long runnerId, long now, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var waiting = (await c.QueryAsync<(long Id, long JobId, long ExpiresAt, double Minutes, string? SshKeys)>(DebugSql.AttachWaiting,
            new { RunnerId = runnerId, Queued = DebugStates.Queued, Kind = DebugKinds.Attach })).AsList();
        var taken = new List<AttachRequest>();
        foreach (var session in waiting)
        {
            var expires = now + (long)(session.Minutes * 60_000);
            var changed = await c.ExecuteAsync(DebugSql.Take, new
            {
                session.Id, RunnerId = runnerId, Now = now, ExpiresAt = expires, Queued = DebugStates.Queued, Starting = DebugStates.Starting,
            });
            if (changed == 1) taken.Add(new AttachRequest(session.Id, session.JobId, expires, Auth.SshKeys.StoredLines(session.SshKeys)));
        }
        return taken;
    }

    /// <summary>Gives a session its job token (the hash only): its shell reads the build's artifacts and caches with it.</summary>
    public async Task SetTokenAsync(long id, string tokenHash, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(DebugSql.SetToken, new { Id = id, Hash = tokenHash });
    }

    /// <summary>Whether any session of <paramref name="kind"/> waits.</summary>
    public async Task<bool> AnyQueuedAsync(string kind, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(DebugSql.CountQueued, new { Kind = kind, Queued = DebugStates.Queued }) > 0;
    }

    /// <summary>The shell is open: the session's time counts from now (the first time). False when it had ended meanwhile.</summary>
    public async Task<bool> MarkOpenAsync(long id, long now, string? sshCommand, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(DebugSql.Open, new
        {
            Id = id, Now = now, Ssh = sshCommand, Open = DebugStates.Open, Ended = DebugStates.Ended,
        }) == 1;
    }

    /// <summary>Moves the end to <paramref name="expiresAt"/>; false when the session has ended.</summary>
    public async Task<bool> ExtendAsync(long id, long expiresAt, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(DebugSql.Extend, new { Id = id, ExpiresAt = expiresAt, Ended = DebugStates.Ended }) == 1;
    }

    /// <summary>Puts a session that <paramref name="runnerId"/> took but never connected back in the queue (its job token
    /// goes with it); false when it has moved on meanwhile.</summary>
    public async Task<bool> ReturnToQueueAsync(long id, long runnerId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(DebugSql.ReturnToQueue, new
        {
            Id = id, RunnerId = runnerId, Queued = DebugStates.Queued, Starting = DebugStates.Starting,
        }) == 1;
    }

    /// <summary>Ends the session; false when it had already ended (whoever ends it first gives the reason).</summary>
    public async Task<bool> EndAsync(long id, long now, string reason, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(DebugSql.End, new { Id = id, Now = now, Reason = reason, Ended = DebugStates.Ended }) == 1;
    }
}

internal static class DebugSql
{
    private const string Columns =
        "ds.id, ds.job_id AS JobId, j.name AS JobName, j.status AS JobStatus, j.build_id AS BuildId, b.project_id AS ProjectId, p.slug AS ProjectSlug, " +
        "ds.kind, ds.status, ds.user_id AS UserId, ds.user_name AS UserName, ds.runner_id AS RunnerId, r.name AS RunnerName, " +
        "ds.with_secrets AS WithSecrets, ds.run_setup AS RunSetup, j.image, ds.created_at AS CreatedAt, ds.started_at AS StartedAt, " +
        "ds.ended_at AS EndedAt, ds.expires_at AS ExpiresAt, ds.end_reason AS EndReason, ds.ssh_command AS SshCommand " +
        "FROM debug_sessions ds JOIN jobs j ON j.id = ds.job_id JOIN builds b ON b.id = j.build_id " +
        "JOIN projects p ON p.id = b.project_id LEFT JOIN runners r ON r.id = ds.runner_id";

    public static readonly SqlText Insert = new(
        "INSERT INTO debug_sessions (job_id, kind, status, user_id, user_name, with_secrets, run_setup, minutes, created_at, expires_at) " +
        "VALUES (@JobId, @Kind, @Status, @UserId, @UserName, @WithSecrets, @RunSetup, @Minutes, @Now, @ExpiresAt) RETURNING id",
        "INSERT INTO debug_sessions (job_id, kind, status, user_id, user_name, with_secrets, run_setup, minutes, created_at, expires_at) " +
        "OUTPUT INSERTED.id VALUES (@JobId, @Kind, @Status, @UserId, @UserName, @WithSecrets, @RunSetup, @Minutes, @Now, @ExpiresAt)");

    public const string ById = "SELECT " + Columns + " WHERE ds.id = @Id";

    public const string OpenForJob =
        "SELECT " + Columns + " WHERE ds.job_id = @JobId AND ds.user_id = @UserId AND ds.status <> @Ended ORDER BY ds.id DESC";

    // Read every second by the reaper: the states are listed so the status index finds them among all ended sessions.
    public const string NotEnded =
        "SELECT " + Columns + " WHERE ds.status IN ('" + DebugStates.Queued + "', '" + DebugStates.Starting + "', '" + DebugStates.Open + "') ORDER BY ds.id";

    public const string Queued =
        "SELECT ds.id AS SessionId, " + Runners.RunnerSql.PoolColumns + " FROM debug_sessions ds JOIN jobs j ON j.id = ds.job_id" +
        Runners.RunnerSql.PoolJoins + " WHERE ds.status = @Queued AND ds.kind = @Kind ORDER BY ds.id";

    public const string Claim =
        "UPDATE debug_sessions SET status = @Starting, runner_id = @RunnerId, started_at = @Now WHERE id = @SessionId AND status = @Queued";

    public const string AttachWaiting =
        "SELECT ds.id, ds.job_id AS JobId, ds.expires_at AS ExpiresAt, ds.minutes, u.ssh_keys AS SshKeys FROM debug_sessions ds " +
        "JOIN jobs j ON j.id = ds.job_id JOIN users u ON u.id = ds.user_id " +
        "WHERE ds.kind = @Kind AND ds.status = @Queued AND j.status = 'running' AND j.runner_id = @RunnerId ORDER BY ds.id";

    public const string Take =
        "UPDATE debug_sessions SET status = @Starting, runner_id = @RunnerId, started_at = @Now, expires_at = @ExpiresAt " +
        "WHERE id = @Id AND status = @Queued";

    public const string SetToken = "UPDATE debug_sessions SET token_hash = @Hash WHERE id = @Id";

    public const string ReturnToQueue =
        "UPDATE debug_sessions SET status = @Queued, runner_id = NULL, started_at = NULL, token_hash = NULL " +
        "WHERE id = @Id AND status = @Starting AND runner_id = @RunnerId";

    public const string CountQueued = "SELECT COUNT(*) FROM debug_sessions WHERE kind = @Kind AND status = @Queued";

    // The first "ready" starts the clock; a runner that reconnects (after a portal restart) says it again and changes nothing.
    public const string Open =
        "UPDATE debug_sessions SET ssh_command = @Ssh, " +
        "expires_at = CASE WHEN status = @Open THEN expires_at ELSE @Now + CAST(minutes * 60000 AS BIGINT) END, status = @Open " +
        "WHERE id = @Id AND status <> @Ended";

    public const string Extend = "UPDATE debug_sessions SET expires_at = @ExpiresAt WHERE id = @Id AND status <> @Ended";

    public const string End =
        "UPDATE debug_sessions SET status = @Ended, ended_at = @Now, end_reason = @Reason WHERE id = @Id AND status <> @Ended";
}
