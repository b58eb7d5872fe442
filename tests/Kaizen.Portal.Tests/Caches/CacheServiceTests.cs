using Kaizen.Portal.Audit;
using Kaizen.Portal.Caches;
using Kaizen.Portal.Storage;
using Kaizen.Portal.Tests.Data;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Portal.Tests.Caches;

/// <summary>The cache store and service over both databases and the disk storage: write-once, completion marks,
/// fallbacks and eviction (the end-to-end tests drive the same through real jobs).</summary>
public sealed class CacheServiceTests
{
    private static readonly CacheBranches Main = new("main", "main");

    private sealed class Harness : IAsyncDisposable
    {
        private Harness(TestDatabase test, string blobs, long budgetMegabytes)
        {
            Test = test;
            Blobs = blobs;
            var options = Microsoft.Extensions.Options.Options.Create(new KaizenOptions
            {
                Caches = { Directory = blobs, ProjectMegabytes = budgetMegabytes, MaxEntryMegabytes = 1 },
            });
            Store = new CacheStore(test.Database);
            Service = new CacheService(Store, new DiskBlobStorage(blobs), options, new AuditLog(test.Database, test.Clock), test.Clock,
                NullLogger<CacheService>.Instance);
        }

        public TestDatabase Test { get; }
        public string Blobs { get; }
        public CacheStore Store { get; }
        public CacheService Service { get; }
        public long ProjectId { get; private set; }

        public static async Task<Harness> CreateAsync(string provider, long budgetMegabytes = 10)
        {
            var test = await TestDatabase.CreateAsync(provider);
            var harness = new Harness(test, Directory.CreateTempSubdirectory("kaizen-caches-test-").FullName, budgetMegabytes);
            harness.ProjectId = await test.CreateProjectAsync("web");
            return harness;
        }

        public Task<CacheStoreResult> StoreAsync(string key, int size, bool complete = true, string branch = "main") =>
            Service.StoreAsync(ProjectId, branch, key, CacheKeys.NameOf(key), null, null,
                new MemoryStream([.. Enumerable.Repeat((byte)key.Length, size), .. complete ? CacheService.CompleteMark.ToArray() : []]),
                CancellationToken.None);

        public int BlobCount => Directory.EnumerateFiles(Blobs, "*", SearchOption.AllDirectories).Count();

        public async ValueTask DisposeAsync()
        {
            await Test.DisposeAsync();
            Directory.Delete(Blobs, recursive: true);
        }
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_key_is_written_once_and_a_second_store_keeps_the_first_archive(string provider)
    {
        await using var h = await Harness.CreateAsync(provider);

        var first = await h.StoreAsync("deps-1", 100);
        var second = await h.StoreAsync("deps-1", 200);
        var racing = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => h.StoreAsync("deps-2", 300)));

        Assert.Equal(CacheStoreOutcome.Stored, first.Outcome);
        Assert.Equal(CacheStoreOutcome.AlreadyStored, second.Outcome);
        Assert.Equal(100 + 16, (await h.Store.FindAsync(h.ProjectId, "main", "deps-1"))!.Size);
        Assert.Single(racing, r => r.Outcome == CacheStoreOutcome.Stored);
        Assert.Equal(2, h.BlobCount);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task An_upload_without_its_completion_mark_or_over_the_limit_stores_nothing(string provider)
    {
        await using var h = await Harness.CreateAsync(provider);

        await Assert.ThrowsAsync<CacheUploadIncompleteException>(() => h.StoreAsync("deps-1", 100, complete: false));
        await Assert.ThrowsAsync<BlobTooLargeException>(() => h.StoreAsync("deps-2", (1 << 20) + 1));

        Assert.Empty(await h.Store.OfProjectAsync(h.ProjectId));
        Assert.Equal(0, h.BlobCount);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Fallbacks_are_tried_in_order_and_each_takes_its_newest_key(string provider)
    {
        await using var h = await Harness.CreateAsync(provider);
        await h.StoreAsync("node-linux-1", 10);
        h.Test.Clock.Advance(TimeSpan.FromSeconds(1));
        await h.StoreAsync("node-linux-2", 10);
        h.Test.Clock.Advance(TimeSpan.FromSeconds(1));
        await h.StoreAsync("node-mac-1", 10);

        var exact = await h.Service.ResolveAsync(h.ProjectId, Main, "node-linux-1", ["node-"], "node", CancellationToken.None);
        var linux = await h.Service.ResolveAsync(h.ProjectId, Main, "node-linux-9", ["node-win-", "node-linux-", "node-"], "node", CancellationToken.None);
        var any = await h.Service.ResolveAsync(h.ProjectId, Main, "node-bsd-1", ["node-"], "node", CancellationToken.None);
        var none = await h.Service.ResolveAsync(h.ProjectId, Main, "gradle-1", ["gradle-"], "gradle", CancellationToken.None);

        Assert.Equal(("node-linux-1", true), (exact!.Entry.Key, exact.Exact));
        Assert.Equal(("node-linux-2", false), (linux!.Entry.Key, linux.Exact));
        Assert.Equal("node-mac-1", any!.Entry.Key);
        Assert.Null(none);
        var stats = await h.Store.StatsAsync(h.ProjectId);
        Assert.Equal((1L, 2L, 0L), stats.Where(s => s.Name == "node").Select(s => (s.ExactHits, s.FallbackHits, s.Misses)).Single());
        Assert.Equal(1L, stats.Single(s => s.Name == "gradle").Misses);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Beyond_the_budget_the_least_recently_used_entries_go_never_the_new_one(string provider)
    {
        await using var h = await Harness.CreateAsync(provider, budgetMegabytes: 1);
        await h.StoreAsync("a", 400_000);
        h.Test.Clock.Advance(TimeSpan.FromSeconds(1));
        await h.StoreAsync("b", 400_000);
        h.Test.Clock.Advance(TimeSpan.FromSeconds(1));
        await h.Service.ResolveAsync(h.ProjectId, Main, "a", [], "a", CancellationToken.None);
        h.Test.Clock.Advance(TimeSpan.FromSeconds(1));

        var c = await h.StoreAsync("c", 400_000);

        Assert.Equal(["b"], c.Evicted);
        Assert.Equal(["a", "c"], (await h.Store.OfProjectAsync(h.ProjectId)).Select(e => e.Key).Order());
        Assert.Equal(2, h.BlobCount);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_key_is_kept_once_per_branch_and_a_restore_reads_its_own_branch_then_the_default_never_another(string provider)
    {
        // Arrange: the feature branch stores deps-1 first (sizes tell the entries apart), then main stores its own.
        await using var h = await Harness.CreateAsync(provider);
        await h.StoreAsync("deps-1", 10, branch: "feature");
        h.Test.Clock.Advance(TimeSpan.FromSeconds(1));
        var mainStore = await h.StoreAsync("deps-1", 20);
        h.Test.Clock.Advance(TimeSpan.FromSeconds(1));
        await h.StoreAsync("deps-2", 30, branch: "feature");

        // Act
        var onMain = await h.Service.ResolveAsync(h.ProjectId, Main, "deps-1", [], "deps", CancellationToken.None);
        var mainByPrefix = await h.Service.ResolveAsync(h.ProjectId, Main, "deps-9", ["deps-"], "deps", CancellationToken.None);
        var onFeature = await h.Service.ResolveAsync(h.ProjectId, new CacheBranches("feature", "main"), "deps-1", [], "deps", CancellationToken.None);
        var onOther = await h.Service.ResolveAsync(h.ProjectId, new CacheBranches("other", "main"), "deps-9", ["deps-"], "deps", CancellationToken.None);
        var onlyFeatures = await h.Service.ResolveAsync(h.ProjectId, Main, "deps-2", [], "deps", CancellationToken.None);

        // Assert
        Assert.Equal(CacheStoreOutcome.Stored, mainStore.Outcome);
        Assert.Equal(("main", 36L, true), (onMain!.Entry.Branch, onMain.Entry.Size, onMain.Exact));
        Assert.Equal(("main", "deps-1", false), (mainByPrefix!.Entry.Branch, mainByPrefix.Entry.Key, mainByPrefix.Exact));
        Assert.Equal(("feature", 26L), (onFeature!.Entry.Branch, onFeature.Entry.Size));
        Assert.Equal(("main", "deps-1"), (onOther!.Entry.Branch, onOther.Entry.Key));
        Assert.Null(onlyFeatures);
        Assert.Equal(["feature", "main"], (await h.Store.FindAllAsync(h.ProjectId, "deps-1")).Select(e => e.Branch));
    }
}
