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

    private BrowserSession(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Context = context;
        Page = page;
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }

    public static bool Required => Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_BROWSER") == "1";

    /// <summary>Where screenshots go (the README shows them): docs/screenshots at the repository root.</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) dir = dir.Parent;
            var path = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "docs", "screenshots");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    public static async Task<BrowserSession> StartAsync(Uri baseUrl, string colorScheme = "light")
    {
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
                ViewportSize = new ViewportSize { Width = 1366, Height = 850 },
                ColorScheme = colorScheme == "dark" ? ColorScheme.Dark : ColorScheme.Light,
            });
            context.SetDefaultTimeout(20_000);
            var page = await context.NewPageAsync();
            return new BrowserSession(playwright, browser, context, page);
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
        await Page.WaitForURLAsync(url => !url.Contains("/login"));
    }

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name), FullPage = false });

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
