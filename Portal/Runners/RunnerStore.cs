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

    /// <summary><see cref="RunnerSandbox.Bubblewrap"/> or <see cref="RunnerSandbox.None"/>.</summary>
    public string Sandbox { get; init; } = RunnerSandbox.None;

    /// <summary>The remote address of its last claim or heartbeat.</summary>
    public string? LastAddress { get; init; }

    public long? RevokedAt { get; init; }
    public string? RevokedBy { get; init; }
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
    /// <summary>Another runner claimed the job, or none did; nothing changed.</summary>
    NotClaimed,
    /// <summary>The lease token is missing or not this claim's; nothing changed.</summary>
    WrongLease,
}

/// <summary>Whether a runner's call about a job carries that job's claim.</summary>
public enum LeaseCheck
{
    Held,
    /// <summary>The runner's own claim, but the job is over (finished, canceled, lost) or unknown.</summary>
    Gone,
    NotClaimed,
    WrongLease,
}

/// <summary>The runner was revoked (or never existed): its token counts for nothing.</summary>
public sealed class RunnerRevokedException(long runnerId)
    : Exception($"Runner {runnerId} was revoked by an admin; register a new runner to run jobs again.");

/// <summary>A call about a job without that job's claim; see <see cref="LeaseCheck"/>.</summary>
public sealed class LeaseRefusedException(long jobId, LeaseCheck check) : Exception(RunnerStore.Describe(check, jobId))
{
    public LeaseCheck Check { get; } = check;
}

/// <summary>A revoked runner and the jobs that failed with it.</summary>
public sealed record RevokedRunner(RunnerRow Runner, IReadOnlyList<long> FailedJobIds, IReadOnlyList<long> BuildIds);

/// <summary>Runners and the job lifecycle they drive: claim, heartbeat, stream, complete, and the lease reaper.</summary>
public sealed class RunnerStore(Database db, TimeProvider time)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RunnerRow> _byToken = new();

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<long> RegisterAsync(RegisterRequest request, string tokenHash, CancellationToken ct = default,
        string? address = null)
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
            Sandbox = RunnerSandbox.Normalize(request.Sandbox),
            Address = address,
            Now,
        });
    }

    /// <summary>Runner tokens are checked on every runner call, so known ones are kept in memory; a revoke evicts its
    /// runner, and claims and heartbeats check the database as well (another portal process may have revoked it).</summary>
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

    /// <summary>How many slots each runner has in use (running jobs and debug sessions), by runner id.</summary>
    public async Task<IReadOnlyDictionary<long, int>> SlotsInUseAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<(long RunnerId, int Used)>(RunnerSql.SlotsInUseByRunner);
        return rows.GroupBy(r => r.RunnerId).ToDictionary(g => g.Key, g => g.Sum(r => r.Used));
    }

    /// <summary>Jobs running now, with the runner that holds each (for the Runners page).</summary>
    public async Task<IReadOnlyList<RunningJobRow>> RunningJobsAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<RunningJobRow>(RunnerSql.RunningJobs)).AsList();
    }

    /// <summary>
    /// Atomically takes the oldest queued job this runner may run; null when there is none, or when the runner's slots
    /// are all in use (its running jobs and the debug sessions it holds). The job goes with a fresh lease token, stored
    /// hashed: everything the runner reports about the job must carry it. Two runners asking at once never get the same
    /// job: the update only succeeds on a still-queued row.
    /// </summary>
    /// <param name="executors">What the runner offers now (null: what it registered with); only a runner offering
    /// <c>docker</c> gets jobs that run in an image.</param>
    /// <param name="sandbox">What the runner says confines its jobs now (null: unchanged). Only a step down counts here: a
    /// stolen runner token must not buy public or fork jobs by claiming a sandbox.</param>
    /// <param name="address">The remote address of the request, shown on the Runners page.</param>
    /// <exception cref="RunnerRevokedException">The runner was revoked.</exception>
    public async Task<JobAssignment?> ClaimAsync(long runnerId, int leaseSeconds, CancellationToken ct = default,
        IReadOnlyList<string>? executors = null, string? sandbox = null, string? address = null)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // The runner's row is written first: concurrent claims of one runner queue up here, so the slot count below holds.
        await CheckInAsync(c, tx, runnerId, now, executors, sandbox, address);
        var runner = await c.QuerySingleAsync<RunnerRow>(RunnerSql.ById, new { Id = runnerId }, tx);
        if (await SlotsInUseAsync(c, tx, runnerId) >= runner.Slots)
        {
            await tx.CommitAsync(ct);
            return null;
        }
        var offer = OfferOf(runner);
        var tried = new HashSet<long>();
        while (true)
        {
            JobPoolRow? next = null;
            await foreach (var candidate in c.QueryUnbufferedAsync<JobPoolRow>(RunnerSql.QueuedJobs, transaction: tx).WithCancellation(ct))
            {
                if (tried.Contains(candidate.Id) || !RunnerPools.Fits(RunnerPools.NeedsOf(candidate), offer)) continue;
                next = candidate;
                break;
            }
            if (next is null)
            {
                await tx.CommitAsync(ct);
                return null;
            }
            tried.Add(next.Id);
            var lease = Auth.Tokens.New("kzl_");
            var taken = await c.ExecuteAsync(RunnerSql.ClaimJob, new
            {
                next.Id, RunnerId = runnerId, Now = now, LeaseUntil = now + leaseSeconds * 1000L, LeaseHash = Auth.Tokens.Hash(lease),
            }, tx);
            // Another portal process took it between the read and the update: try the next one.
            if (taken == 0) continue;
            var assignment = await AssignmentAsync(c, tx, next.Id, leaseSeconds);
            var jobToken = await Artifacts.ArtifactStore.IssueJobTokenAsync(c, tx, assignment!.JobId);
            await tx.CommitAsync(ct);
            await BuildStore.RecomputeAsync(db, assignment.BuildId, now, ct);
            return assignment with { JobToken = jobToken, LeaseToken = lease };
        }
    }

    /// <summary>Records that the runner asked for work (when, from where, what it offers); refuses a revoked runner.</summary>
    private static async Task CheckInAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, long runnerId,
        long now, IReadOnlyList<string>? executors, string? sandbox, string? address)
    {
        var changed = await c.ExecuteAsync(RunnerSql.CheckIn, new
        {
            Id = runnerId,
            Now = now,
            Executors = executors is null ? null : string.Join(',', executors),
            Address = address,
            Sandbox = sandbox is null ? null : RunnerSandbox.Normalize(sandbox),
        }, tx);
        if (changed == 0) throw new RunnerRevokedException(runnerId);
    }

    private static Task<int> SlotsInUseAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, long runnerId) =>
        c.ExecuteScalarAsync<int>(RunnerSql.SlotsInUse, new { RunnerId = runnerId }, tx);

    private static RunnerOffer OfferOf(RunnerRow runner) =>
        new(RunnerPools.Parse(runner.Labels), runner.Sandbox, runner.Executors.Split(',').Contains(DockerExecutor));

    /// <summary>What the runner offers and how many of its slots are free, for claims of other kinds of work (debug
    /// sessions); null when it was revoked.</summary>
    public async Task<(RunnerOffer Offer, int FreeSlots)?> OfferAsync(long runnerId, IReadOnlyList<string>? executors,
        CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var runner = await c.QuerySingleOrDefaultAsync<RunnerRow>(RunnerSql.ById, new { Id = runnerId }, tx);
        if (runner is null || runner.RevokedAt is not null) return null;
        var used = await SlotsInUseAsync(c, tx, runnerId);
        await tx.CommitAsync(ct);
        var offer = OfferOf(runner);
        if (executors is not null) offer = offer with { Docker = executors.Contains(DockerExecutor) };
        return (offer, runner.Slots - used);
    }

    /// <summary>
    /// Why a queued job still waits, when no runner seen within <paramref name="within"/> could take it (labels, sandbox,
    /// Docker): "waiting for a runner labelled protected". Null when one could, or the job is not queued.
    /// </summary>
    public async Task<string?> WaitingReasonAsync(long jobId, TimeSpan within, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var job = await c.QuerySingleOrDefaultAsync<JobPoolRow>(RunnerSql.QueuedJob, new { Id = jobId });
        if (job is null) return null;
        var needs = RunnerPools.NeedsOf(job);
        var runners = await c.QueryAsync<RunnerRow>(RunnerSql.SeenSince, new { Since = Now - (long)within.TotalMilliseconds });
        return runners.Any(r => RunnerPools.Fits(needs, OfferOf(r))) ? null : RunnerPools.Describe(needs);
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
            // The job's own variables (settings, block, job, matrix); the project's environment is laid under them when
            // the job is handed out, and secrets over them on the runner.
            row.CommitSha, commands, row.Env is null ? new Dictionary<string, string>()
                : System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(row.Env) ?? [], leaseSeconds,
            Reports: row.Reports is null ? null : System.Text.Json.JsonSerializer.Deserialize<List<ReportSpec>>(row.Reports, RunnerJson.Options),
            Image: row.Image,
            Services: row.Services is null ? null : System.Text.Json.JsonSerializer.Deserialize<List<ServiceSpec>>(row.Services, RunnerJson.Options),
            TimeLimitSeconds: row.TimeLimitSeconds);
    }

    /// <summary>Runners that asked for work within this long count as there (for "waiting for a runner …" hints).</summary>
    public static readonly TimeSpan SeenWithin = TimeSpan.FromMinutes(2);

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

    /// <summary>Renews the leases of the runner's jobs that come with their lease token; returns which to cancel, and as
    /// unknown the jobs it does not hold (or named without their lease).</summary>
    /// <exception cref="RunnerRevokedException">The runner was revoked.</exception>
    public async Task<HeartbeatResponse> HeartbeatAsync(long runnerId, HeartbeatRequest request, int leaseSeconds,
        CancellationToken ct = default, string? address = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var leases = (request.Leases ?? []).GroupBy(l => l.JobId).ToDictionary(g => g.Key, g => g.First().Lease);
        var ids = (request.JobIds ?? []).Concat(leases.Keys).Distinct().ToList();
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await CheckInAsync(c, tx, runnerId, now, null, null, address);
        var held = new List<HeldJob>();
        if (ids.Count > 0)
        {
            held = (await c.QueryAsync<HeldJob>(RunnerSql.Held, new { RunnerId = runnerId, Ids = ids }, tx))
                .Where(h => Check(h, runnerId, leases.GetValueOrDefault(h.Id)) == LeaseCheck.Held).ToList();
            if (held.Count > 0)
                await c.ExecuteAsync(RunnerSql.Renew, new { RunnerId = runnerId, Ids = held.Select(h => h.Id).ToList(), LeaseUntil = now + leaseSeconds * 1000L }, tx);
        }
        await tx.CommitAsync(ct);
        var cancel = held.Where(h => h.CancelRequested).Select(h => h.Id).ToList();
        var unknown = ids.Except(held.Select(h => h.Id)).ToList();
        return new HeartbeatResponse(cancel, unknown);
    }

    /// <summary>Whether <paramref name="lease"/> is the claim of <paramref name="runnerId"/> on the job, and the job still runs.</summary>
    public async Task<LeaseCheck> CheckLeaseAsync(long runnerId, long jobId, string? lease, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var job = await c.QuerySingleOrDefaultAsync<HeldJob>(RunnerSql.JobState, new { Id = jobId });
        return job is null ? LeaseCheck.Gone : Check(job, runnerId, lease);
    }

    /// <summary>The one place that decides whether a runner's call about a job carries its claim. The runner is checked
    /// before the lease, and both before the job's state, so a stranger learns nothing about jobs it did not claim.</summary>
    private static LeaseCheck Check(HeldJob job, long runnerId, string? lease)
    {
        if (job.RunnerId != runnerId) return LeaseCheck.NotClaimed;
        if (string.IsNullOrEmpty(lease) || job.LeaseHash is null
            || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(Auth.Tokens.Hash(lease)), System.Text.Encoding.ASCII.GetBytes(job.LeaseHash)))
            return LeaseCheck.WrongLease;
        return job.Status == Status.Running ? LeaseCheck.Held : LeaseCheck.Gone;
    }

    /// <summary>Words for a refused call, for the runner's log.</summary>
    public static string Describe(LeaseCheck check, long jobId) => check switch
    {
        LeaseCheck.NotClaimed => $"Job {jobId} was not claimed by this runner.",
        LeaseCheck.WrongLease => $"The lease token for job {jobId} is missing or wrong: send the {RunnerRoutes.LeaseHeader} its claim returned.",
        LeaseCheck.Gone => $"Job {jobId} is not running on this runner.",
        _ => $"Job {jobId} is held by this runner.",
    };

    /// <summary>Applies one batch of a job's stream exactly once, in order.</summary>
    public async Task<StreamResult> ApplyStreamAsync(long runnerId, long jobId, string? lease, long seq, StreamBatch batch,
        int leaseSeconds, CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var found = await c.QuerySingleOrDefaultAsync<HeldJob>(RunnerSql.JobState, new { Id = jobId }, tx);
        // A finished job takes nothing more. Checked before duplicates: when a lease runs out, the portal's own
        // "runner lost" note takes the next sequence number, and the lost runner's batch of that number is not a retry.
        if (found is not { } job) return StreamResult.Gone;
        switch (Check(job, runnerId, lease))
        {
            case LeaseCheck.Gone: return StreamResult.Gone;
            case LeaseCheck.NotClaimed: return StreamResult.NotClaimed;
            case LeaseCheck.WrongLease: return StreamResult.WrongLease;
        }
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

    /// <summary>Finishes a job. Returns the build id, or null when the job is this runner's but no longer running.
    /// Throws <see cref="StreamIncompleteException"/> when batches up to <paramref name="lastSeq"/> have not all arrived, and
    /// <see cref="LeaseRefusedException"/> (changing nothing) when the job is not this runner's claim or the lease is wrong.</summary>
    public async Task<long?> CompleteAsync(long runnerId, long jobId, string? lease, JobOutcome outcome, long lastSeq, string? error,
        CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var found = await c.QuerySingleOrDefaultAsync<HeldJob>(RunnerSql.JobState, new { Id = jobId }, tx);
        if (found is not { } job) return null;
        var check = Check(job, runnerId, lease);
        if (check is LeaseCheck.NotClaimed or LeaseCheck.WrongLease) throw new LeaseRefusedException(jobId, check);
        if (check == LeaseCheck.Gone) return null;
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

    /// <summary>
    /// Revokes a runner: its token is refused from now on (in this process at once; in others at its next claim or
    /// heartbeat, which read the database) and its running jobs fail as "runner revoked", their logs so far kept.
    /// Null when there is no such runner; a second revoke changes nothing and fails nothing.
    /// </summary>
    public async Task<RevokedRunner?> RevokeAsync(long runnerId, string actor, CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(RunnerSql.Revoke, new { Id = runnerId, Now = now, Actor = actor }, tx);
        var runner = await c.QuerySingleOrDefaultAsync<RunnerRow>(RunnerSql.ById, new { Id = runnerId }, tx);
        if (runner is null)
        {
            await tx.CommitAsync(ct);
            return null;
        }
        var running = (await c.QueryAsync<HeldJob>(RunnerSql.RunningOf, new { RunnerId = runnerId }, tx)).AsList();
        foreach (var job in running)
        {
            await c.ExecuteAsync(RunnerSql.InsertChunk, new
            {
                JobId = job.Id, Seq = job.LastSeq + 1, Part = 0, CommandIdx = (int?)null,
                Data = System.Text.Encoding.UTF8.GetBytes($"\nRunner revoked by {actor}: the job was failed. The log up to that point is kept.\n"),
            }, tx);
            await c.ExecuteAsync(RunnerSql.Advance, new { job.Id, Seq = job.LastSeq + 1, Bytes = 0L, LeaseUntil = now }, tx);
            await FinishJobAsync(c, tx, job, Status.Failed, "runner revoked", now);
        }
        await tx.CommitAsync(ct);
        foreach (var (hash, cached) in _byToken)
            if (cached.Id == runnerId) _byToken.TryRemove(hash, out _);
        var builds = running.Select(j => j.BuildId).Distinct().ToList();
        foreach (var buildId in builds) await BuildStore.RecomputeAsync(db, buildId, now, ct);
        return new RevokedRunner(runner, running.Select(j => j.Id).ToList(), builds);
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
        // The portal stopped it (fail fast, a newer push, a time limit): its words say why, and a time limit fails it.
        if (job.CancelReason is { } reason && status == Status.Canceled)
        {
            error = reason;
            if (CancelReasons.Fails(reason)) status = Status.Failed;
        }
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
        public string? Env { get; init; }
        public int? TimeLimitSeconds { get; init; }
    }

    private sealed class HeldJob
    {
        public long Id { get; init; }
        public long BuildId { get; init; }
        public long? RunnerId { get; init; }
        public string Status { get; init; } = "";
        public long LastSeq { get; init; }
        public bool CancelRequested { get; init; }
        public string? LeaseHash { get; init; }
        public string? CancelReason { get; init; }
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
        "id, name, slots, version, executors, labels, created_at AS CreatedAt, last_seen_at AS LastSeenAt, sandbox, " +
        "last_address AS LastAddress, revoked_at AS RevokedAt, revoked_by AS RevokedBy";

    public static readonly SqlText Insert = new(
        "INSERT INTO runners (name, token_hash, slots, version, executors, labels, sandbox, last_address, created_at, last_seen_at) " +
        "VALUES (@Name, @TokenHash, @Slots, @Version, @Executors, @Labels, @Sandbox, @Address, @Now, @Now) RETURNING id",
        "INSERT INTO runners (name, token_hash, slots, version, executors, labels, sandbox, last_address, created_at, last_seen_at) " +
        "OUTPUT INSERTED.id VALUES (@Name, @TokenHash, @Slots, @Version, @Executors, @Labels, @Sandbox, @Address, @Now, @Now)");

    public const string ByToken = "SELECT " + Columns + " FROM runners WHERE token_hash = @TokenHash";
    public const string ById = "SELECT " + Columns + " FROM runners WHERE id = @Id";
    public const string SeenSince = "SELECT " + Columns + " FROM runners WHERE last_seen_at >= @Since AND revoked_at IS NULL";

    // A runner may only step its sandbox down here (see RunnerStore.ClaimAsync).
    public const string CheckIn =
        "UPDATE runners SET last_seen_at = @Now, executors = COALESCE(@Executors, executors), " +
        "last_address = COALESCE(@Address, last_address), " +
        "sandbox = CASE WHEN @Sandbox = 'none' THEN 'none' ELSE sandbox END WHERE id = @Id AND revoked_at IS NULL";

    public const string Revoke =
        "UPDATE runners SET revoked_at = @Now, revoked_by = @Actor WHERE id = @Id AND revoked_at IS NULL";

    public const string RunningOf =
        "SELECT id, build_id AS BuildId, runner_id AS RunnerId, status, last_seq AS LastSeq, cancel_requested AS CancelRequested, " +
        "lease_hash AS LeaseHash FROM jobs WHERE runner_id = @RunnerId AND status = 'running'";

    // Running jobs and the debug sessions (not shells attached to a running job) that hold one of the runner's slots.
    public const string SlotsInUse =
        "SELECT (SELECT COUNT(*) FROM jobs WHERE runner_id = @RunnerId AND status = 'running') + " +
        "(SELECT COUNT(*) FROM debug_sessions WHERE runner_id = @RunnerId AND kind = 'debug' AND status IN ('starting', 'open'))";

    public const string SlotsInUseByRunner =
        "SELECT runner_id AS RunnerId, COUNT(*) AS Used FROM jobs WHERE status = 'running' AND runner_id IS NOT NULL GROUP BY runner_id " +
        "UNION ALL SELECT runner_id, COUNT(*) FROM debug_sessions WHERE kind = 'debug' AND status IN ('starting', 'open') " +
        "AND runner_id IS NOT NULL GROUP BY runner_id";

    /// <summary>What decides where a job may run (see <see cref="RunnerPools.NeedsOf"/>), selected from jobs j.</summary>
    internal const string PoolColumns =
        "j.id, j.image, p.is_public AS IsPublic, b.from_fork AS FromFork, p.runner_labels AS ProjectLabels, " +
        "p.fork_runner_labels AS ForkLabels, j.deploy_id AS DeployId, s.runner_labels AS ServerLabels, " +
        "s.approvals AS ServerApprovals, s.deployers AS ServerDeployers";

    internal const string PoolJoins =
        " JOIN builds b ON b.id = j.build_id JOIN projects p ON p.id = b.project_id " +
        "LEFT JOIN deploys d ON d.id = j.deploy_id LEFT JOIN servers s ON s.id = d.server_id";

    public const string QueuedJobs = "SELECT " + PoolColumns + " FROM jobs j" + PoolJoins + " WHERE j.status = 'queued' ORDER BY j.id";

    public const string QueuedJob = "SELECT " + PoolColumns + " FROM jobs j" + PoolJoins + " WHERE j.id = @Id AND j.status = 'queued'";

    public const string ClaimJob =
        "UPDATE jobs SET status = 'running', runner_id = @RunnerId, lease_expires_at = @LeaseUntil, started_at = @Now, " +
        "lease_hash = @LeaseHash WHERE id = @Id AND status = 'queued'";
    public const string All = "SELECT " + Columns + " FROM runners ORDER BY name, id";
    public const string RunningJobs =
        "SELECT j.runner_id AS RunnerId, j.id AS JobId, j.name AS JobName, j.build_id AS BuildId, p.slug AS ProjectSlug, " +
        "j.started_at AS StartedAt FROM jobs j JOIN builds b ON b.id = j.build_id JOIN projects p ON p.id = b.project_id " +
        "WHERE j.status = 'running' ORDER BY j.id";

    public const string ExecutorsOf = "SELECT executors FROM runners WHERE id = @Id";

    public const string ExecutorsSeenSince = "SELECT executors FROM runners WHERE last_seen_at >= @Since";

    public const string Assignment =
        "SELECT j.id, j.build_id AS BuildId, j.name, p.slug AS ProjectSlug, p.git_url AS GitUrl, b.branch, " +
        "b.commit_sha AS CommitSha, j.reports, j.image, j.services, j.env, j.time_limit_seconds AS TimeLimitSeconds FROM jobs j JOIN builds b ON b.id = j.build_id JOIN projects p ON p.id = b.project_id " +
        "WHERE j.id = @Id";

    public const string Commands =
        "SELECT idx, phase, text, parent_idx AS ParentIdx, script_name AS ScriptName, script_version AS ScriptVersion " +
        "FROM commands WHERE job_id = @JobId ORDER BY idx";

    public const string Renew =
        "UPDATE jobs SET lease_expires_at = @LeaseUntil WHERE runner_id = @RunnerId AND status = 'running' AND id IN @Ids";

    public const string Held =
        "SELECT id, build_id AS BuildId, runner_id AS RunnerId, status, last_seq AS LastSeq, cancel_requested AS CancelRequested, " +
        "lease_hash AS LeaseHash FROM jobs WHERE runner_id = @RunnerId AND status = 'running' AND id IN @Ids";

    public const string JobState =
        "SELECT id, build_id AS BuildId, runner_id AS RunnerId, status, last_seq AS LastSeq, cancel_requested AS CancelRequested, " +
        "lease_hash AS LeaseHash, cancel_reason AS CancelReason FROM jobs WHERE id = @Id";

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
