using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>The portal on a phone, in dark mode, and without missing resources on any page.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LayoutTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private string _slug = "";
    private long _buildId;
    private long _jobId;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 2);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Add the checkout service with a rather long commit message that has to fit on a phone",
            ("app.py", "print('hello')\n"));
        _slug = await _portal.CreateProjectAsync("Checkout Service", _repo.Path, new
        {
            setup = new[] { "echo setting up" },
            jobs = new[]
            {
                new { name = "unit tests", commands = new[] { "for i in $(seq 1 5); do echo \"tests/test_checkout.py::test_total_with_a_long_name_$i PASSED\"; done" } },
                new { name = "lint", commands = new[] { "echo lint ok" } },
            },
            epilogue = Array.Empty<string>(),
        });
        _buildId = await _portal.StartBuildAsync(_slug);
        var build = await _portal.WaitForBuildAsync(_buildId);
        _jobId = build.Jobs.Single(j => j.Name == "unit tests").Id;
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task Every_page_loads_without_a_missing_resource()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync();

        foreach (var (path, heading) in new[]
                 {
                     ("/", "Projects"), ($"/projects/{_slug}", "Checkout Service"), ($"/projects/{_slug}/settings", "Checkout Service"),
                     ($"/builds/{_buildId}", $"Build #{_buildId}"), ($"/jobs/{_jobId}", "unit tests"), ("/runners", "Runners"),
                     ("/plugins", "Stack plugins"),
                 })
        {
            await page.GotoAsync(path);
            await Assertions.Expect(page.GetByText(heading, new() { Exact = true }).First).ToBeVisibleAsync();
            await page.SettleAsync();
        }
        await page.GotoAsync($"/projects/{_slug}");
        await browser.ProjectSection("Settings").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Build settings" })).ToBeVisibleAsync();
        await page.SettleAsync();

        Assert.Empty(browser.FailedResponses);
    }

    [SkippableFact]
    public async Task On_a_phone_the_dashboard_and_a_build_fit_the_screen_with_their_actions_in_reach()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: BrowserSession.Phone);
        var page = browser.Page;
        await browser.SignInAsync();

        var project = page.Locator($"tr[data-project='{_slug}']");
        await Assertions.Expect(project.Locator(".kz-status")).ToHaveAttributeAsync("data-status", "passed");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "New project" })).ToBeInViewportAsync();
        await Assertions.Expect(project.GetByRole(AriaRole.Link, new() { Name = "Checkout Service" })).ToBeVisibleAsync();
        await AssertFitsTheWidthAsync(page, "the dashboard");
        // The portal's pages are behind the menu button.
        await page.GetByRole(AriaRole.Button, new() { Name = "Menu" }).ClickAsync();
        await Assertions.Expect(page.Locator("#kz-drawer").GetByRole(AriaRole.Link, new() { Name = "Runners" })).ToBeInViewportAsync();

        await page.GotoAsync($"/builds/{_buildId}");
        await Assertions.Expect(page.Locator(".kz-status").First).ToHaveAttributeAsync("data-status", "passed");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Rerun" })).ToBeInViewportAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "unit tests", Exact = true })).ToBeVisibleAsync();
        await AssertFitsTheWidthAsync(page, "a build");

        await page.GotoAsync($"/jobs/{_jobId}");
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Log output" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Search the log")).ToBeVisibleAsync();
        await AssertFitsTheWidthAsync(page, "a job log");

        await page.GotoAsync($"/projects/{_slug}");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Run build of main" })).ToBeInViewportAsync();
        await AssertFitsTheWidthAsync(page, "a project");
    }

    [SkippableFact]
    public async Task In_a_browser_that_prefers_dark_the_portal_is_dark()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, colorScheme: "dark");
        var page = browser.Page;
        await browser.SignInAsync();
        await Assertions.Expect(page.Locator($"tr[data-project='{_slug}']")).ToBeVisibleAsync();

        // The theme switches after the first render, once the page has asked the browser.
        await page.WaitForFunctionAsync(Luminance + "() => luminance(getComputedStyle(document.body).backgroundColor) < 0.1");
        Assert.True(await LuminanceAsync(page, ".mud-appbar", "backgroundColor") < 0.1);
        Assert.True(await LuminanceAsync(page, ".mud-main-content", "color") > 0.6, "text on the dark background is light");

        await page.GotoAsync($"/jobs/{_jobId}");
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Log output" })).ToBeVisibleAsync();
        Assert.True(await LuminanceAsync(page, ".kz-logview .viewport", "backgroundColor") < 0.1);
    }

    [SkippableFact]
    public async Task In_a_browser_that_prefers_light_the_portal_is_light()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, colorScheme: "light");
        var page = browser.Page;
        await browser.SignInAsync();
        await Assertions.Expect(page.Locator($"tr[data-project='{_slug}']")).ToBeVisibleAsync();

        Assert.True(await LuminanceAsync(page, "body", "backgroundColor") > 0.9);
        Assert.True(await LuminanceAsync(page, ".mud-main-content", "color") < 0.2, "text on the light background is dark");
    }

    // Relative luminance (WCAG) of a CSS rgb()/rgba() colour.
    private const string Luminance = """
        const luminance = css => {
            const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
                .map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        """;

    private static Task<double> LuminanceAsync(IPage page, string selector, string property) =>
        page.Locator(selector).First.EvaluateAsync<double>($"(e, p) => {{ {Luminance} return luminance(getComputedStyle(e)[p]); }}", property);

    /// <summary>The page does not scroll sideways: whatever is wide scrolls inside its own box.</summary>
    private static async Task AssertFitsTheWidthAsync(IPage page, string what)
    {
        var widths = await page.EvaluateAsync<int[]>("() => [document.scrollingElement.scrollWidth, window.innerWidth]");
        var (scrollWidth, innerWidth) = (widths[0], widths[1]);
        Assert.True(scrollWidth <= Math.Min(innerWidth, BrowserSession.Phone.Width) + 1,
            $"{what} is {scrollWidth} px wide on a {BrowserSession.Phone.Width} px screen (window {innerWidth} px): " +
            await page.EvaluateAsync<string>(WidestElements));
    }

    // The deepest elements sticking out to the right, to say what overflows.
    private const string WidestElements = """
        () => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
            .slice(0, 5)
            .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} (${Math.round(e.getBoundingClientRect().right)} px)`)
            .join(', ')
        """;
}
