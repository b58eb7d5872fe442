using System.Net;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// An admin renames a project in its settings, then deletes it by typing its new name, in Chromium against the real
/// portal with its embedded runner and a real git repository.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ProjectLifecycleJourneyTests : IAsyncLifetime
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
    public async Task An_admin_renames_a_project_then_deletes_it_by_typing_its_name()
    {
        var slug = await _portal.CreateProjectAsync("Checkout Web", _repo.Path, PortalHost.OneJob("echo checked out"));
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        Assert.Equal(Status.Passed, build.Status);

        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}/settings");
        await page.WaitForAddressAsync($"**/projects/{slug}/settings");

        // Rename: the heading follows, the address stays.
        var general = page.GetByRole(AriaRole.Region, new() { Name = "General" });
        await Assertions.Expect(general.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("Checkout Web");
        await Assertions.Expect(general.GetByRole(AriaRole.Button, new() { Name = "Save name and repository" })).ToBeDisabledAsync();
        await general.GetByLabel("Name", new() { Exact = true }).FillAsync("Checkout Storefront");
        await general.GetByRole(AriaRole.Button, new() { Name = "Save name and repository" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Saved: the project is now called Checkout Storefront.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Checkout Storefront");
        Assert.EndsWith($"/projects/{slug}/settings", page.Url);

        // Delete: the button waits for the exact name.
        var danger = page.GetByRole(AriaRole.Region, new() { Name = "Danger zone" });
        await danger.ScrollIntoViewIfNeededAsync();
        await danger.GetByRole(AriaRole.Button, new() { Name = "Delete project" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Assertions.Expect(dialog).ToContainTextAsync("Delete Checkout Storefront?");
        var confirm = dialog.GetByRole(AriaRole.Button, new() { Name = "Delete this project" });
        await Assertions.Expect(confirm).ToBeDisabledAsync();
        var typed = dialog.GetByLabel("Type Checkout Storefront to confirm");
        await typed.FillAsync("Checkout Web");
        await Assertions.Expect(confirm).ToBeDisabledAsync();
        await typed.FillAsync("Checkout Storefront");
        await Assertions.Expect(confirm).ToBeEnabledAsync();
        await confirm.ClickAsync();

        // The projects list, with what was removed; the project is gone everywhere.
        // The portal navigates inside the page (no new document, so no load event to wait for): the address is polled.
        await Assertions.Expect(page.GetByText("Project Checkout Storefront deleted, with 1 build")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("^[^?#]*://[^/]+/(\\?.*)?$"), new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator($"[data-project='{slug}']")).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.NotFound, (await _portal.Api.GetAsync($"/api/v1/projects/{slug}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _portal.Api.GetAsync($"/api/v1/builds/{build.Id}")).StatusCode);
        Assert.Empty(browser.FailedResponses);
    }
}
