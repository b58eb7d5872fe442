using Kaizen.Portal.Tests.Integration;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>An admin keeps organization variables and secrets in the browser and reads the audit log.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AdminPagesTests : IAsyncLifetime
{
    private PortalHost _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalHost.StartAsync(embeddedSlots: 0);

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [SkippableFact]
    public async Task An_admin_saves_a_secret_that_is_listed_by_name_only_and_audited()
    {
        var value = "browser-secret-" + Guid.NewGuid().ToString("N");
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync("/admin/variables");

        await page.GetByLabel("Variable name").FillAsync("REGION");
        await page.GetByLabel("Value", new() { Exact = true }).FillAsync("eu-west-1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save variable" }).ClickAsync();
        await page.GetByLabel("Secret name").FillAsync("DEPLOY_TOKEN");
        await page.GetByLabel("Secret value").FillAsync(value);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save secret" }).ClickAsync();

        var secrets = page.GetByRole(AriaRole.Region, new() { Name = "Secrets" });
        await Assertions.Expect(secrets).ToContainTextAsync("DEPLOY_TOKEN");
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Variables" })).ToContainTextAsync("eu-west-1");
        Assert.DoesNotContain(value, await page.ContentAsync());
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Secrets" })).ToContainTextAsync("DEPLOY_TOKEN");
        Assert.DoesNotContain(value, await page.ContentAsync());

        await page.GotoAsync("/admin/audit");
        await Assertions.Expect(page.GetByText("secret.created")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("variable.set").First).ToBeVisibleAsync();
        Assert.DoesNotContain(value, await page.ContentAsync());
    }
}
