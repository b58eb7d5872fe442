using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>Run build… in real Chromium: a tag picked from the dialog's list, a variable added, and the build page that
/// says who ran it with what, while the embedded runner runs the build for real.</summary>
[Collection(BrowserCollection.Name)]
public sealed class RunBuildJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private string _tagged = "";

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        _tagged = await _repo.CommitAsync("Release one", ("version.txt", "1.0\n"));
        await _repo.GitAsync("tag", "-a", "v1.0", "-m", "Version 1.0");
        await _repo.CommitAsync("Start on two", ("version.txt", "2.0-dev\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_member_builds_a_tag_with_a_variable_and_the_build_page_shows_both_and_who_ran_it()
    {
        var slug = await _portal.CreateProjectAsync("Release App", _repo.Path,
            PortalHost.OneJob("echo \"version $(cat version.txt) to [$TARGET]\""));
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: new() { Width = 1440, Height = 900 });
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}/builds");

        // Act: open the dialog, pick the tag from its list, add a variable and start.
        await page.GetByRole(AriaRole.Button, new() { Name = "Run build…" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Assertions.Expect(dialog).ToContainTextAsync("not secrets");
        var reference = dialog.GetByLabel("Branch, tag or commit");
        await reference.FillAsync("v1");
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "v1.0" }).ClickAsync();
        await Assertions.Expect(reference).ToHaveValueAsync("v1.0");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Add variable" }).ClickAsync();
        await dialog.Locator("[data-variable='1'] input").Nth(0).FillAsync("TARGET");
        await dialog.Locator("[data-variable='1'] input").Nth(1).FillAsync("staging-eu");
        await browser.ScreenshotAsync("run-build.png");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Start build" }).ClickAsync();

        // Assert: the build page says what was built, with what and by whom, and the job got the variable.
        await page.WaitForAddressAsync("**/builds/*");
        await Assertions.Expect(page.GetByTestId("started-by")).ToHaveTextAsync("Started by admin from tag v1.0");
        await Assertions.Expect(page.GetByTestId("run-variables")).ToContainTextAsync("TARGET=staging-eu");
        await Assertions.Expect(page.GetByTestId("build-source")).ToContainTextAsync("tag v1.0");
        var id = long.Parse(page.Url.Split('/')[^1]);
        var build = await _portal.WaitForBuildAsync(id);
        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Equal(_tagged, build.CommitSha);
        Assert.Contains("version 1.0 to [staging-eu]", await _portal.LogAsync(build.Jobs.Single().Id));
        await Assertions.Expect(page.Locator("h4", new() { HasText = $"Build #{id}" }).Locator("xpath=..")).ToContainTextAsync("Passed", new() { IgnoreCase = true });
        await browser.ScreenshotAsync("run-build-page.png");
        Assert.Empty(browser.FailedResponses);
    }
}
