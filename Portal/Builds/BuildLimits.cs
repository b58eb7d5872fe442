using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Builds;

/// <summary>
/// Enforces time limits the portal owns: a build over its <see cref="BuildSettings.BuildTimeLimit"/> has its jobs that
/// did not start skipped and its running ones stopped, which then fail with "build time limit of … reached". A job's
/// own limit is the runner's to enforce (it stops the job at once); a job still running well past it, under a runner
/// that did not stop it, is stopped from here the same way, so no job outlives its limit by more than
/// <see cref="Grace"/>.
/// </summary>
public sealed class BuildLimits(Database db, LiveUpdates live, TimeProvider time, ILogger<BuildLimits> logger) : BackgroundService
{
    /// <summary>How long past its own limit a job may run before the portal stops it (the runner normally has by then).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Enforcing build time limits failed");
            }
        }
    }

    /// <summary>One pass over running builds and jobs; returns the builds it stopped something of.</summary>
    public async Task<IReadOnlyList<long>> SweepAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var touched = new List<long>();
        await using var c = await db.OpenAsync(ct);
        var over = (await c.QueryAsync<(long Id, long Seconds)>(Sql.BuildsOverLimit, new { Now = now })).AsList();
        foreach (var (buildId, seconds) in over)
        {
            var limit = TimeSpan.FromSeconds(seconds);
            await using var tx = await c.BeginTransactionAsync(ct);
            await c.ExecuteAsync(Sql.SkipNotStarted, new { BuildId = buildId, Now = now, Reason = $"skipped: {CancelReasons.BuildLimit(limit)}" }, tx);
            await c.ExecuteAsync(Sql.StopRunning, new { BuildId = buildId, Reason = CancelReasons.BuildLimit(limit) }, tx);
            await c.ExecuteAsync(Sql.MarkBuild, new { Id = buildId, Reason = CancelReasons.BuildLimit(limit) }, tx);
            await BuildStore.RecomputeAsync(c, tx, buildId, now);
            await tx.CommitAsync(ct);
            touched.Add(buildId);
        }
        var jobs = (await c.QueryAsync<(long Id, long BuildId, long Seconds)>(Sql.JobsOverLimit,
            new { Now = now, GraceMs = (long)Grace.TotalMilliseconds })).AsList();
        foreach (var (jobId, buildId, seconds) in jobs)
        {
            await c.ExecuteAsync(Sql.StopJob, new { Id = jobId, Reason = CancelReasons.JobLimit(TimeSpan.FromSeconds(seconds)) });
            touched.Add(buildId);
        }
        foreach (var id in touched.Distinct()) live.Publish(LiveUpdates.Keys.Build(id), LiveUpdates.Keys.Dashboard);
        return touched;
    }

    private static class Sql
    {
        public const string BuildsOverLimit =
            "SELECT id, time_limit_seconds FROM builds WHERE status = 'running' AND time_limit_seconds IS NOT NULL " +
            "AND cancel_reason IS NULL AND started_at + time_limit_seconds * 1000 < @Now";

        public const string SkipNotStarted =
            "UPDATE jobs SET status = 'skipped', error = @Reason, finished_at = @Now " +
            "WHERE build_id = @BuildId AND deploy_id IS NULL AND status IN ('queued', 'waiting')";

        public const string StopRunning =
            "UPDATE jobs SET cancel_requested = 1, cancel_reason = @Reason WHERE build_id = @BuildId AND deploy_id IS NULL AND status = 'running'";

        public const string MarkBuild = "UPDATE builds SET cancel_reason = @Reason WHERE id = @Id";

        public const string JobsOverLimit =
            "SELECT id, build_id, time_limit_seconds FROM jobs WHERE status = 'running' AND cancel_requested = 0 " +
            "AND time_limit_seconds IS NOT NULL AND started_at + time_limit_seconds * 1000 + @GraceMs < @Now";

        public const string StopJob =
            "UPDATE jobs SET cancel_requested = 1, cancel_reason = @Reason WHERE id = @Id AND status = 'running'";
    }
}
