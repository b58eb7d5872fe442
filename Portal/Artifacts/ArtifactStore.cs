using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Artifacts;

public sealed class ArtifactRow
{
    public long Id { get; init; }
    public long ProjectId { get; init; }
    public string ProjectSlug { get; init; } = "";
    public long? BuildId { get; init; }
    public long? JobId { get; init; }
    /// <summary>The name of the job that pushed it (null when that job is gone).</summary>
    public string? JobName { get; init; }
    /// <summary>Set when a deploy's job pushed it: deployment detail, for signed-in people only.</summary>
    public long? DeployId { get; init; }
    public string Scope { get; init; } = "";
    public string Name { get; init; } = "";
    /// <summary>Pushed as a folder (a .tar.gz of it); <c>kaizen artifact pull</c> unpacks it.</summary>
    public bool Folder { get; init; }
    public string StorageKey { get; init; } = "";
    public long Size { get; init; }
    public string Sha256 { get; init; } = "";
    public long CreatedAt { get; init; }
    public long? ExpiresAt { get; init; }
}

/// <summary>A new artifact's row; the bytes are already in storage under <see cref="StorageKey"/>.</summary>
public sealed record NewArtifact(long ProjectId, long? BuildId, long? JobId, string Scope, string Name, bool Folder,
    string StorageKey, long Size, string Sha256, long CreatedAt, long? ExpiresAt);

/// <summary>Artifact metadata. The bytes are in the artifacts area of the <see cref="Storage.IBlobStorage"/>.</summary>
public sealed class ArtifactStore(Database db)
{
    /// <summary>The status of a build (null when there is none).</summary>
    public async Task<string?> BuildStatusAsync(long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<string?>(ArtifactSql.BuildStatus, new { Id = buildId });
    }

    /// <summary>Adds the artifact and takes out the one it replaces (same scope, owner and name); returns the new id
    /// and the replaced rows, whose bytes the caller deletes.</summary>
    public async Task<(long Id, IReadOnlyList<ArtifactRow> Replaced)> AddAsync(NewArtifact artifact, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var same = artifact.Scope switch
        {
            ArtifactScope.Project => ArtifactSql.SameInProject,
            ArtifactScope.Build => ArtifactSql.SameInBuild,
            _ => ArtifactSql.SameInJob,
        };
        var replaced = (await c.QueryAsync<ArtifactRow>(same, artifact, tx)).AsList();
        foreach (var old in replaced) await c.ExecuteAsync(ArtifactSql.Delete, new { old.Id }, tx);
        var id = await c.ExecuteScalarAsync<long>(db.Sql(ArtifactSql.Insert), artifact, tx);
        await tx.CommitAsync(ct);
        return (id, replaced);
    }

    public async Task<ArtifactRow?> FindAsync(long id, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ArtifactRow>(ArtifactSql.ById, new { Id = id });
    }

    /// <summary>Every artifact of a build (its jobs' and the build's own, and downloads it published), by name.</summary>
    public async Task<IReadOnlyList<ArtifactRow>> OfBuildAsync(long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ArtifactRow>(ArtifactSql.OfBuild, new { BuildId = buildId })).AsList();
    }

    /// <summary>The project's downloads, newest first.</summary>
    public async Task<IReadOnlyList<ArtifactRow>> DownloadsAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ArtifactRow>(ArtifactSql.Downloads, new { ProjectId = projectId })).AsList();
    }

    /// <summary>Artifacts whose retention ran out before <paramref name="now"/> (Unix ms).</summary>
    public async Task<IReadOnlyList<ArtifactRow>> ExpiredAsync(long now, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ArtifactRow>(ArtifactSql.Expired, new { Now = now })).AsList();
    }

    public async Task<bool> DeleteAsync(long id, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(ArtifactSql.Delete, new { Id = id }) > 0;
    }

    /// <summary>How many jobs of the build other than <paramref name="jobId"/> are queued or running (and so could still push).</summary>
    public async Task<int> OtherActiveJobsAsync(long buildId, long jobId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<int>(ArtifactSql.OtherActiveJobs, new { BuildId = buildId, JobId = jobId });
    }

    /// <summary>Gives a just-claimed job its token (the hash only), inside the claim's transaction.</summary>
    public static async Task<string> IssueJobTokenAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, long jobId)
    {
        var token = Auth.Tokens.New("kzj_");
        await c.ExecuteAsync(ArtifactSql.SetJobToken, new { Id = jobId, Hash = Auth.Tokens.Hash(token) }, tx);
        return token;
    }

    /// <summary>The running job (or the open debug session of a job) that holds this token, or null.</summary>
    public async Task<RunningJobIdentity?> FindRunningJobAsync(string tokenHash, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<RunningJobIdentity>(ArtifactSql.RunningJobByToken, new { Hash = tokenHash });
    }
}

/// <summary>Who is calling with a job token: the job, its build and project, and whether the build runs a fork's code.</summary>
public sealed class RunningJobIdentity
{
    public long JobId { get; init; }
    public long BuildId { get; init; }
    public long ProjectId { get; init; }
    public long? DeployId { get; init; }
    public bool FromFork { get; init; }

    /// <summary>The build's branch: the caches this job reads first and the only ones it may write (a deploy's or a debug
    /// session's is its build's).</summary>
    public string Branch { get; init; } = "";

    /// <summary>The project's default branch: whose caches a job reads when its own branch has none.</summary>
    public string DefaultBranch { get; init; } = "";

    /// <summary>Set when the token is a debug session's: it reads the job's artifacts and caches, and writes none (they
    /// belong to the build that ran).</summary>
    public long? DebugSessionId { get; init; }
}

internal static class ArtifactSql
{
    public const string BuildStatus = "SELECT status FROM builds WHERE id = @Id";

    private const string Columns =
        "a.id, a.project_id AS ProjectId, p.slug AS ProjectSlug, a.build_id AS BuildId, a.job_id AS JobId, j.name AS JobName, j.deploy_id AS DeployId, a.scope, a.name, " +
        "a.folder, a.storage_key AS StorageKey, a.size, a.sha256, a.created_at AS CreatedAt, a.expires_at AS ExpiresAt " +
        "FROM artifacts a JOIN projects p ON p.id = a.project_id LEFT JOIN jobs j ON j.id = a.job_id";

    public static readonly SqlText Insert = new(
        "INSERT INTO artifacts (project_id, build_id, job_id, scope, name, folder, storage_key, size, sha256, created_at, expires_at) " +
        "VALUES (@ProjectId, @BuildId, @JobId, @Scope, @Name, @Folder, @StorageKey, @Size, @Sha256, @CreatedAt, @ExpiresAt) RETURNING id",
        "INSERT INTO artifacts (project_id, build_id, job_id, scope, name, folder, storage_key, size, sha256, created_at, expires_at) " +
        "OUTPUT INSERTED.id VALUES (@ProjectId, @BuildId, @JobId, @Scope, @Name, @Folder, @StorageKey, @Size, @Sha256, @CreatedAt, @ExpiresAt)");

    public const string SameInProject = "SELECT " + Columns + " WHERE a.project_id = @ProjectId AND a.scope = 'project' AND a.name = @Name";
    public const string SameInBuild = "SELECT " + Columns + " WHERE a.build_id = @BuildId AND a.scope = 'build' AND a.name = @Name";
    public const string SameInJob = "SELECT " + Columns + " WHERE a.job_id = @JobId AND a.scope = 'job' AND a.name = @Name";
    public const string ById = "SELECT " + Columns + " WHERE a.id = @Id";
    public const string OfBuild = "SELECT " + Columns + " WHERE a.build_id = @BuildId ORDER BY a.name, a.id";
    public const string Downloads = "SELECT " + Columns + " WHERE a.project_id = @ProjectId AND a.scope = 'project' ORDER BY a.created_at DESC, a.id DESC";
    public const string Expired = "SELECT " + Columns + " WHERE a.expires_at IS NOT NULL AND a.expires_at < @Now";
    public const string Delete = "DELETE FROM artifacts WHERE id = @Id";

    public const string OtherActiveJobs =
        "SELECT COUNT(*) FROM jobs WHERE build_id = @BuildId AND id <> @JobId AND status IN ('queued', 'running')";

    public const string SetJobToken = "UPDATE jobs SET token_hash = @Hash WHERE id = @Id";

    public const string RunningJobByToken =
        "SELECT j.id AS JobId, j.build_id AS BuildId, b.project_id AS ProjectId, j.deploy_id AS DeployId, b.from_fork AS FromFork, " +
        "b.branch AS Branch, p.default_branch AS DefaultBranch, CAST(NULL AS BIGINT) AS DebugSessionId " +
        "FROM jobs j JOIN builds b ON b.id = j.build_id JOIN projects p ON p.id = b.project_id " +
        "WHERE j.token_hash = @Hash AND j.status = 'running' " +
        "UNION ALL " +
        "SELECT j.id, j.build_id, b.project_id, j.deploy_id, b.from_fork, b.branch, p.default_branch, ds.id FROM debug_sessions ds " +
        "JOIN jobs j ON j.id = ds.job_id JOIN builds b ON b.id = j.build_id JOIN projects p ON p.id = b.project_id " +
        "WHERE ds.token_hash = @Hash AND ds.status IN ('starting', 'open')";
}
