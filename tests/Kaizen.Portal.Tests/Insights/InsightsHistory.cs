using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Tests.Insights;

/// <summary>A command as seeded: its phase, text, seconds it took (null: it never ran) and status; a shared script's section
/// names its <paramref name="Script"/>, and the script's steps name their section's index as <paramref name="Parent"/>.</summary>
internal sealed record SeedCommand(string Text, int? Seconds, string Status = "passed", string Phase = "main", string? Script = null,
    int? Version = null, int? Parent = null);

/// <summary>A job as seeded; one that <paramref name="NeverStarted"/> has no start time (canceled while queued).</summary>
internal sealed record SeedJob(string Name, IReadOnlyList<SeedCommand> Commands, bool NeverStarted = false)
{
    public SeedJob(string name, params SeedCommand[] commands) : this(name, (IReadOnlyList<SeedCommand>)commands)
    {
    }
}

/// <summary>
/// Writes a build history with chosen timestamps straight into the database (SQLite): builds with their jobs and
/// commands, servers and deploys (each deploy with its own job of the build, as the portal makes them).
/// </summary>
internal sealed class InsightsHistory(Database db)
{
    private static long Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    /// <summary>A build requested at <paramref name="queuedAt"/> whose first job started <paramref name="queueSeconds"/> later
    /// (null: none ever started; then, like a build canceled while queued, it starts and ends a minute after its request)
    /// and which ended <paramref name="durationSeconds"/> after that. Jobs start one second apart.</summary>
    public async Task<long> BuildAsync(long projectId, string branch, string status, DateTimeOffset queuedAt, int? queueSeconds,
        int durationSeconds, params SeedJob[] jobs)
    {
        var queued = Ms(queuedAt);
        var started = queueSeconds is { } q ? queued + q * 1000L : queued + 60_000;
        var finished = queueSeconds is null ? started : started + durationSeconds * 1000L;
        await using var c = await db.OpenAsync();
        var id = await c.ExecuteScalarAsync<long>(
            "INSERT INTO builds (project_id, branch, commit_sha, commit_message, commit_author, trigger_kind, status, queued_at, started_at, finished_at) " +
            "VALUES (@ProjectId, @Branch, @Sha, 'a change', 'Dev', 'push', @Status, @Queued, @Started, @Finished) RETURNING id",
            new { ProjectId = projectId, Branch = branch, Sha = Guid.NewGuid().ToString("N"), Status = status, Queued = queued, Started = started, Finished = finished });
        for (var i = 0; i < jobs.Length; i++)
        {
            var job = jobs[i];
            var jobStarted = queueSeconds is null || job.NeverStarted ? (long?)null : started + i * 1000L;
            await AddJobAsync(c, id, job, i, queued, jobStarted, finished, deployId: null);
        }
        return id;
    }

    public async Task<long> ServerAsync(long projectId, string name)
    {
        await using var c = await db.OpenAsync();
        return await c.ExecuteScalarAsync<long>(
            "INSERT INTO servers (project_id, name, commands_json, trigger_mode, branch_pattern, deployers, approvals, created_at, created_by, updated_at, updated_by) " +
            "VALUES (@ProjectId, @Name, '[\"./deploy.sh\"]', 'manual', '', 'members', 0, 0, 'admin', 0, 'admin') RETURNING id",
            new { ProjectId = projectId, Name = name });
    }

    /// <summary>A deploy of <paramref name="buildId"/> that ended at <paramref name="finishedAt"/>, its job running <paramref name="job"/>.</summary>
    public async Task<long> DeployAsync(long serverId, long buildId, string status, DateTimeOffset finishedAt, SeedJob job)
    {
        var finished = Ms(finishedAt);
        await using var c = await db.OpenAsync();
        var id = await c.ExecuteScalarAsync<long>(
            "INSERT INTO deploys (server_id, build_id, status, trigger_kind, requested_by, requested_at, approvals_required, started_at, finished_at) " +
            "VALUES (@ServerId, @BuildId, @Status, 'manual', 'admin', @Started, 0, @Started, @Finished) RETURNING id",
            new { ServerId = serverId, BuildId = buildId, Status = status, Started = finished - 30_000, Finished = finished });
        // A deploy job starts early here on purpose: it must count neither toward queue time nor toward the commands.
        var jobId = await AddJobAsync(c, buildId, job, 99, finished - 3_600_000, finished - 3_600_000, finished, id);
        await c.ExecuteAsync("UPDATE deploys SET job_id = @JobId WHERE id = @Id", new { JobId = jobId, Id = id });
        return id;
    }

    private static async Task<long> AddJobAsync(System.Data.Common.DbConnection c, long buildId, SeedJob job, int position, long queued,
        long? started, long finished, long? deployId)
    {
        var jobId = await c.ExecuteScalarAsync<long>(
            "INSERT INTO jobs (build_id, name, position, status, queued_at, started_at, finished_at, deploy_id) " +
            "VALUES (@BuildId, @Name, @Position, @Status, @Queued, @Started, @Finished, @DeployId) RETURNING id",
            new { BuildId = buildId, job.Name, Position = position, Status = started is null ? "canceled" : "passed", Queued = queued, Started = started,
                Finished = finished, DeployId = deployId });
        for (var i = 0; i < job.Commands.Count; i++)
        {
            var command = job.Commands[i];
            await c.ExecuteAsync(
                "INSERT INTO commands (job_id, idx, phase, text, status, started_at, duration_ms, exit_code, parent_idx, script_name, script_version) " +
                "VALUES (@JobId, @Idx, @Phase, @Text, @Status, @Started, @DurationMs, @ExitCode, @Parent, @Script, @Version)",
                new { JobId = jobId, Idx = i, command.Phase, command.Text, command.Status, Started = started, command.Parent, command.Script, command.Version,
                    DurationMs = command.Seconds * 1000L, ExitCode = command.Seconds is null ? (int?)null : command.Status == "failed" ? 1 : 0 });
        }
        return jobId;
    }
}
