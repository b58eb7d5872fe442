using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// A public project in the browser, against the real portal and its embedded runner: a visitor who never signs in
/// reads the dashboard, a public project's passed build and its job log without any of the members' actions, and
/// does not find the private project; then an admin signs in and sets up GitHub from the project's settings.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PublicProjectJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Add the parser", ("parser.py", "print('parsed')\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    private async Task<string> CreateAsync(string name, bool isPublic)
    {
        using var created = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name, gitUrl = _repo.Path, @public = isPublic });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var slug = (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;
        using var saved = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "test", commands = new[] { "echo all parsers pass" } } },
            epilogue = Array.Empty<string>(),
        });
        saved.EnsureSuccessStatusCode();
        return slug;
    }

    [SkippableFact]
    public async Task A_visitor_reads_a_public_build_and_its_log_but_not_the_private_project_then_an_admin_sets_up_GitHub()
    {
        var open = await CreateAsync("Open Parser", isPublic: true);
        var closed = await CreateAsync("Closed Tool", isPublic: false);
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(open));
        Assert.Equal(Status.Passed, build.Status);

        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;

        // The dashboard, without signing in: the public project only, and a way to sign in.
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator($"[data-project='{open}']")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"[data-project='{closed}']")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToBeVisibleAsync();
        foreach (var internalPage in new[] { "Runners", "Plugins" })
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = internalPage })).ToHaveCountAsync(0);
        Assert.DoesNotContain("/login", page.Url);

        // The public project: its builds, none of the members' tabs or buttons.
        await page.Locator($"[data-project='{open}'] a").First.ClickAsync();
        await page.WaitForAddressAsync($"**/projects/{open}/builds");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = $"#{build.Id}" })).ToBeVisibleAsync();
        await Assertions.Expect(browser.ProjectSection("Branches")).ToBeVisibleAsync();
        foreach (var section in new[] { "Settings", "Variables & secrets", "Servers" })
            await Assertions.Expect(browser.ProjectSection(section)).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Run build of main" })).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("public-project.png");

        // Its passed build and the job's log.
        await page.GetByRole(AriaRole.Link, new() { Name = $"#{build.Id}" }).ClickAsync();
        await page.WaitForAddressAsync($"**/builds/{build.Id}");
        await Assertions.Expect(page.Locator(".kz-status").First).ToHaveAttributeAsync("data-status", "passed");
        await Assertions.Expect(page.Locator("[data-testid=build-source]")).ToContainTextAsync("main");
        foreach (var hidden in new[] { "Cancel", "Rerun", "Deploy to…" })
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = hidden })).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Link, new() { Name = "Log of test" }).ClickAsync();
        await page.WaitForAddressAsync($"**/jobs/{build.Jobs[0].Id}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Expand all sections" }).ClickAsync();
        await Assertions.Expect(page.Locator(".kz-logview .row.line .text").Filter(new() { HasText = "all parsers pass" }).First).ToBeVisibleAsync();

        // The private project's address answers like a missing project, without asking to sign in.
        await page.GotoAsync($"/projects/{closed}");
        await Assertions.Expect(page.GetByText($"There is no project '{closed}'.")).ToBeVisibleAsync();
        Assert.DoesNotContain("/login", page.Url);

        // An admin signs in and sets up GitHub in the project's settings.
        await browser.SignInAsync($"/projects/{open}");
        await browser.ProjectSection("Settings").ClickAsync();
        var github = page.GetByRole(AriaRole.Region, new() { Name = "GitHub and badges" });
        await github.ScrollIntoViewIfNeededAsync();
        await github.GetByLabel("GitHub repository").FillAsync("octo-org/open-parser");
        await github.GetByRole(AriaRole.Button, new() { Name = "Save repository" }).ClickAsync();
        await Assertions.Expect(page.GetByText("GitHub repository set to octo-org/open-parser.")).ToBeVisibleAsync();
        var secret = github.Locator("[data-testid=webhook-secret]");
        await Assertions.Expect(secret).Not.ToContainTextAsync("kzw_");
        await github.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Assertions.Expect(secret).ToContainTextAsync("kzw_");
        await Assertions.Expect(github.Locator("[data-testid=webhook-url]")).ToHaveTextAsync($"{_portal.BaseUrl.ToString().TrimEnd('/')}/webhooks/github");
        await Assertions.Expect(github.Locator("[data-testid=badge-markdown]"))
            .ToHaveTextAsync($"[![build]({_portal.BaseUrl.ToString().TrimEnd('/')}/badges/{open}.svg)]({_portal.BaseUrl.ToString().TrimEnd('/')}/projects/{open})");

        using var project = await _portal.Api.GetAsync($"/api/v1/projects/{open}");
        Assert.Equal("octo-org/open-parser", (await project.Content.ReadFromJsonAsync<ProjectResponse>())!.GithubRepository);
        Assert.Empty(browser.FailedResponses);
    }
}
