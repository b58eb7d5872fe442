using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Caches;

/// <summary>One stored cache key of a project's branch.</summary>
public sealed class CacheEntryRow
{
    public long Id { get; init; }
    public long ProjectId { get; init; }
    public string Key { get; init; } = "";
    /// <summary>The branch of the build that stored the entry: only that branch's builds restore it, and the other
    /// branches' too when it is the project's default branch.</summary>
    public string Branch { get; init; } = "";
    /// <summary>The cache the key belongs to (<c>deps</c> for <c>deps-1a2b…</c>), for the per-name figures.</summary>
    public string Name { get; init; } = "";
    public string StorageKey { get; init; } = "";
    /// <summary>The compressed archive's size in bytes.</summary>
    public long Size { get; init; }
    public long CreatedAt { get; init; }
    public long LastUsedAt { get; init; }
    /// <summary>Restores that got this entry (by its exact key or as a fallback).</summary>
    public long Hits { get; init; }
    public long? BuildId { get; init; }
    public long? JobId { get; init; }
    /// <summary>The SHA-256 of the stored bytes (lowercase hex); null for entries stored before hashes were kept.</summary>
    public string? Sha256 { get; init; }
}

/// <summary>Restores of one cache name: by the exact key, by a fallback key, or none.</summary>
public sealed class CacheStatsRow
{
    public string Name { get; init; } = "";
    public long ExactHits { get; init; }
    public long FallbackHits { get; init; }
    public long Misses { get; init; }
}

/// <summary>A new entry's row; its archive is already in storage under <see cref="StorageKey"/>.</summary>
public sealed record NewCacheEntry(long ProjectId, string Branch, string Key, string Name, string StorageKey, long Size, long CreatedAt,
    long? BuildId, long? JobId, string? Sha256 = null);

/// <summary>Cache metadata. The archives are in the caches area of the <see cref="Storage.IBlobStorage"/>.</summary>
public sealed class CacheStore(Database db)
{
    /// <summary>Adds the entry unless the project has the key on that branch already; false when it had (the caller's
    /// archive is then surplus). Atomic: of two concurrent adds of one key exactly one returns true.</summary>
    public async Task<bool> TryAddAsync(NewCacheEntry entry, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var c = await db.OpenAsync(ct);
        try
        {
            return await c.ExecuteAsync(db.Sql(CacheSql.InsertOnce), entry) == 1;
        }
        catch (System.Data.Common.DbException)
        {
            // SQL Server may still report the unique index under a race between the check and the insert.
            if (await ExistsAsync(entry.ProjectId, entry.Branch, entry.Key, ct)) return false;
            throw;
        }
    }

    /// <summary>The entry <paramref name="key"/> of one branch of the project.</summary>
    public async Task<CacheEntryRow?> FindAsync(long projectId, string branch, string key, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<CacheEntryRow>(CacheSql.ByKey, new { ProjectId = projectId, Branch = branch, Key = key });
    }

    /// <summary>The entries <paramref name="key"/> of every branch of the project (at most one each).</summary>
    public async Task<IReadOnlyList<CacheEntryRow>> FindAllAsync(long projectId, string key, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CacheEntryRow>(CacheSql.ByKeyAnyBranch, new { ProjectId = projectId, Key = key })).AsList();
    }

    public async Task<bool> ExistsAsync(long projectId, string branch, string key, CancellationToken ct = default) =>
        await FindAsync(projectId, branch, key, ct) is not null;

    /// <summary>Every entry of the project, the most recently used first.</summary>
    public async Task<IReadOnlyList<CacheEntryRow>> OfProjectAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CacheEntryRow>(CacheSql.OfProject, new { ProjectId = projectId })).AsList();
    }

    public async Task<IReadOnlyList<CacheStatsRow>> StatsAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CacheStatsRow>(CacheSql.Stats, new { ProjectId = projectId })).AsList();
    }

    /// <summary>Counts a restore: the entry's hit and last use (when one was found) and the name's figures.</summary>
    public async Task RecordRestoreAsync(long projectId, string name, CacheEntryRow? entry, bool exact, long now, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        if (entry is not null) await c.ExecuteAsync(CacheSql.Used, new { entry.Id, Now = now });
        await c.ExecuteAsync(db.Sql(CacheSql.CountRestore), new
        {
            ProjectId = projectId,
            Name = name,
            Exact = entry is not null && exact ? 1 : 0,
            Fallback = entry is not null && !exact ? 1 : 0,
            Miss = entry is null ? 1 : 0,
        });
    }

    public async Task<bool> DeleteAsync(long id, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(CacheSql.Delete, new { Id = id }) > 0;
    }

    /// <summary>Forgets the project's per-name figures (after every entry was deleted).</summary>
    public async Task ResetStatsAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(CacheSql.ResetStats, new { ProjectId = projectId });
    }
}

internal static class CacheSql
{
    private const string Columns =
        "id, project_id AS ProjectId, branch, cache_key AS [Key], name, storage_key AS StorageKey, size, created_at AS CreatedAt, " +
        "last_used_at AS LastUsedAt, hits, build_id AS BuildId, job_id AS JobId, sha256 FROM cache_entries";

    public static readonly SqlText InsertOnce = new(
        "INSERT INTO cache_entries (project_id, branch, cache_key, name, storage_key, size, created_at, last_used_at, hits, build_id, job_id, sha256) " +
        "VALUES (@ProjectId, @Branch, @Key, @Name, @StorageKey, @Size, @CreatedAt, @CreatedAt, 0, @BuildId, @JobId, @Sha256) " +
        "ON CONFLICT (project_id, branch, cache_key) DO NOTHING",
        "INSERT INTO cache_entries (project_id, branch, cache_key, name, storage_key, size, created_at, last_used_at, hits, build_id, job_id, sha256) " +
        "SELECT @ProjectId, @Branch, @Key, @Name, @StorageKey, @Size, @CreatedAt, @CreatedAt, 0, @BuildId, @JobId, @Sha256 " +
        "WHERE NOT EXISTS (SELECT 1 FROM cache_entries WITH (UPDLOCK, HOLDLOCK) WHERE project_id = @ProjectId AND branch = @Branch AND cache_key = @Key)");

    public const string ByKey = "SELECT " + Columns + " WHERE project_id = @ProjectId AND branch = @Branch AND cache_key = @Key";
    public const string ByKeyAnyBranch = "SELECT " + Columns + " WHERE project_id = @ProjectId AND cache_key = @Key ORDER BY branch";
    public const string OfProject = "SELECT " + Columns + " WHERE project_id = @ProjectId ORDER BY last_used_at DESC, id DESC";
    public const string Used = "UPDATE cache_entries SET hits = hits + 1, last_used_at = @Now WHERE id = @Id";
    public const string Delete = "DELETE FROM cache_entries WHERE id = @Id";

    public const string Stats =
        "SELECT name, exact_hits AS ExactHits, fallback_hits AS FallbackHits, misses FROM cache_stats WHERE project_id = @ProjectId ORDER BY name";

    public static readonly SqlText CountRestore = new(
        "INSERT INTO cache_stats (project_id, name, exact_hits, fallback_hits, misses) VALUES (@ProjectId, @Name, @Exact, @Fallback, @Miss) " +
        "ON CONFLICT (project_id, name) DO UPDATE SET exact_hits = exact_hits + @Exact, fallback_hits = fallback_hits + @Fallback, misses = misses + @Miss",
        "MERGE cache_stats WITH (HOLDLOCK) AS t USING (SELECT @ProjectId AS project_id, @Name AS name) AS s " +
        "ON t.project_id = s.project_id AND t.name = s.name " +
        "WHEN MATCHED THEN UPDATE SET exact_hits = t.exact_hits + @Exact, fallback_hits = t.fallback_hits + @Fallback, misses = t.misses + @Miss " +
        "WHEN NOT MATCHED THEN INSERT (project_id, name, exact_hits, fallback_hits, misses) VALUES (@ProjectId, @Name, @Exact, @Fallback, @Miss);");

    public const string ResetStats = "DELETE FROM cache_stats WHERE project_id = @ProjectId";
}
