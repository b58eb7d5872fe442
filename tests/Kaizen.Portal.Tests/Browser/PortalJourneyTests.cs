using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>What a new user does in the browser, against the real portal with its embedded runner.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PortalJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 2);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Add the service", ("app.py", "print('hello')\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_new_user_signs_in_adds_a_repository_and_sees_its_branches()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;

        await browser.SignInAsync();
        await Assertions.Expect(page.GetByText("No projects yet")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "New project" }).First.ClickAsync();
        await page.GetByLabel("Name").FillAsync("Web App");
        await page.GetByLabel("Git repository").FillAsync("/nonexistent/repository");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Could not read the git repository");

        await page.GetByLabel("Git repository").FillAsync(_repo.Path);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Project web-app created")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Listbox, new() { Name = "Branches found" })).ToContainTextAsync("main");
        await page.GetByRole(AriaRole.Link, new() { Name = "Open project" }).ClickAsync();

        await page.WaitForAddressAsync("**/projects/web-app/builds");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Web App" })).ToBeVisibleAsync();
    }

    [SkippableFact]
    public async Task A_build_started_from_the_project_page_shows_its_jobs_moving_live()
    {
        var slug = await _portal.CreateProjectAsync("Live App", _repo.Path, new
        {
            setup = new[] { "echo setup" },
            jobs = new[]
            {
                new { name = "unit tests", commands = new[] { "echo testing", "sleep 2", "echo tests passed" } },
                new { name = "lint", commands = new[] { "echo lint ok" } },
            },
            epilogue = Array.Empty<string>(),
        });
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}");

        await page.GetByRole(AriaRole.Button, new() { Name = "Run build of main" }).ClickAsync();
        await page.WaitForAddressAsync("**/builds/*");
        var unitTests = page.Locator("tr[data-job='unit tests']");
        await Assertions.Expect(unitTests.Locator(".kz-status")).ToHaveAttributeAsync("data-status", "running");
        await Assertions.Expect(page.Locator(".kz-status").First).ToHaveAttributeAsync("data-status", "passed", new() { Timeout = 30_000 });
        await Assertions.Expect(unitTests).ToContainTextAsync("4 of 4 commands passed");
        await browser.ScreenshotAsync("build.png");

        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("tr[data-project='live-app'] .kz-status")).ToHaveAttributeAsync("data-status", "passed");
        await browser.ScreenshotAsync("dashboard.png");
    }
}
