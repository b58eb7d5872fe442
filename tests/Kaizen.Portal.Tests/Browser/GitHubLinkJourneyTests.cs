using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Teams;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>A member links their GitHub account from their own account pages (a fake GitHub on loopback); signing in with it
/// afterwards is covered over HTTP by <see cref="GitHubSignInTests"/>.</summary>
[Collection(BrowserCollection.Name)]
public sealed class GitHubLinkJourneyTests : IAsyncLifetime
{
    private FakeGitHub _github = null!;
    private PortalHost _portal = null!;

    public async Task InitializeAsync()
    {
        _github = await FakeGitHub.StartAsync();
        var url = _github.BaseUrl.ToString().TrimEnd('/');
        _portal = await PortalHost.StartAsync(embeddedSlots: 0, settings: new Dictionary<string, string>
        {
            ["Kaizen:GitHub:ClientId"] = FakeGitHub.ClientId,
            ["Kaizen:GitHub:ClientSecret"] = FakeGitHub.ClientSecret,
            ["Kaizen:GitHub:OAuthUrl"] = url,
            ["Kaizen:GitHub:ApiUrl"] = url,
        });
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        await _github.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_member_links_their_github_account_from_the_account_page()
    {
        await TeamsPortal.CreateUserAsync(_portal, "lena", "member", "lenas-password");
        _github.NextAccount = ("lena-gh", 31337);
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        var visited = new List<string>();
        page.FrameNavigated += (_, frame) =>
        {
            if (frame == page.MainFrame) lock (visited) visited.Add(frame.Url);
        };

        try
        {
            // Signed in with her password, she finds the GitHub account page from her API tokens.
            await page.GotoAsync("/login");
            await page.GetByLabel("User name").FillAsync("lena");
            await page.GetByLabel("Password").FillAsync("lenas-password");
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await page.WaitForAddressAsync(url => !url.Contains("/login"));
            await page.GetByRole(AriaRole.Link, new() { Name = "Your API tokens" }).ClickAsync();
            await page.WaitForAddressAsync(url => url.EndsWith("/account/tokens"));
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "GitHub account", Exact = true }))
                .ToHaveAttributeAsync("href", "/account/github");
            await page.GotoAsync("/account/github");

            // Linking goes to GitHub and back.
            await page.GetByRole(AriaRole.Button, new() { Name = "Link GitHub account" }).ClickAsync();
            await page.WaitForAddressAsync(url => url.Contains("/account/github?linked=1"));
        }
        catch (Exception ex) when (ex is System.TimeoutException or PlaywrightException)
        {
            string[] trail;
            lock (visited) trail = [.. visited];
            await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "github-link-journey-failure.png") });
            throw new Xunit.Sdk.XunitException($"{ex.Message}\nPages: {string.Join(" → ", trail)}\nFailed responses: {string.Join("; ", browser.FailedResponses)}\n" +
                $"The page shows: {await page.Locator("body").InnerTextAsync(new() { Timeout = 5_000 })}", ex);
        }

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Your GitHub account is linked");
        await Assertions.Expect(page.GetByRole(AriaRole.Group, new() { Name = "Linked GitHub account" })).ToContainTextAsync("31337");

        Assert.Empty(browser.FailedResponses);
    }
}
