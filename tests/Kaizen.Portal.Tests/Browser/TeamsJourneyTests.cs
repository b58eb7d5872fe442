using System.Net;
using System.Net.Http.Headers;
using Kaizen.Portal.Tests.Integration;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>An admin adds a member in the browser; the member signs in and makes, sees once, and revokes a personal token.</summary>
[Collection(BrowserCollection.Name)]
public sealed class TeamsJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalHost.StartAsync(embeddedSlots: 0);

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    private async Task<HttpStatusCode> StatusWithTokenAsync(string token)
    {
        using var http = new HttpClient { BaseAddress = _portal.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.GetAsync("/api/v1/me/tokens");
        return response.StatusCode;
    }

    [SkippableFact]
    public async Task An_admin_adds_a_member_who_signs_in_and_creates_sees_once_and_revokes_a_personal_token()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;

        // The admin adds a member with a password.
        await browser.SignInAsync("/admin/users");
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Admin" }).GetByRole(AriaRole.Link, new() { Name = "Users" }).WaitForAsync();
        await page.GetByLabel("User name").FillAsync("maria");
        await page.GetByLabel("Password (optional)").FillAsync("marias-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "New API token" })).ToContainTextAsync("User 'maria' added");
        await Assertions.Expect(page.Locator("tr[data-user=maria]")).ToContainTextAsync("member");

        // The member signs in and goes to their tokens from the app bar.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForAddressAsync(url => url.Contains("/login"));
        await page.GetByLabel("User name").FillAsync("maria");
        await page.GetByLabel("Password").FillAsync("marias-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForAddressAsync(url => !url.Contains("/login"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Your API tokens" }).ClickAsync();
        await page.WaitForAddressAsync(url => url.EndsWith("/account/tokens"));
        // The token the admin was shown when adding them is listed (by name only).
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "created with the user", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Admin" })).ToHaveCountAsync(0);

        // A new token is shown once, with a copy button and the warning.
        await page.GetByLabel("Token name").FillAsync("ci laptop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var shown = page.GetByRole(AriaRole.Region, new() { Name = "New API token" });
        await Assertions.Expect(shown).ToContainTextAsync("won't be shown again");
        await Assertions.Expect(shown.GetByRole(AriaRole.Button, new() { Name = "Copy" })).ToBeVisibleAsync();
        var token = (await shown.Locator("[data-token]").TextContentAsync())!.Trim();
        Assert.StartsWith("kzt_", token);
        Assert.Equal(HttpStatusCode.OK, await StatusWithTokenAsync(token));
        await shown.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Assertions.Expect(shown).ToHaveCountAsync(0);
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "ci laptop", Exact = true })).ToBeVisibleAsync();
        Assert.DoesNotContain(token, await page.ContentAsync());

        // Revoked: gone from the list, and refused at once.
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke token ci laptop" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "ci laptop", Exact = true })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "created with the user", Exact = true })).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithTokenAsync(token));
    }
}
