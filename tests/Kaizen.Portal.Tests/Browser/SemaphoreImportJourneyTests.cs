using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>Import from Semaphore on the Settings tab, in Chromium against the real portal: a repository holding a real
/// pipeline (pyfaaster's, from ../shared/fixtures/semaphore), the preview with its line numbers, and Apply.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SemaphoreImportJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 0);
        _repo = await GitRepo.CreateAsync("master");
        var fixtures = Path.GetFullPath(Path.Combine(BrowserSession.RepositoryRoot, "..", "shared", "fixtures", "semaphore", "pyfaaster"));
        var files = Directory.GetFiles(fixtures, "*.yml").Select(f => ($".semaphore/{Path.GetFileName(f)}", File.ReadAllText(f))).ToArray();
        await _repo.CommitAsync("Semaphore pipeline", files);
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_member_previews_the_semaphore_pipeline_with_its_untranslated_lines_and_applies_it()
    {
        var slug = await _portal.CreateProjectAsync("PyFaaSter", _repo.Path, PortalHost.OneJob("true"));
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync();

        await page.GotoAsync($"/projects/{slug}/settings");
        await page.GetByRole(AriaRole.Button, new() { Name = "Import from Semaphore" }).ClickAsync();

        var dialog = page.GetByRole(AriaRole.Dialog);
        await Assertions.Expect(dialog.GetByRole(AriaRole.Region, new() { Name = "Blocks" })).ToContainTextAsync("Run Tests");
        await Assertions.Expect(dialog.GetByRole(AriaRole.Region, new() { Name = "Servers" })).ToContainTextAsync("automatically after a passed build of master");
        await Assertions.Expect(dialog.GetByRole(AriaRole.Region, new() { Name = "Not translated" })).ToContainTextAsync("semaphore.yml:3");
        await Assertions.Expect(dialog.GetByRole(AriaRole.Region, new() { Name = "Not translated" })).ToContainTextAsync("tag_release.yml:12");
        await Assertions.Expect(dialog.GetByRole(AriaRole.List, new() { Name = "Secrets to define" })).ToContainTextAsync("PyPi Deployment");

        await dialog.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();

        await Assertions.Expect(dialog.GetByText("Saved the build settings; created the servers Release, Tag-Release.")).ToBeVisibleAsync();
        var saved = (await _portal.Service<Kaizen.Portal.Projects.ProjectStore>().FindBySlugAsync(slug))!.Settings;
        Assert.Equal("Run Tests", Assert.Single(saved.Blocks!).Name);
    }
}
