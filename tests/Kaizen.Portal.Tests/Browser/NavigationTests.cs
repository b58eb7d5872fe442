using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// Finding one's way: the navigation drawer on a laptop and a phone, a project's sections as addresses (Back included),
/// the project switcher by keyboard, the portal's own "not found" and "not allowed" pages, and the failure banner that
/// names the failing command and jumps to its log.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class NavigationTests : IAsyncLifetime
{
    private static readonly ViewportSize Desktop = new() { Width = 1440, Height = 900 };
    private const string FailingCommand = "echo about to fail && exit 3";

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private string _calc = "";
    private string _billing = "";
    private long _failedJobId;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Add the calculator", ("calc.py", "print(1 + 1)\n"));
        _calc = await _portal.CreateProjectAsync("Calculator", _repo.Path, new
        {
            setup = new[] { "echo first setup command", "echo second setup command" },
            jobs = new[] { new { name = "tests", commands = new[] { "echo collecting tests", FailingCommand, "echo never runs" } } },
            epilogue = Array.Empty<string>(),
        }, isPublic: true);
        _billing = await _portal.CreateProjectAsync("Billing Service", _repo.Path, PortalHost.OneJob("echo ok"), isPublic: false);
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(_calc));
        _failedJobId = build.Jobs.Single().Id;
        using var viewer = await _portal.Api.PostAsJsonAsync("/api/v1/users", new { name = "vic", role = "viewer", password = "vics-password" });
        viewer.EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    private static ILocator Drawer(IPage page) => page.Locator("#kz-drawer");

    private static ILocator ProjectNav(IPage page) => page.GetByRole(AriaRole.Navigation, new() { Name = "Project" });

    private static ILocator Section(IPage page, string name) => ProjectNav(page).GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    // The deepest elements sticking out to the right, to say what overflows.
    private const string WidestElements = """
        () => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
            .slice(0, 5)
            .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} (${Math.round(e.getBoundingClientRect().right)} px)`)
            .join(', ')
        """;

    [SkippableFact]
    public async Task On_a_laptop_the_drawer_goes_through_a_projects_sections_by_address_highlights_the_current_one_and_Back_returns()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: Desktop);
        var page = browser.Page;
        await browser.SignInAsync();

        // The project's own address is its builds, and the drawer lists its sections with Builds highlighted.
        await page.GotoAsync($"/projects/{_calc}");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/projects/{_calc}/builds$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Builds", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(Section(page, "Builds")).ToHaveClassAsync(new Regex(@"\bactive\b"));
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Breadcrumb" })).ToContainTextAsync("Projects");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Admin: users" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Admin" }).GetByRole(AriaRole.Link, new() { Name = "Users" })).ToBeVisibleAsync();

        await Section(page, "Branches").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/projects/{_calc}/branches$"));
        await Assertions.Expect(page.Locator("tr[data-branch=main]")).ToBeVisibleAsync();
        await Assertions.Expect(Section(page, "Branches")).ToHaveClassAsync(new Regex(@"\bactive\b"));
        await Assertions.Expect(Section(page, "Builds")).Not.ToHaveClassAsync(new Regex(@"\bactive\b"));

        await Section(page, "Settings").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/projects/{_calc}/settings$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Build settings" })).ToBeVisibleAsync();
        await page.Mouse.MoveAsync(Desktop.Width / 2, Desktop.Height - 1);
        await browser.ScreenshotAsync("navigation.png");

        // Back walks the sections visited, not out of the project.
        await page.GoBackAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/projects/{_calc}/branches$"));
        await Assertions.Expect(page.Locator("tr[data-branch=main]")).ToBeVisibleAsync();
        await page.GoBackAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/projects/{_calc}/builds$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Build history" })).ToBeVisibleAsync();

        // A section's address opens that section by itself.
        await page.GotoAsync($"/projects/{_calc}/servers");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Servers", Exact = true, Level = 2 })).ToBeVisibleAsync();
        await Assertions.Expect(Section(page, "Servers")).ToHaveClassAsync(new Regex(@"\bactive\b"));

        // The portal's pages are in the drawer too.
        await Drawer(page).GetByRole(AriaRole.Link, new() { Name = "Runners", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/runners$"));
        await Assertions.Expect(Drawer(page).GetByRole(AriaRole.Link, new() { Name = "Runners", Exact = true })).ToHaveClassAsync(new Regex(@"\bactive\b"));
        await Assertions.Expect(ProjectNav(page)).ToHaveCountAsync(0);
        Assert.Empty(browser.FailedResponses);
    }

    [SkippableFact]
    public async Task On_a_phone_the_menu_button_opens_the_drawer_which_closes_after_a_link_and_sign_out_fits()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: BrowserSession.Phone);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{_calc}/builds");

        var signOut = page.GetByRole(AriaRole.Button, new() { Name = "Sign out" });
        await Assertions.Expect(signOut).ToBeInViewportAsync(new() { Ratio = 1 });
        await Assertions.Expect(Drawer(page)).Not.ToBeInViewportAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Menu" }).ClickAsync();
        await Assertions.Expect(Section(page, "Builds")).ToBeInViewportAsync();
        await Assertions.Expect(Section(page, "Builds")).ToHaveClassAsync(new Regex(@"\bactive\b"));
        await page.WaitForFunctionAsync("() => document.querySelector('#kz-drawer').getBoundingClientRect().left >= 0");
        await browser.ScreenshotAsync("navigation-phone.png");
        await Section(page, "Branches").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/projects/{_calc}/branches$"));
        await Assertions.Expect(page.Locator("tr[data-branch=main]")).ToBeVisibleAsync();
        await Assertions.Expect(Drawer(page)).Not.ToBeInViewportAsync();

        var width = await page.EvaluateAsync<int>("() => document.scrollingElement.scrollWidth");
        Assert.True(width <= BrowserSession.Phone.Width + 1, $"the page is {width} px wide on a {BrowserSession.Phone.Width} px phone: " +
            await page.EvaluateAsync<string>(WidestElements));

        await page.GetByRole(AriaRole.Button, new() { Name = "Menu" }).ClickAsync();
        await Drawer(page).GetByRole(AriaRole.Link, new() { Name = "Runners", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/runners$"));
        await Assertions.Expect(Drawer(page)).Not.ToBeInViewportAsync();
        await Assertions.Expect(signOut).ToBeInViewportAsync(new() { Ratio = 1 });
    }

    [SkippableFact]
    public async Task The_project_switcher_opens_with_slash_or_ctrl_k_and_goes_to_a_project_by_keyboard()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: Desktop);
        var page = browser.Page;
        await browser.SignInAsync();
        await Assertions.Expect(page.Locator($"tr[data-project='{_calc}']")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-shortcuts=on]")).ToHaveCountAsync(1);

        await page.Keyboard.PressAsync("/");
        var search = page.GetByLabel("Search projects", new() { Exact = true });
        await Assertions.Expect(search).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("bill");
        var options = page.GetByRole(AriaRole.Listbox, new() { Name = "Projects" }).GetByRole(AriaRole.Option);
        await Assertions.Expect(options).ToHaveCountAsync(1);
        await Assertions.Expect(options.First).ToContainTextAsync("Billing Service");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/projects/{_billing}/builds$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Billing Service" })).ToBeVisibleAsync();

        // Ctrl-K; arrows choose among several.
        await page.Keyboard.PressAsync("Control+k");
        await Assertions.Expect(search).ToBeFocusedAsync();
        await Assertions.Expect(options).ToHaveCountAsync(2);
        await Assertions.Expect(options.Nth(0)).ToHaveAttributeAsync("aria-selected", "true");
        await page.Keyboard.PressAsync("ArrowDown");
        await Assertions.Expect(options.Nth(1)).ToHaveAttributeAsync("aria-selected", "true");
        var second = await options.Nth(1).GetAttributeAsync("data-project");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/projects/{second}/builds$"));

        // Typing "/" into a field types it.
        await page.GotoAsync($"/projects/{_calc}/builds");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search projects" }).ClickAsync();
        await search.FillAsync("no such project");
        await Assertions.Expect(page.GetByText("No project matches 'no such project'.")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(search).ToHaveCountAsync(0);

        // A visitor finds public projects only.
        await using var visitor = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: Desktop);
        await visitor.Page.GotoAsync("/");
        await Assertions.Expect(visitor.Page.Locator($"tr[data-project='{_calc}']")).ToBeVisibleAsync();
        await Assertions.Expect(visitor.Page.Locator("[data-shortcuts=on]")).ToHaveCountAsync(1);
        await visitor.Page.Keyboard.PressAsync("/");
        var visible = visitor.Page.GetByRole(AriaRole.Listbox, new() { Name = "Projects" }).GetByRole(AriaRole.Option);
        await Assertions.Expect(visible).ToHaveCountAsync(1);
        await Assertions.Expect(visible.First).ToContainTextAsync("Calculator");
    }

    [SkippableFact]
    public async Task Unknown_addresses_show_the_portals_not_found_page_while_the_api_keeps_answering_json()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: Desktop);
        var page = browser.Page;
        await browser.SignInAsync();

        var response = await page.GotoAsync("/no/such/page");
        Assert.Equal(404, response!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        await Assertions.Expect(Drawer(page).GetByRole(AriaRole.Link, new() { Name = "Projects", Exact = true })).ToBeVisibleAsync();
        Assert.DoesNotContain("\"status\":404", await page.ContentAsync());
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the projects" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/$"));
        await Assertions.Expect(page.Locator($"tr[data-project='{_calc}']")).ToBeVisibleAsync();

        await page.GotoAsync("/projects/nowhere/branches");
        await Assertions.Expect(page.GetByText("There is no project 'nowhere'.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Back to the projects" })).ToBeVisibleAsync();

        using var http = new HttpClient { BaseAddress = _portal.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/no-such-thing");
        request.Headers.Accept.ParseAdd("text/html,application/json");
        using var api = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);

        // A full page load shows the portal's frame at once, before the live page connects.
        using var html = new HttpRequestMessage(HttpMethod.Get, $"/projects/{_calc}/builds");
        html.Headers.Accept.ParseAdd("text/html");
        using var first = await http.SendAsync(html);
        Assert.Contains("class=\"kz-boot\"", await first.Content.ReadAsStringAsync());
    }

    [SkippableFact]
    public async Task A_viewer_opening_an_admin_page_is_told_it_needs_an_admin_by_address_and_in_the_portal()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: Desktop);
        var page = browser.Page;
        await page.GotoAsync("/login");
        await page.GetByLabel("User name").FillAsync("vic");
        await page.GetByLabel("Password").FillAsync("vics-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForAddressAsync(url => !url.Contains("/login"));
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Admin" })).ToHaveCountAsync(0);

        await page.GotoAsync("/admin/users");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You need to be an admin" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Back to the projects" })).ToBeVisibleAsync();
        Assert.DoesNotContain("Add user", await page.ContentAsync());

        // Inside the portal (no page load), the same notice.
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator($"tr[data-project='{_calc}']")).ToBeVisibleAsync();
        await page.EvaluateAsync("() => Blazor.navigateTo('/admin/audit')");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You need to be an admin" })).ToBeVisibleAsync();
        await page.EvaluateAsync("() => Blazor.navigateTo('/admin/variables')");
        await Assertions.Expect(page.GetByText("This page is for admins and members.")).ToBeVisibleAsync();
    }

    [SkippableFact]
    public async Task The_failure_banner_names_the_failing_command_and_jumps_to_its_log()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: Desktop);
        var page = browser.Page;
        await page.GotoAsync($"/jobs/{_failedJobId}");

        var banner = page.GetByTestId("job-error");
        await Assertions.Expect(banner).ToHaveTextAsync($"{FailingCommand} failed with exit code 3.");
        var link = banner.GetByRole(AriaRole.Link);
        var href = await link.GetAttributeAsync("href");
        Assert.Matches($"^/jobs/{_failedJobId}\\?command=\\d+#L\\d+$", href);
        await link.ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/jobs/{_failedJobId}\\?command=\\d+#L\\d+$"));
        var selected = page.Locator(".kz-logview .row.selected");
        await Assertions.Expect(selected).ToContainTextAsync("about to fail");
        await Assertions.Expect(selected).ToBeInViewportAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Breadcrumb" })).ToContainTextAsync("Calculator");
    }
}
