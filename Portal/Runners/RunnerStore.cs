using Dapper;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Data;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Runners;

public sealed class RunnerRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public int Slots { get; init; }
    public string Version { get; init; } = "";
    public string Executors { get; init; } = "";
    public string Labels { get; init; } = "";
    public long CreatedAt { get; init; }
    public long LastSeenAt { get; init; }
}

public sealed class RunningJobRow
{
    public long RunnerId { get; init; }
    public long JobId { get; init; }
    public string JobName { get; init; } = "";
    public long BuildId { get; init; }
    public string ProjectSlug { get; init; } = "";
    public long? StartedAt { get; init; }
}

/// <summary>The outcome of applying one stream batch.</summary>
public enum StreamResult
{
    Applied,
    /// <summary>This sequence number was applied before (a retried upload); nothing changed.</summary>
    Duplicate,
    /// <summary>An earlier batch is missing; the runner must send it first.</summary>
    Gap,
    /// <summary>The job is not running on this runner any more (finished, lost, or unknown).</summary>
    Gone,
}

/// <summary>Runners and the job lifecycle they drive: claim, heartbeat, stream, complete, and the lease reaper.</summary>
public sealed class RunnerStore(Database db, TimeProvider time)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RunnerRow> _byToken = new();

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<long> RegisterAsync(RegisterRequest request, string tokenHash, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(db.Sql(RunnerSql.Insert), new
        {
            request.Name,
            TokenHash = tokenHash,
            request.Slots,
            request.Version,
            Executors = string.Join(',', request.Executors),
            Labels = string.Join(',', request.Labels),
            Now,
        });
    }

    /// <summary>Runner tokens are checked on every runner call, so known ones are kept in memory.</summary>
    public async Task<RunnerRow?> FindByTokenHashAsync(string tokenHash, CancellationToken ct = default)
    {
        if (_byToken.TryGetValue(tokenHash, out var cached)) return cached;
        await using var c = await db.OpenAsync(ct);
        var runner = await c.QuerySingleOrDefaultAsync<RunnerRow>(RunnerSql.ByToken, new { TokenHash = tokenHash });
        if (runner is not null) _byToken[tokenHash] = runner;
        return runner;
    }

    public async Task<IReadOnlyList<RunnerRow>> ListAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<RunnerRow>(RunnerSql.All)).AsList();
    }

    /// <summary>Jobs running now, with the runner that holds each (for the Runners page).</summary>
    public async Task<IReadOnlyList<RunningJobRow>> RunningJobsAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<RunningJobRow>(RunnerSql.RunningJobs)).AsList();
    }

    /// <summary>Atomically takes the oldest queued job for this runner; null when there is none.
    /// Two runners asking at once never get the same job: the update only succeeds on a still-queued row.</summary>
    /// <param name="executors">What the runner offers now (null: what it registered with); only a runner offering
    /// <c>docker</c> gets jobs that run in an image.</param>
    public async Task<JobAssignment?> ClaimAsync(long runnerId, int leaseSeconds, CancellationToken ct = default,
        IReadOnlyList<string>? executors = null)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var offered = executors is null ? null : string.Join(',', executors);
        await c.ExecuteAsync(RunnerSql.TouchWithExecutors, new { Id = runnerId, Now = now, Executors = offered }, tx);
        offered ??= await c.ExecuteScalarAsync<string>(RunnerSql.ExecutorsOf, new { Id = runnerId }, tx) ?? "";
        var docker = offered.Split(',').Contains(DockerExecutor);
        var jobId = await c.ExecuteScalarAsync<long?>(db.Sql(RunnerSql.Claim), new
        {
            RunnerId = runnerId, Now = now, LeaseUntil = now + leaseSeconds * 1000L, Docker = docker,
        }, tx);
        if (jobId is null)
        {
            await tx.CommitAsync(ct);
            return null;
        }
        var assignment = await AssignmentAsync(c, tx, jobId.Value, leaseSeconds);
        var jobToken = await Artifacts.ArtifactStore.IssueJobTokenAsync(c, tx, assignment!.JobId);
        await tx.CommitAsync(ct);
        await BuildStore.RecomputeAsync(db, assignment.BuildId, now, ct);
        return assignment with { JobToken = jobToken };
    }

    /// <summary>A job as it was assigned to run (its commands, image, services, reports), to set it up again for a debug
    /// session; without a job token (the job is over). Null when there is no such job.</summary>
    public async Task<JobAssignment?> AssignmentOfAsync(long jobId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var assignment = await AssignmentAsync(c, tx, jobId, 0);
        await tx.CommitAsync(ct);
        return assignment;
    }

    private static async Task<JobAssignment?> AssignmentAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, long jobId,
        int leaseSeconds)
    {
        var row = await c.QuerySingleOrDefaultAsync<ClaimedJob>(RunnerSql.Assignment, new { Id = jobId }, tx);
        if (row is null) return null;
        var rows = (await c.QueryAsync<CommandRow>(RunnerSql.Commands, new { JobId = jobId }, tx)).AsList();
        var commands = await AssignedCommandsAsync(c, tx, rows);
        return new JobAssignment(row.Id, row.BuildId, row.ProjectSlug, row.Name, row.GitUrl, row.Branch,
            row.CommitSha, commands, new Dictionary<string, string>(), leaseSeconds,
            Reports: row.Reports is null ? null : System.Text.Json.JsonSerializer.Deserialize<List<ReportSpec>>(row.Reports, RunnerJson.Options),
            Image: row.Image,
            Services: row.Services is null ? null : System.Text.Json.JsonSerializer.Deserialize<List<ServiceSpec>>(row.Services, RunnerJson.Options));
    }

    /// <summary>Whether the runner offers Docker: per <paramref name="executors"/> (what it said in this claim), else what it registered with.</summary>
    public async Task<bool> OffersDockerAsync(long runnerId, IReadOnlyList<string>? executors, CancellationToken ct = default)
    {
        if (executors is not null) return executors.Contains(DockerExecutor);
        await using var c = await db.OpenAsync(ct);
        var offered = await c.ExecuteScalarAsync<string>(RunnerSql.ExecutorsOf, new { Id = runnerId }) ?? "";
        return offered.Split(',').Contains(DockerExecutor);
    }

    /// <summary>The executor name a runner offers for jobs with an image.</summary>
    public const string DockerExecutor = "docker";

    /// <summary>Whether a runner that offers <c>docker</c> was seen within <paramref name="within"/> (else jobs with an
    /// image wait, and the build page says why).</summary>
    public async Task<bool> HasDockerRunnerAsync(TimeSpan within, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<string>(RunnerSql.ExecutorsSeenSince, new { Since = Now - (long)within.TotalMilliseconds });
        return rows.Any(e => e.Split(',').Contains(DockerExecutor));
    }

    /// <summary>
    /// The commands a runner runs: a shared script's section carries the script (the version recorded with the build)
    /// and its steps; the steps themselves are not separate commands to run.
    /// </summary>
    private static async Task<List<JobCommand>> AssignedCommandsAsync(System.Data.Common.DbConnection c,
        System.Data.Common.DbTransaction tx, IReadOnlyList<CommandRow> rows)
    {
        var commands = new List<JobCommand>();
        foreach (var row in rows.Where(r => r.ParentIdx is null))
        {
            var command = new JobCommand(row.Idx, BuildStore.ParsePhase(row.Phase), row.Text);
            if (row is { ScriptName: { } name, ScriptVersion: { } version }
                && await Scripts.ScriptStore.VersionAsync(c, tx, name, version) is { } script)
            {
                var steps = rows.Where(r => r.ParentIdx == row.Idx).Select(r => r.Idx).ToList();
                command = command with { Script = Scripts.ScriptPlanner.Call(script, row.Text, steps) };
            }
            commands.Add(command);
        }
        return commands;
    }

    /// <summary>Renews the leases of the runner's jobs; returns which to cancel and which it no longer holds.</summary>
    public async Task<HeartbeatResponse> HeartbeatAsync(long runnerId, IReadOnlyList<long> jobIds, int leaseSeconds,
        CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(RunnerSql.Touch, new { Id = runnerId, Now = now }, tx);
        var held = new List<HeldJob>();
        if (jobIds.Count > 0)
        {
            await c.ExecuteAsync(RunnerSql.Renew, new { RunnerId = runnerId, Ids = jobIds, LeaseUntil = now + leaseSeconds * 1000L }, tx);
            held = (await c.QueryAsync<HeldJob>(RunnerSql.Held, new { RunnerId = runnerId, Ids = jobIds }, tx)).AsList();
        }
        await tx.CommitAsync(ct);
        var cancel = held.Where(h => h.CancelRequested).Select(h => h.Id).ToList();
        var unknown = jobIds.Except(held.Select(h => h.Id)).ToList();
        return new HeartbeatResponse(cancel, unknown);
    }

    /// <summary>Applies one batch of a job's stream exactly once, in order.</summary>
    public async Task<StreamResult> ApplyStreamAsync(long runnerId, long jobId, long seq, StreamBatch batch,
        int leaseSeconds, CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var job = await c.QuerySingleOrDefaultAsync<HeldJob>(RunnerSql.JobState, new { Id = jobId }, tx);
        // A finished job takes nothing more. Checked before duplicates: when a lease runs out, the portal's own
        // "runner lost" note takes the next sequence number, and the lost runner's batch of that number is not a retry.
        if (job is null || job.RunnerId != runnerId || job.Status != Status.Running) return StreamResult.Gone;
        if (seq <= job.LastSeq) return StreamResult.Duplicate;
        if (seq != job.LastSeq + 1) return StreamResult.Gap;

        var bytes = 0L;
        var chunks = batch.Log ?? [];
        for (var part = 0; part < chunks.Count; part++)
        {
            var chunk = chunks[part];
            if (chunk.Data is not { Length: > 0 }) continue;
            bytes += chunk.Data.Length;
            await c.ExecuteAsync(RunnerSql.InsertChunk,
                new { JobId = jobId, Seq = seq, Part = part, CommandIdx = chunk.CommandIndex, chunk.Data }, tx);
        }
        foreach (var e in batch.Events ?? [])
        {
            var sql = e.Kind switch
            {
                CommandEventKind.Started => RunnerSql.CommandStarted,
                CommandEventKind.Finished => RunnerSql.CommandFinished,
                _ => RunnerSql.CommandSkipped,
            };
            await c.ExecuteAsync(sql, new
            {
                JobId = jobId,
                Idx = e.Index,
                At = e.AtUnixMs,
                e.ExitCode,
                e.DurationMs,
                Status = e.ExitCode == 0 ? Status.Passed : Status.Failed,
            }, tx);
        }
        await c.ExecuteAsync(RunnerSql.Advance,
            new { Id = jobId, Seq = seq, Bytes = bytes, LeaseUntil = now + leaseSeconds * 1000L }, tx);
        await tx.CommitAsync(ct);
        return StreamResult.Applied;
    }

    /// <summary>Finishes a job. Returns the build id, or null when the job is not this runner's running job.
    /// Throws <see cref="StreamIncompleteException"/> when batches up to <paramref name="lastSeq"/> have not all arrived.</summary>
    public async Task<long?> CompleteAsync(long runnerId, long jobId, JobOutcome outcome, long lastSeq, string? error,
        CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var job = await c.QuerySingleOrDefaultAsync<HeldJob>(RunnerSql.JobState, new { Id = jobId }, tx);
        if (job is null || job.RunnerId != runnerId || job.Status != Status.Running) return null;
        if (job.LastSeq < lastSeq) throw new StreamIncompleteException(job.LastSeq);
        var status = outcome switch
        {
            JobOutcome.Passed => Status.Passed,
            JobOutcome.Canceled => Status.Canceled,
            _ => Status.Failed,
        };
        await FinishJobAsync(c, tx, job, status, error, now);
        await tx.CommitAsync(ct);
        await BuildStore.RecomputeAsync(db, job.BuildId, now, ct);
        return job.BuildId;
    }

    /// <summary>Fails every running job whose lease ran out ("runner lost"); returns the affected build ids.</summary>
    public async Task<IReadOnlyList<long>> ReapExpiredLeasesAsync(CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var expired = (await c.QueryAsync<HeldJob>(RunnerSql.Expired, new { Now = now }, tx)).AsList();
        foreach (var job in expired)
        {
            const string message = "Runner lost: it stopped sending heartbeats, so the job was failed. The log up to that point is kept.";
            await c.ExecuteAsync(RunnerSql.InsertChunk, new
            {
                JobId = job.Id, Seq = job.LastSeq + 1, Part = 0, CommandIdx = (int?)null,
                Data = System.Text.Encoding.UTF8.GetBytes($"\n{message}\n"),
            }, tx);
            await c.ExecuteAsync(RunnerSql.Advance, new { job.Id, Seq = job.LastSeq + 1, Bytes = 0L, LeaseUntil = now }, tx);
            await FinishJobAsync(c, tx, job, Status.Failed, "runner lost", now);
        }
        await tx.CommitAsync(ct);
        var builds = expired.Select(j => j.BuildId).Distinct().ToList();
        foreach (var buildId in builds) await BuildStore.RecomputeAsync(db, buildId, now, ct);
        return builds;
    }

    /// <summary>After a portal restart, give runners a full lease to reconnect before their jobs count as lost.</summary>
    public async Task ExtendAllLeasesAsync(int leaseSeconds, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(RunnerSql.ExtendAll, new { LeaseUntil = Now + leaseSeconds * 1000L });
    }

    /// <summary>Job changes commit first and the build's status follows in its own short transaction, so two
    /// runners finishing jobs of one build never hold each other's job rows (a deadlock on SQL Server).</summary>
    private static async Task FinishJobAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx,
        HeldJob job, string status, string? error, long now)
    {
        await c.ExecuteAsync(RunnerSql.Finish, new { job.Id, Status = status, Error = error, Now = now }, tx);
        // Whatever the runner did not report is closed: a running command was interrupted, pending ones never ran.
        await c.ExecuteAsync(RunnerSql.CloseCommands, new { JobId = job.Id, Interrupted = status == Status.Canceled ? Status.Canceled : Status.Failed }, tx);
        // A deploy's job finishes its deploy in the same transaction: the deploy's result is its job's.
        await Delivery.DeployStore.FinishOfJobAsync(c, tx, job.Id, status, error, now);
    }

    /// <summary>Where a job comes from, which decides what it may receive: its project, the server when it is a
    /// deploy's job, and whether its build runs a fork's code.</summary>
    public async Task<JobOrigin?> OriginAsync(long jobId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<JobOrigin>(RunnerSql.Origin, new { Id = jobId });
    }

    private sealed class ClaimedJob
    {
        public long Id { get; init; }
        public long BuildId { get; init; }
        public string Name { get; init; } = "";
        public string ProjectSlug { get; init; } = "";
        public string GitUrl { get; init; } = "";
        public string Branch { get; init; } = "";
        public string CommitSha { get; init; } = "";
        public string? Reports { get; init; }
        public string? Image { get; init; }
        public string? Services { get; init; }
    }

    private sealed class HeldJob
    {
        public long Id { get; init; }
        public long BuildId { get; init; }
        public long? RunnerId { get; init; }
        public string Status { get; init; } = "";
        public long LastSeq { get; init; }
        public bool CancelRequested { get; init; }
    }
}

public sealed class StreamIncompleteException(long lastApplied)
    : Exception($"The portal has the job's stream up to batch {lastApplied}; send the rest before completing.")
{
    public long LastApplied { get; } = lastApplied;
}

/// <summary>See <see cref="RunnerStore.OriginAsync"/>.</summary>
public sealed class JobOrigin
{
    public long ProjectId { get; init; }
    public long? ServerId { get; init; }
    public string? ServerName { get; init; }
    public long? DeployId { get; init; }
    public bool FromFork { get; init; }
    public string ForkSecretsJson { get; init; } = "[]";

    /// <summary>The secrets a fork's build may still receive (the project's explicit choice; none by default).</summary>
    public IReadOnlyList<string> ForkSecrets => Projects.ProjectRow.ParseForkSecrets(ForkSecretsJson);
}

internal static class RunnerSql
{
    public const string Origin =
        "SELECT b.project_id AS ProjectId, d.server_id AS ServerId, s.name AS ServerName, d.id AS DeployId, " +
        "b.from_fork AS FromFork, p.fork_secrets AS ForkSecretsJson FROM jobs j JOIN builds b ON b.id = j.build_id " +
        "JOIN projects p ON p.id = b.project_id LEFT JOIN deploys d ON d.id = j.deploy_id " +
        "LEFT JOIN servers s ON s.id = d.server_id WHERE j.id = @Id";

    private const string Columns =
        "id, name, slots, version, executors, labels, created_at AS CreatedAt, last_seen_at AS LastSeenAt";

    public static readonly SqlText Insert = new(
        "INSERT INTO runners (name, token_hash, slots, version, executors, labels, created_at, last_seen_at) " +
        "VALUES (@Name, @TokenHash, @Slots, @Version, @Executors, @Labels, @Now, @Now) RETURNING id",
        "INSERT INTO runners (name, token_hash, slots, version, executors, labels, created_at, last_seen_at) " +
        "OUTPUT INSERTED.id VALUES (@Name, @TokenHash, @Slots, @Version, @Executors, @Labels, @Now, @Now)");

    public const string ByToken = "SELECT " + Columns + " FROM runners WHERE token_hash = @TokenHash";
    public const string All = "SELECT " + Columns + " FROM runners ORDER BY name, id";
    public const string RunningJobs =
        "SELECT j.runner_id AS RunnerId, j.id AS JobId, j.name AS JobName, j.build_id AS BuildId, p.slug AS ProjectSlug, " +
        "j.started_at AS StartedAt FROM jobs j JOIN builds b ON b.id = j.build_id JOIN projects p ON p.id = b.project_id " +
        "WHERE j.status = 'running' ORDER BY j.id";

    public const string Touch = "UPDATE runners SET last_seen_at = @Now WHERE id = @Id";

    public const string TouchWithExecutors =
        "UPDATE runners SET last_seen_at = @Now, executors = COALESCE(@Executors, executors) WHERE id = @Id";

    public const string ExecutorsOf = "SELECT executors FROM runners WHERE id = @Id";

    public const string ExecutorsSeenSince = "SELECT executors FROM runners WHERE last_seen_at >= @Since";

    public static readonly SqlText Claim = new(
        "UPDATE jobs SET status = 'running', runner_id = @RunnerId, lease_expires_at = @LeaseUntil, started_at = @Now " +
        "WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND (image IS NULL OR @Docker = 1) ORDER BY id LIMIT 1) AND status = 'queued' RETURNING id",
        "WITH next AS (SELECT TOP (1) * FROM jobs WITH (UPDLOCK, READPAST, ROWLOCK) WHERE status = 'queued' AND (image IS NULL OR @Docker = 1) ORDER BY id) " +
        "UPDATE next SET status = 'running', runner_id = @RunnerId, lease_expires_at = @LeaseUntil, started_at = @Now " +
        "OUTPUT INSERTED.id");

    public const string Assignment =
        "SELECT j.id, j.build_id AS BuildId, j.name, p.slug AS ProjectSlug, p.git_url AS GitUrl, b.branch, " +
        "b.commit_sha AS CommitSha, j.reports, j.image, j.services FROM jobs j JOIN builds b ON b.id = j.build_id JOIN projects p ON p.id = b.project_id " +
        "WHERE j.id = @Id";

    public const string Commands =
        "SELECT idx, phase, text, parent_idx AS ParentIdx, script_name AS ScriptName, script_version AS ScriptVersion " +
        "FROM commands WHERE job_id = @JobId ORDER BY idx";

    public const string Renew =
        "UPDATE jobs SET lease_expires_at = @LeaseUntil WHERE runner_id = @RunnerId AND status = 'running' AND id IN @Ids";

    public const string Held =
        "SELECT id, build_id AS BuildId, runner_id AS RunnerId, status, last_seq AS LastSeq, cancel_requested AS CancelRequested " +
        "FROM jobs WHERE runner_id = @RunnerId AND status = 'running' AND id IN @Ids";

    public const string JobState =
        "SELECT id, build_id AS BuildId, runner_id AS RunnerId, status, last_seq AS LastSeq, cancel_requested AS CancelRequested " +
        "FROM jobs WHERE id = @Id";

    public const string InsertChunk =
        "INSERT INTO log_chunks (job_id, seq, part, command_idx, data) VALUES (@JobId, @Seq, @Part, @CommandIdx, @Data)";

    public const string CommandStarted =
        "UPDATE commands SET status = 'running', started_at = @At WHERE job_id = @JobId AND idx = @Idx";

    public const string CommandFinished =
        "UPDATE commands SET status = @Status, exit_code = @ExitCode, duration_ms = @DurationMs, " +
        "started_at = COALESCE(started_at, @At - @DurationMs) WHERE job_id = @JobId AND idx = @Idx";

    public const string CommandSkipped =
        "UPDATE commands SET status = 'skipped' WHERE job_id = @JobId AND idx = @Idx AND status = 'pending'";

    public const string Advance =
        "UPDATE jobs SET last_seq = @Seq, log_bytes = log_bytes + @Bytes, lease_expires_at = @LeaseUntil WHERE id = @Id";

    public const string Finish =
        "UPDATE jobs SET status = @Status, error = @Error, finished_at = @Now, lease_expires_at = NULL WHERE id = @Id";

    public const string CloseCommands =
        "UPDATE commands SET status = CASE WHEN status = 'running' THEN @Interrupted ELSE 'skipped' END " +
        "WHERE job_id = @JobId AND status IN ('running', 'pending')";

    public const string Expired =
        "SELECT id, build_id AS BuildId, runner_id AS RunnerId, status, last_seq AS LastSeq, cancel_requested AS CancelRequested " +
        "FROM jobs WHERE status = 'running' AND lease_expires_at < @Now";

    public const string ExtendAll =
        "UPDATE jobs SET lease_expires_at = @LeaseUntil WHERE status = 'running' AND lease_expires_at < @LeaseUntil";
}
