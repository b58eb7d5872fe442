using System.Text.Json;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// The frame fits the screens people use: on a 1366×768 laptop the navigation drawer is the full drawer and every label
/// in it reads whole; on a phone the runners page does not scroll sideways.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DrawerAndRunnersFitTests : IAsyncLifetime
{
    private static readonly ViewportSize SmallLaptop = new() { Width = 1366, Height = 768 };

    // Longer than the drawer is wide: it must wrap, not be cut.
    private const string LongName = "Checkout Service of the Payments Platform";

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private string _slug = "";

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
        _slug = await _portal.CreateProjectAsync(LongName, _repo.Path, PortalHost.OneJob("echo ok"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    // Each label of the drawer that is cut: its text wider than its box (a rail squeezes it to 1 px), or its box reaching
    // past the drawer's edge.
    private const string ClippedLabels = """
        () => {
            const drawer = document.querySelector('#kz-drawer').getBoundingClientRect();
            return [...document.querySelectorAll('#kz-drawer .mud-nav-link-text, #kz-drawer .kz-nav-heading, #kz-drawer .kz-nav-project')]
                .filter(e => e.offsetParent !== null)
                .map(e => ({ text: e.textContent.trim(), scroll: e.scrollWidth, client: e.clientWidth, right: e.getBoundingClientRect().right }))
                .filter(l => l.scroll > l.client + 1 || l.right > drawer.right + 1)
                .map(l => `${l.text} (${l.scroll} px of text in ${l.client} px, right edge ${Math.round(l.right)} of ${Math.round(drawer.right)})`);
        }
        """;

    // From the first frame the live layout is drawn, for 4 seconds: the drawer's width and cut labels, once per frame,
    // so a rail that shows only until the layout learns the screen's size is seen too.
    private const string RecordDrawerFrames = """
        window.kzDrawerFrames = [];
        (() => {
            let first = null;
            const sample = now => {
                const drawer = document.querySelector('.mud-layout #kz-drawer');
                if (drawer) {
                    first ??= now;
                    const main = document.querySelector('.mud-main-content').getBoundingClientRect();
                    window.kzDrawerFrames.push({ width: drawer.getBoundingClientRect().width, mainLeft: main.left, cut: (CLIPPED)() });
                }
                if (first === null || now - first < 4000) requestAnimationFrame(sample);
            };
            requestAnimationFrame(sample);
        })();
        """;

    private sealed record DrawerFrame(double Width, double MainLeft, string[] Cut);

    [SkippableFact]
    public async Task On_a_1366_by_768_laptop_the_drawer_is_open_from_the_first_frame_and_every_label_reads_whole()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: SmallLaptop);
        var page = browser.Page;
        await browser.SignInAsync();
        await browser.Context.AddInitScriptAsync(RecordDrawerFrames.Replace("CLIPPED", ClippedLabels));

        await page.GotoAsync($"/projects/{_slug}/settings");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Build settings" })).ToBeVisibleAsync();
        var drawer = page.Locator("#kz-drawer");
        foreach (var label in new[] { "Projects", "Organization variables", "Audit log", "Your API tokens", "Your SSH keys", "Settings", "Variables & secrets" })
            await Assertions.Expect(drawer.GetByRole(AriaRole.Link, new() { Name = label, Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(drawer.GetByText(LongName, new() { Exact = true })).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => window.kzDrawerFrames.length > 0");
        await page.WaitForTimeoutAsync(500);
        var frames = JsonSerializer.Deserialize<DrawerFrame[]>(await page.EvaluateAsync<string>("() => JSON.stringify(window.kzDrawerFrames)"),
            new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

        Assert.NotEmpty(frames);
        var narrow = frames.Where(f => f.Width < 200).ToList();
        Assert.True(narrow.Count == 0, $"{narrow.Count} of {frames.Length} frames drew the drawer as a rail ({narrow.FirstOrDefault()?.Width} px wide)");
        var cut = frames.SelectMany(f => f.Cut).Distinct().ToList();
        Assert.True(cut.Count == 0, "Cut labels in the drawer: " + string.Join("; ", cut));
        var under = frames.Where(f => f.MainLeft < f.Width - 1).ToList();
        Assert.True(under.Count == 0, $"the page started under the drawer in {under.Count} frames");
        Assert.Empty(await page.EvaluateAsync<string[]>(ClippedLabels));
        await page.Mouse.MoveAsync(SmallLaptop.Width / 2, SmallLaptop.Height - 1);
        await browser.ScreenshotAsync("navigation-laptop.png");

        // Below MudBlazor's Lg breakpoint the drawer is a rail of icons, its labels left to screen readers and tooltips.
        await page.SetViewportSizeAsync(1100, 768);
        await page.WaitForFunctionAsync("() => document.querySelector('#kz-drawer').getBoundingClientRect().width < 100");
        await Assertions.Expect(drawer.GetByRole(AriaRole.Link, new() { Name = "Audit log", Exact = true })).ToHaveAttributeAsync("title", "Audit log");
        var railCut = await page.EvaluateAsync<string[]>(ClippedLabels.Replace("e.offsetParent !== null", "e.offsetParent !== null && e.clientWidth > 1"));
        Assert.Empty(railCut);
    }

    [SkippableFact]
    public async Task On_a_phone_the_runners_page_shows_each_runner_without_scrolling_sideways()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: BrowserSession.Phone);
        var page = browser.Page;
        await browser.SignInAsync("/runners");
        var runner = page.GetByRole(AriaRole.Table, new() { Name = "Runners" }).Locator("tbody tr").First;
        await Assertions.Expect(runner).ToBeVisibleAsync();
        await Assertions.Expect(runner.GetByText("idle", new() { Exact = true })).ToBeVisibleAsync();
        await page.SettleAsync();

        var widths = await page.EvaluateAsync<int[]>("() => [document.scrollingElement.scrollWidth, window.innerWidth]");
        var outside = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('main *, .mud-main-content *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} (${Math.round(e.getBoundingClientRect().right)} px)`)
            """);

        Assert.True(widths[0] <= widths[1] + 1, $"the runners page is {widths[0]} px wide on a {widths[1]} px screen");
        Assert.True(outside.Length == 0, "Sticking out to the right: " + string.Join(", ", outside));
        // Each value says what it is, as the column headings are not shown on a phone.
        await Assertions.Expect(runner.Locator("td[data-label='Slots in use']")).ToContainTextAsync("0 / 1");
        await Assertions.Expect(runner.Locator("td[data-label='Sandbox']")).ToBeVisibleAsync();
    }
}
