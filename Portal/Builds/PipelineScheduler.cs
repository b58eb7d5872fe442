using System.Data.Common;
using System.Text.Json;
using Dapper;

namespace Kaizen.Portal.Builds;

/// <summary>The words of a job that did not run, kept as its error. Every one starts with "skipped: ".</summary>
public static class SkipReasons
{
    private const string Prefix = "skipped: ";
    private const string UpstreamPrefix = "skipped: block ";

    /// <summary>Its own or its block's condition was false: "skipped: branch feature does not match 'main'".</summary>
    public static string Condition(string why) => Prefix + why;

    /// <summary>A block it depends on did not pass: "skipped: block lint failed".</summary>
    public static string Upstream(string block, string outcome) => $"{UpstreamPrefix}{block} {outcome}";

    /// <summary>Fail fast stopped the build: "skipped: job test failed (fail fast)".</summary>
    public static string FailFast(string job) => $"{Prefix}job {job} failed (fail fast)";

    /// <summary>Whether a skipped job was skipped because of what happened upstream (so its own dependants are too),
    /// rather than by a condition (which lets its dependants run).</summary>
    public static bool IsUpstream(string? error) => error?.StartsWith(UpstreamPrefix, StringComparison.Ordinal) == true
        || error?.StartsWith(Prefix + "job ", StringComparison.Ordinal) == true
        || error?.StartsWith(Prefix + "build ", StringComparison.Ordinal) == true;
}

/// <summary>
/// Moves a build's pipeline on, inside the transaction that changed one of its jobs (see
/// <see cref="BuildStore.RecomputeAsync(DbConnection, DbTransaction, long, long)"/>): every job that waits for blocks
/// joins the queue once they all passed, or is skipped with why once one of them failed; with fail fast, a failed job
/// skips everything not started and asks runners to stop the rest. A block passed when each of its jobs passed or was
/// skipped by a condition. Because it runs wherever a job changes (claim, completion, lost runner, revoke, cancel), no
/// other code decides what runs next.
/// </summary>
public static class PipelineScheduler
{
    public static IReadOnlyList<string> ParseNeeds(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<string>>(json) ?? [];

    /// <summary>Returns whether any job joined the queue (runners may be woken).</summary>
    internal static async Task<bool> AdvanceAsync(DbConnection c, DbTransaction tx, long buildId, long now)
    {
        var build = await c.QuerySingleOrDefaultAsync<BuildFlags>(Sql.Build, new { Id = buildId }, tx);
        if (build is null || build.Status == Status.AwaitingApproval) return false;
        var jobs = (await c.QueryAsync<JobState>(Sql.Jobs, new { BuildId = buildId }, tx)).AsList();
        if (build.FailFast && jobs.Where(j => j.Status == Status.Failed).MinBy(j => j.FinishedAt ?? long.MaxValue) is { } failed)
        {
            await c.ExecuteAsync(Sql.SkipNotStarted, new { BuildId = buildId, Now = now, Reason = SkipReasons.FailFast(failed.Name) }, tx);
            await c.ExecuteAsync(Sql.SkipCommands, new { BuildId = buildId }, tx);
            await c.ExecuteAsync(Sql.StopRunning, new { BuildId = buildId, Reason = $"canceled: job {failed.Name} failed (fail fast)" }, tx);
            return false;
        }
        var queued = false;
        // Skips cascade (a skipped block skips its own dependants), so go round until nothing changes.
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var job in jobs.Where(j => j.Status == Status.Waiting).ToList())
            {
                var outcomes = ParseNeeds(job.Needs).Select(b => (Block: b, Outcome: OutcomeOf(jobs, b))).ToList();
                if (outcomes.FirstOrDefault(o => o.Outcome is not (BlockOutcome.Passed or BlockOutcome.Open)) is { Block: { } bad } blocker)
                {
                    var reason = SkipReasons.Upstream(bad, blocker.Outcome switch
                    {
                        BlockOutcome.Failed => "failed",
                        BlockOutcome.Canceled => "was canceled",
                        _ => "did not run",
                    });
                    await c.ExecuteAsync(Sql.SkipJob, new { job.Id, Now = now, Reason = reason }, tx);
                    job.Status = Status.Skipped;
                    job.Error = reason;
                    changed = true;
                }
                else if (outcomes.All(o => o.Outcome == BlockOutcome.Passed))
                {
                    await c.ExecuteAsync(Sql.QueueJob, new { job.Id, Now = now }, tx);
                    job.Status = Status.Queued;
                    queued = changed = true;
                }
            }
        }
        await c.ExecuteAsync(Sql.SkipCommands, new { BuildId = buildId }, tx);
        return queued;
    }

    private enum BlockOutcome { Open, Passed, Failed, Canceled, Skipped }

    private static BlockOutcome OutcomeOf(IReadOnlyList<JobState> jobs, string block)
    {
        var of = jobs.Where(j => j.Block == block).ToList();
        if (of.Any(j => !Status.IsFinished(j.Status))) return BlockOutcome.Open;
        if (of.Any(j => j.Status == Status.Failed)) return BlockOutcome.Failed;
        if (of.Any(j => j.Status == Status.Canceled)) return BlockOutcome.Canceled;
        if (of.Any(j => j.Status == Status.Skipped && SkipReasons.IsUpstream(j.Error))) return BlockOutcome.Skipped;
        return BlockOutcome.Passed;
    }

    private sealed class BuildFlags
    {
        public string Status { get; init; } = "";
        public bool FailFast { get; init; }
    }

    private sealed class JobState
    {
        public long Id { get; init; }
        public string Name { get; init; } = "";
        public string? Block { get; init; }
        public string? Needs { get; init; }
        public string Status { get; set; } = "";
        public string? Error { get; set; }
        public long? FinishedAt { get; init; }
    }

    private static class Sql
    {
        public const string Build = "SELECT status, fail_fast AS FailFast FROM builds WHERE id = @Id";

        public const string Jobs =
            "SELECT id, name, block, needs, status, error, finished_at AS FinishedAt FROM jobs WHERE build_id = @BuildId AND deploy_id IS NULL";

        public const string QueueJob = "UPDATE jobs SET status = 'queued', queued_at = @Now WHERE id = @Id AND status = 'waiting'";

        public const string SkipJob =
            "UPDATE jobs SET status = 'skipped', error = @Reason, finished_at = @Now WHERE id = @Id AND status = 'waiting'";

        public const string SkipNotStarted =
            "UPDATE jobs SET status = 'skipped', error = @Reason, finished_at = @Now " +
            "WHERE build_id = @BuildId AND deploy_id IS NULL AND status IN ('queued', 'waiting')";

        public const string SkipCommands =
            "UPDATE commands SET status = 'skipped' WHERE status = 'pending' AND job_id IN " +
            "(SELECT id FROM jobs WHERE build_id = @BuildId AND deploy_id IS NULL AND status = 'skipped')";

        public const string StopRunning =
            "UPDATE jobs SET cancel_requested = 1, cancel_reason = COALESCE(cancel_reason, @Reason) " +
            "WHERE build_id = @BuildId AND deploy_id IS NULL AND status = 'running'";
    }
}

/// <summary>Why the portal stopped a running job (kept as its error when the runner reports it stopped).</summary>
public static class CancelReasons
{
    /// <summary>A newer push to the branch (auto-cancel).</summary>
    public static string NewerPush(long newer) => $"canceled by a newer push (build {newer})";

    /// <summary>A job past its own limit (the portal's backstop when a runner did not stop it).</summary>
    public static string JobLimit(TimeSpan limit) => TimeLimits.Reached(limit);

    /// <summary>The whole build past its limit.</summary>
    public static string BuildLimit(TimeSpan limit) => $"build {TimeLimits.Reached(limit)}";

    /// <summary>Whether a job stopped for this reason failed (a time limit) rather than was canceled.</summary>
    public static bool Fails(string reason) => reason.Contains("time limit of ", StringComparison.Ordinal);
}
