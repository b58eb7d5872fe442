using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Insights;

/// <summary>A build as the insights read it. <see cref="FirstJobStartedAt"/> is when the first of its own jobs (not a
/// deploy's) was claimed by a runner; null when none ever started.</summary>
public sealed class BuildSample
{
    public long ProjectId { get; init; }
    public long Id { get; init; }
    public string Branch { get; init; } = "";
    public string Status { get; init; } = "";
    public long QueuedAt { get; init; }
    public long? StartedAt { get; init; }
    public long? FinishedAt { get; init; }
    public long? FirstJobStartedAt { get; init; }
}

/// <summary>One finished command of a build's job, with its duration. A shared script runs as a section (a command of the
/// settings, <see cref="Script"/> set) followed by its steps (<see cref="ParentIdx"/> set, <see cref="Script"/> the section's).</summary>
public sealed class CommandSample
{
    public long BuildId { get; init; }
    public string Job { get; init; } = "";
    public string Phase { get; init; } = "";
    public string Text { get; init; } = "";
    /// <summary>How long it ran; 0 when it did not finish (<see cref="Finished"/> false).</summary>
    public long DurationMs { get; init; }
    public int? ParentIdx { get; init; }
    public string? Script { get; init; }

    /// <summary>The branch of its build.</summary>
    public string Branch { get; init; } = "";

    /// <summary>It ran to an end (passed or failed) and has a duration. Commands that were skipped or never reached are
    /// read too: they say which commands a job still has, even when a failure stopped it before them.</summary>
    public bool Finished { get; init; }
}

/// <summary>A server, and one of its passed deploys in the window when <see cref="DeployId"/> is set.</summary>
public sealed class DeploySample
{
    public long ProjectId { get; init; }
    public string Server { get; init; } = "";
    public long? DeployId { get; init; }
    public long? BuildId { get; init; }
    public string? Branch { get; init; }
    public string? CommitSha { get; init; }
    public long? BuildQueuedAt { get; init; }
    public long? FinishedAt { get; init; }

    /// <summary>How the deploy was asked for (<c>rollback</c>: an older build put back) and when.</summary>
    public string? TriggerKind { get; init; }

    /// <inheritdoc cref="TriggerKind"/>
    public long? RequestedAt { get; init; }
}

/// <summary>
/// The set-based reads behind the insights: every figure is computed in C# (<see cref="InsightsCalculator"/>) from these
/// rows, so both databases give the same numbers. Each read is bounded by the window (and the builds' index on
/// project and request time, migration 0009).
/// </summary>
public sealed class InsightsStore(Database db)
{
    public async Task<IReadOnlyList<BuildSample>> BuildsAsync(long projectId, long from, long to, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<BuildSample>(new CommandDefinition(InsightsSql.BuildsOfProject,
            new { ProjectId = projectId, From = from, To = to }, cancellationToken: ct))).AsList();
    }

    public async Task<IReadOnlyList<BuildSample>> BuildsAsync(IReadOnlyCollection<long> projectIds, long from, long to, CancellationToken ct)
    {
        if (projectIds.Count == 0) return [];
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<BuildSample>(new CommandDefinition(InsightsSql.BuildsOfProjects,
            new { ProjectIds = projectIds, From = from, To = to }, cancellationToken: ct))).AsList();
    }

    /// <summary>Commands of the newest <paramref name="take"/> builds requested in the window (deploy jobs excluded), finished
    /// or not.</summary>
    public async Task<IReadOnlyList<CommandSample>> CommandsAsync(long projectId, long from, long to, int take, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CommandSample>(new CommandDefinition(db.Sql(InsightsSql.CommandsOfNewestBuilds),
            new { ProjectId = projectId, From = from, To = to, Take = take }, cancellationToken: ct))).AsList();
    }

    /// <summary>Every server of the project, each with its passed deploys that finished in the window (or one row without a deploy).</summary>
    public async Task<IReadOnlyList<DeploySample>> DeploysAsync(long projectId, long from, long to, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<DeploySample>(new CommandDefinition(InsightsSql.DeploysOfProject,
            new { ProjectId = projectId, From = from, To = to }, cancellationToken: ct))).AsList();
    }

    /// <summary>As <see cref="DeploysAsync(long, long, long, CancellationToken)"/> for the servers named production or prod of several projects.</summary>
    public async Task<IReadOnlyList<DeploySample>> ProductionDeploysAsync(IReadOnlyCollection<long> projectIds, long from, long to,
        CancellationToken ct)
    {
        if (projectIds.Count == 0) return [];
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<DeploySample>(new CommandDefinition(InsightsSql.ProductionDeploysOfProjects,
            new { ProjectIds = projectIds, From = from, To = to }, cancellationToken: ct))).AsList();
    }
}

internal static class InsightsSql
{
    // The first of the build's own jobs to start; deploy jobs belong to the build they deploy but are not its jobs.
    private const string BuildColumns =
        "b.project_id AS ProjectId, b.id, b.branch, b.status, b.queued_at AS QueuedAt, b.started_at AS StartedAt, " +
        "b.finished_at AS FinishedAt, " +
        "(SELECT MIN(j.started_at) FROM jobs j WHERE j.build_id = b.id AND j.deploy_id IS NULL) AS FirstJobStartedAt";

    public const string BuildsOfProject =
        "SELECT " + BuildColumns + " FROM builds b WHERE b.project_id = @ProjectId AND b.queued_at >= @From AND b.queued_at <= @To";

    public const string BuildsOfProjects =
        "SELECT " + BuildColumns + " FROM builds b WHERE b.project_id IN @ProjectIds AND b.queued_at >= @From AND b.queued_at <= @To";

    // A script's step names its script through its section (parent_idx); a section names it itself.
    private const string CommandColumns =
        "SELECT j.build_id AS BuildId, j.name AS Job, c.phase, c.text, COALESCE(c.duration_ms, 0) AS DurationMs, " +
        "c.parent_idx AS ParentIdx, COALESCE(c.script_name, s.script_name) AS Script, b.branch AS Branch, " +
        "CASE WHEN c.duration_ms IS NOT NULL AND c.status IN ('passed', 'failed') THEN 1 ELSE 0 END AS Finished " +
        "FROM commands c JOIN jobs j ON j.id = c.job_id JOIN builds b ON b.id = j.build_id " +
        "LEFT JOIN commands s ON s.job_id = c.job_id AND s.idx = c.parent_idx " +
        "WHERE j.deploy_id IS NULL AND j.build_id IN ";

    public static readonly SqlText CommandsOfNewestBuilds = new(
        CommandColumns + "(SELECT id FROM builds WHERE project_id = @ProjectId AND queued_at >= @From AND queued_at <= @To " +
        "ORDER BY id DESC LIMIT @Take)",
        CommandColumns + "(SELECT TOP (@Take) id FROM builds WHERE project_id = @ProjectId AND queued_at >= @From AND queued_at <= @To " +
        "ORDER BY id DESC)");

    private const string DeployColumns =
        "SELECT s.project_id AS ProjectId, s.name AS Server, d.id AS DeployId, d.build_id AS BuildId, b.branch, " +
        "b.commit_sha AS CommitSha, b.queued_at AS BuildQueuedAt, d.finished_at AS FinishedAt, " +
        "d.trigger_kind AS TriggerKind, d.requested_at AS RequestedAt " +
        "FROM servers s " +
        "LEFT JOIN deploys d ON d.server_id = s.id AND d.status = 'passed' AND d.finished_at >= @From AND d.finished_at <= @To " +
        "LEFT JOIN builds b ON b.id = d.build_id ";

    public const string DeploysOfProject = DeployColumns + "WHERE s.project_id = @ProjectId";

    public const string ProductionDeploysOfProjects =
        DeployColumns + "WHERE s.project_id IN @ProjectIds AND LOWER(s.name) IN ('production', 'prod')";
}
