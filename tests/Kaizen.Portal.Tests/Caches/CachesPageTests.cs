using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Caches;
using Kaizen.Portal.Components.Caches;
using Kaizen.Portal.Storage;
using Kaizen.Portal.Tests.Components;
using Kaizen.Runner.Tests.Support;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Portal.Tests.Caches;

/// <summary>The project's Caches tab (bUnit) over the real cache store and disk storage: figures, entries, deleting.</summary>
public sealed class CachesPageTests : PortalComponentContext, IAsyncLifetime
{
    private static readonly MouseEventArgs Press = new();
    private readonly TempDirectory _blobs = new();
    private CacheStore _store = default!;
    private CacheService _caches = default!;
    private AuditLog _audit = default!;
    private long _projectId;

    protected override async Task SetUpAsync()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new KaizenOptions { Caches = { Directory = _blobs.Path } });
        _store = new CacheStore(Db.Database);
        _audit = new AuditLog(Db.Database, Db.Clock);
        _caches = new CacheService(_store, new DiskBlobStorage(_blobs.Path), options, _audit, Db.Clock, NullLogger<CacheService>.Instance);
        Services.AddSingleton(_store);
        Services.AddSingleton(_caches);
        Services.AddSingleton(_audit);
        _projectId = await Db.CreateProjectAsync("web");
        SignIn("alice", Roles.Member);
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _blobs.Dispose();
    }

    private async Task StoreAsync(string key, int size, string branch = "main")
    {
        using var content = new MemoryStream([.. new byte[size], .. CacheService.CompleteMark]);
        var result = await _caches.StoreAsync(_projectId, branch, key, CacheKeys.NameOf(key), 7, null, content, CancellationToken.None);
        Assert.Equal(CacheStoreOutcome.Stored, result.Outcome);
    }

    private IRenderedComponent<ContainerFragment> RenderCaches()
    {
        var cut = RenderInLayout<ProjectCaches>((nameof(ProjectCaches.ProjectId), _projectId), (nameof(ProjectCaches.ProjectSlug), "web"));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[aria-label='Loading the caches']")), WaitTimeout);
        return cut;
    }

    [Fact]
    public async Task Entries_and_each_cache_names_hit_rate_are_shown()
    {
        // Arrange: deps restored once exactly, once by a fallback, and missed once; gradle never restored.
        await StoreAsync("deps-1111111111111111", 3000);
        Db.Clock.Advance(TimeSpan.FromSeconds(1));
        await StoreAsync("deps-2222222222222222", 5000);
        await StoreAsync("gradle-3333333333333333", 100);
        await _caches.ResolveAsync(_projectId, new CacheBranches("main", "main"), "deps-1111111111111111", [], "deps", CancellationToken.None);
        await _caches.ResolveAsync(_projectId, new CacheBranches("main", "main"), "deps-4444444444444444", ["deps-"], "deps", CancellationToken.None);
        await _caches.ResolveAsync(_projectId, new CacheBranches("main", "main"), "deps-5555555555555555", [], "deps", CancellationToken.None);

        // Act
        var cut = RenderCaches();

        // Assert
        var deps = cut.Find("tr[data-cache-name=deps]").TextContent;
        Assert.Contains("33.3 %", deps);
        Assert.Contains("66.7 %", deps);
        Assert.Equal("–", cut.Find("tr[data-cache-name=gradle] [data-testid=hit-rate]").TextContent.Trim());
        Assert.Equal(3, cut.FindAll("tr[data-cache-key]").Count);
        var newest = cut.Find("tr[data-cache-key='deps-2222222222222222']").TextContent;
        Assert.Contains("4.9 KB", newest);
        Assert.Contains("1", cut.Find("tr[data-cache-key='deps-1111111111111111'] td:nth-child(6)").TextContent);
        Assert.Equal("main", cut.Find("tr[data-cache-key='deps-1111111111111111'] [data-testid=cache-branch]").TextContent.Trim());
        Assert.Contains("of 10 GB used by 3 entries", cut.Find("[data-testid=caches-total]").TextContent);
    }

    [Fact]
    public async Task Deleting_an_entry_asks_first_then_removes_it_and_records_who()
    {
        await StoreAsync("deps-1111111111111111", 300);
        await StoreAsync("deps-2222222222222222", 300);
        var cut = RenderCaches();

        // The click's handler waits for the answer to the confirmation, so it is not awaited here.
        var deleting = Button(cut, "Delete cache deps-1111111111111111 of main").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.Contains("Delete cache deps-1111111111111111 of main?", cut.Markup), WaitTimeout);
        Assert.NotNull(await _store.FindAsync(_projectId, "main", "deps-1111111111111111"));
        await Button(cut, "Delete").ClickAsync(Press);
        await deleting.WaitAsync(WaitTimeout);

        cut.WaitForAssertion(() => Assert.Contains("Cache deps-1111111111111111 deleted.", cut.Markup), WaitTimeout);
        Assert.Null(await _store.FindAsync(_projectId, "main", "deps-1111111111111111"));
        Assert.Equal(["deps-2222222222222222"], cut.FindAll("tr[data-cache-key]").Select(r => r.GetAttribute("data-cache-key")));
        var audit = Assert.Single(await _audit.NewestAsync(10));
        Assert.Equal(("alice", AuditActions.CacheDeleted, "project:web/cache:deps-1111111111111111"), (audit.Actor, audit.Action, audit.Target));
    }

    [Fact]
    public async Task Delete_all_empties_the_project_and_shows_how_to_add_a_cache()
    {
        await StoreAsync("deps-1111111111111111", 300);
        await StoreAsync("pip-2222222222222222", 300);
        var cut = RenderCaches();

        var deleting = Button(cut, "Delete all caches").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.Contains("Delete every cache of this project?", cut.Markup), WaitTimeout);
        await Button(cut, "Delete all").ClickAsync(Press);
        await deleting.WaitAsync(WaitTimeout);

        cut.WaitForAssertion(() => Assert.Contains("Deleted 2 cache entries.", cut.Markup), WaitTimeout);
        Assert.Contains("kaizen cache store deps yarn.lock -- node_modules", cut.Find("[data-testid=caches-empty]").TextContent);
        Assert.Empty(await _store.OfProjectAsync(_projectId));
        Assert.Empty(Directory.EnumerateFiles(_blobs.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_viewer_sees_the_caches_without_delete_buttons()
    {
        await StoreAsync("deps-1111111111111111", 300);
        SignIn("victor", Roles.Viewer);

        var cut = RenderCaches();

        Assert.Single(cut.FindAll("tr[data-cache-key]"));
        Assert.DoesNotContain(cut.FindAll("button"), b => (b.GetAttribute("aria-label") ?? b.TextContent).Contains("Delete"));
    }

    [Fact]
    public async Task Each_entry_shows_its_branch_and_deleting_one_branchs_entry_keeps_the_others_of_the_key()
    {
        await StoreAsync("deps-1111111111111111", 300);
        await StoreAsync("deps-1111111111111111", 400, branch: "feature/x");
        var cut = RenderCaches();
        Assert.Equal(["feature/x", "main"],
            cut.FindAll("tr[data-cache-key='deps-1111111111111111'] [data-testid=cache-branch]").Select(c => c.TextContent.Trim()).Order());

        var deleting = Button(cut, "Delete cache deps-1111111111111111 of feature/x").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.Contains("Delete cache deps-1111111111111111 of feature/x?", cut.Markup), WaitTimeout);
        await Button(cut, "Delete").ClickAsync(Press);
        await deleting.WaitAsync(WaitTimeout);

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("tr[data-cache-key]")), WaitTimeout);
        Assert.Equal("main", cut.Find("tr[data-cache-key] [data-testid=cache-branch]").TextContent.Trim());
        Assert.Null(await _store.FindAsync(_projectId, "feature/x", "deps-1111111111111111"));
        Assert.NotNull(await _store.FindAsync(_projectId, "main", "deps-1111111111111111"));
    }
}
