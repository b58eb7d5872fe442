using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// What is done in the browser is in the audit log: a project made with the New project dialog and its settings saved in
/// the editor, found again with the audit page's filters and followed to the project. An anonymous visitor of a public
/// project never sees the organization's variables.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AuditJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 0);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    private static ILocator Rows(IPage page) => page.GetByRole(AriaRole.Table, new() { Name = "Audit log" }).Locator("tbody tr");

    [SkippableFact]
    public async Task A_project_created_and_set_up_in_the_browser_is_audited_and_found_with_the_filters()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync();

        // Create the project in the dialog and save its settings in the editor.
        await page.GetByRole(AriaRole.Button, new() { Name = "New project" }).First.ClickAsync();
        await page.GetByLabel("Name").FillAsync("Audited App");
        await page.GetByLabel("Git repository").FillAsync(_repo.Path);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Project audited-app created")).ToBeVisibleAsync();
        await page.GotoAsync("/projects/audited-app/settings");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Group, new() { Name = "Job 1", Exact = true }).GetByLabel("Job name").FillAsync("audited-tests");
        await page.GetByRole(AriaRole.Group, new() { Name = "Job audited-tests", Exact = true })
            .GetByRole(AriaRole.Textbox, new() { Name = "Command 1", Exact = true }).FillAsync("echo audited");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("Build settings saved.")).ToBeVisibleAsync();

        // Filter by person and action in the form: the filter becomes the address.
        await page.GotoAsync("/admin/audit");
        await page.GetByLabel("Person").FillAsync("admin");
        await page.GetByLabel("Action").FillAsync("project.created");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"/admin/audit\?actor=admin&action=project\.created$"));
        await Assertions.Expect(Rows(page)).ToHaveCountAsync(1);
        await Assertions.Expect(Rows(page).First).ToContainTextAsync("project:audited-app");

        // A linked view of the project shows both entries, each linked to its page.
        await page.GotoAsync("/admin/audit?project=audited-app");
        await Assertions.Expect(Rows(page)).ToHaveCountAsync(2);
        var settings = Rows(page).Filter(new() { HasText = "settings.changed" });
        await Assertions.Expect(settings).ToContainTextAsync("admin");
        await Assertions.Expect(settings).ToContainTextAsync("+ - name: audited-tests");
        await settings.GetByRole(AriaRole.Link, new() { Name = "project:audited-app/settings" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/projects/audited-app/settings$"));

        // Back returns to the filtered view; a filter nothing matches says so and offers to clear it.
        await page.GoBackAsync();
        await Assertions.Expect(Rows(page)).ToHaveCountAsync(2);
        await page.GotoAsync("/admin/audit?project=audited-app&action=deploy");
        await Assertions.Expect(page.GetByText("No entries match these filters.")).ToBeVisibleAsync();
        await page.Locator(".mud-alert").GetByRole(AriaRole.Button, new() { Name = "Clear filters" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin/audit$"));
        await Assertions.Expect(Rows(page).Filter(new() { HasText = "project.created" })).ToHaveCountAsync(1);
        Assert.Empty(browser.FailedResponses);
    }

    [SkippableFact]
    public async Task A_public_projects_variables_show_the_organizations_to_members_and_nothing_to_a_visitor()
    {
        var value = "eu-" + Guid.NewGuid().ToString("N")[..10];
        (await _portal.Api.PutAsJsonAsync("/api/v1/variables/DEPLOY_REGION", new { value })).EnsureSuccessStatusCode();
        var slug = await _portal.CreateProjectAsync("Open Library", _repo.Path, PortalHost.OneJob("true"), isPublic: true);

        await using (var admin = await BrowserSession.StartAsync(_portal.BaseUrl))
        {
            await admin.SignInAsync($"/projects/{slug}/variables");
            var inherited = admin.Page.GetByRole(AriaRole.Region, new() { Name = "From the organization" });
            await Assertions.Expect(inherited.Locator("tr[data-inherited=DEPLOY_REGION]")).ToContainTextAsync(value);
            await Assertions.Expect(inherited.Locator("tr[data-inherited=DEPLOY_REGION]")).ToContainTextAsync("from the organization");
        }

        await using var visitor = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = visitor.Page;
        await page.GotoAsync($"/projects/{slug}");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Open Library" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Project" })
            .GetByRole(AriaRole.Link, new() { Name = "Variables & secrets" })).ToHaveCountAsync(0);
        await page.GotoAsync($"/projects/{slug}/variables");
        await page.WaitForAddressAsync(url => url.Contains("/login", StringComparison.Ordinal));
        Assert.DoesNotContain(value, await page.ContentAsync());
        Assert.DoesNotContain("DEPLOY_REGION", await page.ContentAsync());
    }
}
