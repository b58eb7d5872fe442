using Kaizen.Portal.Tests.Integration;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// Debian's Chromium driven by Playwright (never a downloaded browser) against a real portal. When Chromium cannot
/// start, tests are skipped locally but fail when KAIZEN_REQUIRE_BROWSER=1 (CI sets it).
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private readonly List<string> _failedResponses = [];

    private BrowserSession(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Context = context;
        Page = page;
    }

    /// <summary>
    /// Records every answer of 400 or more (a missing stylesheet, script, icon...) for tests to assert there were none.
    /// Chromium's own network events, because Playwright's leave out what the browser fetches by itself (the favicon).
    /// </summary>
    private async Task WatchResponsesAsync()
    {
        var cdp = await Context.NewCDPSessionAsync(Page);
        cdp.Event("Network.responseReceived").OnEvent += (_, e) =>
        {
            if (e is not { } json || !json.TryGetProperty("response", out var response)) return;
            var status = response.GetProperty("status").GetInt32();
            if (status >= 400)
                lock (_failedResponses) _failedResponses.Add($"{status} {response.GetProperty("url").GetString()}");
        };
        await cdp.SendAsync("Network.enable");
    }

    /// <summary>A laptop screen, the size of the README's screenshots.</summary>
    public static readonly ViewportSize Laptop = new() { Width = 1366, Height = 850 };

    /// <summary>A phone held upright (an iPhone 12 to 15 in CSS pixels).</summary>
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    /// <summary>Responses of 400 or more received so far, as "404 http://...".</summary>
    public IReadOnlyList<string> FailedResponses
    {
        get
        {
            lock (_failedResponses) return _failedResponses.ToList();
        }
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }

    public static bool Required => Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_BROWSER") == "1";

    /// <summary>The repository's root folder (where Portal.sln is).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) dir = dir.Parent;
            return dir?.FullName ?? AppContext.BaseDirectory;
        }
    }

    /// <summary>Where screenshots go (the README shows them): docs/screenshots at the repository root.</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            var path = Path.Combine(RepositoryRoot, "docs", "screenshots");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    /// <param name="viewport">The window size; <see cref="Laptop"/> unless told.</param>
    /// <param name="colorScheme">"light" or "dark": what the browser tells the page it prefers.</param>
    public static async Task<BrowserSession> StartAsync(Uri baseUrl, string colorScheme = "light", ViewportSize? viewport = null)
    {
        viewport ??= Laptop;
        if (!File.Exists(ChromiumPath))
        {
            if (Required) Assert.Fail($"Chromium is required (KAIZEN_REQUIRE_BROWSER=1) but {ChromiumPath} does not exist: apt-get install chromium.");
            Skip.If(true, $"{ChromiumPath} is missing; install Debian's chromium to run browser tests.");
        }
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });
            var context = await browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = baseUrl.ToString(),
                ViewportSize = viewport,
                IsMobile = viewport.Width < 600,
                HasTouch = viewport.Width < 600,
                ColorScheme = colorScheme == "dark" ? ColorScheme.Dark : ColorScheme.Light,
            });
            context.SetDefaultTimeout(20_000);
            // A full page load on a loaded CI machine (other test hosts starting, builds running) can pass 20 s.
            context.SetDefaultNavigationTimeout(60_000);
            // Expectations retry until this long: a loaded CI machine renders a circuit's first page slowly.
            Assertions.SetDefaultExpectTimeout(15_000);
            var page = await context.NewPageAsync();
            var session = new BrowserSession(playwright, browser, context, page);
            await session.WatchResponsesAsync();
            return session;
        }
        catch (PlaywrightException ex) when (!Required)
        {
            playwright.Dispose();
            Skip.If(true, $"Chromium did not start: {ex.Message}");
            throw;
        }
    }

    /// <summary>Signs in through the real form as the bootstrap admin of <see cref="PortalHost"/>.</summary>
    public async Task SignInAsync(string returnPath = "/")
    {
        await Page.GotoAsync($"/login?returnUrl={Uri.EscapeDataString(returnPath)}");
        await Page.GetByLabel("User name").FillAsync("admin");
        await Page.GetByLabel("Password").FillAsync(PortalHost.AdminPassword);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Page.WaitForAddressAsync(url => !url.Contains("/login"));
    }

    /// <summary>The link to a section of the open project (Builds, Settings, Servers...) in the navigation drawer.</summary>
    public ILocator ProjectSection(string name) =>
        Page.GetByRole(AriaRole.Navigation, new() { Name = "Project" }).GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name), FullPage = false });

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
