using Dapper;
using Kaizen.Portal.Caches;
using Kaizen.Portal.Data;
using Kaizen.Portal.Tests.Data;

namespace Kaizen.Portal.Tests.Caches;

/// <summary>The migration that gives cache entries a branch, over a database holding entries made before it.</summary>
public sealed class CacheBranchMigrationTests
{
    private const int BranchMigration = 16;

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Entries_stored_before_branches_become_the_default_branchs_and_a_key_may_then_exist_once_per_branch(string provider)
    {
        // Arrange: the schema as it was before the migration, one project whose default branch is "trunk", one entry.
        await using var test = await TestDatabase.CreateAsync(provider, migrate: false);
        await using (var c = await test.Database.OpenAsync())
        {
            await c.ExecuteAsync(test.Database.Sql(MigrationSql.CreateTable));
            foreach (var migration in Migrator.Scripts(test.Database.Provider).Where(m => m.Version < BranchMigration))
            {
                foreach (var batch in Migrator.SplitBatches(migration.Script)) await c.ExecuteAsync(batch);
                await c.ExecuteAsync(MigrationSql.Record, new { migration.Version, AppliedAt = 0L });
            }
        }
        var projectId = await test.Projects.CreateAsync("Old", "old", "https://git.example/old.git", "trunk", isPublic: false);
        await using (var c = await test.Database.OpenAsync())
            await c.ExecuteAsync(
                "INSERT INTO cache_entries (project_id, cache_key, name, storage_key, size, created_at, last_used_at, hits) " +
                "VALUES (@ProjectId, 'deps-1', 'deps', 'old/1', 5, 1, 1, 0)", new { ProjectId = projectId });

        // Act
        await test.Migrator.MigrateAsync();
        var store = new CacheStore(test.Database);
        var addedOnFeature = await store.TryAddAsync(new NewCacheEntry(projectId, "feature", "deps-1", "deps", "new/1", 7, 2, null, null));
        var addedOnTrunk = await store.TryAddAsync(new NewCacheEntry(projectId, "trunk", "deps-1", "deps", "new/2", 7, 2, null, null));

        // Assert
        Assert.Equal("old/1", (await store.FindAsync(projectId, "trunk", "deps-1"))!.StorageKey);
        Assert.True(addedOnFeature);
        Assert.False(addedOnTrunk);
        Assert.Equal(["feature", "trunk"], (await store.FindAllAsync(projectId, "deps-1")).Select(e => e.Branch));
    }
}
