using System.Data.Common;
using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Projects;

/// <summary>What deleting a project removed from the database, and the stored bytes that are left to remove.</summary>
public sealed record RemovedProject(int Builds, int Jobs, int Artifacts, int Caches, int Servers,
    IReadOnlyList<string> ArtifactKeys, IReadOnlyList<string> CacheKeys);

/// <summary>
/// Removes a project and every row that belongs to it (builds, jobs, commands, logs, test reports, snapshots, artifacts,
/// caches, servers, deploys and their approvals, debug sessions, variables and secrets, webhook deliveries, branches) in
/// one transaction: either all of it goes or none. Stored bytes (artifacts, cache archives) are not touched here; their
/// keys are returned so they are removed once the rows are gone. The audit log is not the project's and stays.
/// </summary>
public sealed class ProjectRemoval(Database db)
{
    /// <summary>Every table that holds rows of a project, directly or through its builds, jobs, servers or deploys. A
    /// test checks that each table of the schema with such a key is listed, so a new one is not forgotten.</summary>
    public static IReadOnlyList<string> Tables { get; } = ProjectRemovalSql.Deletes.Select(d => d.Table).ToList();

    /// <summary>
    /// Deletes the project <paramref name="projectId"/> unless one of its jobs is running (a runner is executing it, or a
    /// debug session is open on it): then nothing is deleted and the running build's id is returned as the reason.
    /// Jobs still queued go with the project; the check and the deletion are one transaction, so no runner claims one
    /// in between.
    /// </summary>
    public async Task<(RemovedProject? Removed, long? RunningBuild)> RemoveAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var args = new { ProjectId = projectId };
        var running = await c.ExecuteScalarAsync<long?>(Command(ProjectRemovalSql.RunningBuild, args, tx, ct));
        if (running is not null) return (null, running);

        var artifactKeys = (await c.QueryAsync<string>(Command(ProjectRemovalSql.ArtifactKeys, args, tx, ct))).AsList();
        var cacheKeys = (await c.QueryAsync<string>(Command(ProjectRemovalSql.CacheKeys, args, tx, ct))).AsList();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (table, sql) in ProjectRemovalSql.Deletes)
            counts[table] = await c.ExecuteAsync(Command(sql, args, tx, ct));
        await tx.CommitAsync(ct);
        return (new RemovedProject(counts["builds"], counts["jobs"], artifactKeys.Count, cacheKeys.Count, counts["servers"],
            artifactKeys, cacheKeys), null);
    }

    private static CommandDefinition Command(string sql, object args, DbTransaction tx, CancellationToken ct) =>
        new(sql, args, tx, cancellationToken: ct);
}

internal static class ProjectRemovalSql
{
    private const string Builds = "SELECT id FROM builds WHERE project_id = @ProjectId";
    private const string Jobs = "SELECT j.id FROM jobs j JOIN builds b ON b.id = j.build_id WHERE b.project_id = @ProjectId";
    private const string Servers = "SELECT id FROM servers WHERE project_id = @ProjectId";
    private const string Deploys = "SELECT d.id FROM deploys d JOIN servers s ON s.id = d.server_id WHERE s.project_id = @ProjectId";

    public const string RunningBuild =
        "SELECT MIN(b.id) FROM builds b JOIN jobs j ON j.build_id = b.id WHERE b.project_id = @ProjectId AND (j.status = 'running' " +
        "OR EXISTS (SELECT 1 FROM debug_sessions ds WHERE ds.job_id = j.id AND ds.status <> 'ended'))";

    public const string ArtifactKeys = "SELECT storage_key FROM artifacts WHERE project_id = @ProjectId";
    public const string CacheKeys = "SELECT storage_key FROM cache_entries WHERE project_id = @ProjectId";

    public const string DeleteDeployApprovals = "DELETE FROM deploy_approvals WHERE deploy_id IN (" + Deploys + ")";
    public const string DeleteDebugSessions = "DELETE FROM debug_sessions WHERE job_id IN (" + Jobs + ")";
    public const string DeleteTestCases = "DELETE FROM test_cases WHERE build_id IN (" + Builds + ")";
    public const string DeleteTestReports = "DELETE FROM test_reports WHERE build_id IN (" + Builds + ")";
    public const string DeleteCoverageFiles = "DELETE FROM coverage_files WHERE build_id IN (" + Builds + ")";
    public const string DeleteBuildSnapshots = "DELETE FROM build_snapshots WHERE build_id IN (" + Builds + ")";
    public const string DeleteArtifacts = "DELETE FROM artifacts WHERE project_id = @ProjectId OR build_id IN (" + Builds + ")";
    public const string DeleteCacheEntries = "DELETE FROM cache_entries WHERE project_id = @ProjectId";
    public const string DeleteCacheStats = "DELETE FROM cache_stats WHERE project_id = @ProjectId";
    public const string DeleteLogChunks = "DELETE FROM log_chunks WHERE job_id IN (" + Jobs + ")";
    public const string DeleteCommands = "DELETE FROM commands WHERE job_id IN (" + Jobs + ")";

    // A deploy is the project's through its server and its build; both are the same project.
    public const string DeleteDeploys = "DELETE FROM deploys WHERE server_id IN (" + Servers + ") OR build_id IN (" + Builds + ")";
    public const string DeleteJobs = "DELETE FROM jobs WHERE build_id IN (" + Builds + ")";
    public const string DeleteBuilds = "DELETE FROM builds WHERE project_id = @ProjectId";

    public const string DeleteVariables =
        "DELETE FROM variables WHERE (scope_kind = 'project' AND scope_id = @ProjectId) OR (scope_kind = 'server' AND scope_id IN (" + Servers + "))";

    public const string DeleteServers = "DELETE FROM servers WHERE project_id = @ProjectId";
    public const string DeleteWebhookDeliveries = "DELETE FROM webhook_deliveries WHERE project_id = @ProjectId";
    public const string DeleteWebhookDeliveryIds = "DELETE FROM webhook_delivery_ids WHERE project_id = @ProjectId";
    public const string DeleteBranches = "DELETE FROM branches WHERE project_id = @ProjectId";
    public const string DeleteInsightsHidden = "DELETE FROM insights_hidden WHERE project_id = @ProjectId";
    public const string DeleteBuildFilters = "DELETE FROM build_filters WHERE project_id = @ProjectId";
    public const string DeleteProject = "DELETE FROM projects WHERE id = @ProjectId";

    /// <summary>In an order the foreign keys allow: what refers to a row goes before it.</summary>
    public static readonly IReadOnlyList<(string Table, string Sql)> Deletes =
    [
        ("deploy_approvals", DeleteDeployApprovals), ("debug_sessions", DeleteDebugSessions), ("test_cases", DeleteTestCases),
        ("test_reports", DeleteTestReports), ("coverage_files", DeleteCoverageFiles), ("build_snapshots", DeleteBuildSnapshots),
        ("artifacts", DeleteArtifacts), ("cache_entries", DeleteCacheEntries), ("cache_stats", DeleteCacheStats),
        ("log_chunks", DeleteLogChunks), ("commands", DeleteCommands), ("deploys", DeleteDeploys), ("jobs", DeleteJobs),
        ("builds", DeleteBuilds), ("variables", DeleteVariables), ("servers", DeleteServers),
        ("webhook_deliveries", DeleteWebhookDeliveries), ("webhook_delivery_ids", DeleteWebhookDeliveryIds),
        ("branches", DeleteBranches), ("insights_hidden", DeleteInsightsHidden), ("build_filters", DeleteBuildFilters),
        ("projects", DeleteProject),
    ];
}
