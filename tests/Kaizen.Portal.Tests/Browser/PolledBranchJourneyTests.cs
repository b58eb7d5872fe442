using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>A branch pushed to a repository that sends no webhook, found with Refresh on the Branches section and built,
/// in Chromium against the real portal and its embedded runner (scheduled polling is off in tests, so Refresh is what
/// reads the repository).</summary>
[Collection(BrowserCollection.Name)]
public sealed class PolledBranchJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_branch_pushed_without_a_webhook_appears_on_Refresh_and_its_build_runs_that_commit()
    {
        // Arrange: a project, then a branch pushed to its repository with nothing telling the portal.
        var slug = await _portal.CreateProjectAsync("Quiet Remote", _repo.Path, PortalHost.OneJob("git log -1 --format=%s"));
        await _repo.GitAsync("checkout", "-q", "-b", "feature/search");
        await _repo.CommitAsync("Search box", ("search.txt", "find\n"));
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync();
        await page.GotoAsync($"/projects/{slug}/branches");
        await Assertions.Expect(page.Locator("tr[data-branch='main']")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("tr[data-branch='feature/search']").CountAsync());

        // Act
        await page.Locator("[data-action=refresh-branches]").ClickAsync();

        // Assert: it says what it found, the branch is listed, and its new head is built (the job prints the commit).
        await Assertions.Expect(page.Locator("[data-field=refresh-result]")).ToContainTextAsync("1 new branch: feature/search.");
        await Assertions.Expect(page.Locator("[data-field=refresh-result]")).ToContainTextAsync("1 build started for new commits.");
        var row = page.Locator("tr[data-branch='feature/search']");
        await Assertions.Expect(row).ToContainTextAsync("Search box");
        await row.GetByRole(AriaRole.Link).ClickAsync();
        await page.WaitForAddressAsync("**/builds/*");
        await Assertions.Expect(page.Locator(".kz-status").First).ToHaveAttributeAsync("data-status", "passed", new() { Timeout = 60_000 });
        var id = long.Parse(page.Url[(page.Url.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var build = await _portal.GetBuildAsync(id);
        Assert.Equal(("feature/search", Kaizen.Portal.Builds.Trigger.Poll), (build.Branch, build.Trigger));
        Assert.Contains("Search box", await _portal.LogAsync(build.Jobs[0].Id));
    }
}
