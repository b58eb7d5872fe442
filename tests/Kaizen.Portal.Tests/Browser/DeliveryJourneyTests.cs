using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// Delivery in the browser, against the real portal and its embedded runner: an admin adds a production server that
/// needs one approval, asks to deploy a passed build there and cannot approve it; a member sees it in the approvals
/// inbox, approves it, and the deploy runs with its log live on the admin's page.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DeliveryJourneyTests : IAsyncLifetime
{
    private const string MemberName = "maya";
    private const string MemberPassword = "maya-password-2030";


    // How long live things (a deploy starting, a log growing, a deploy finishing) may take on a loaded machine.
    private const float Live = 30_000;

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Add the shop front", ("app.py", "print('shop')\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task An_admin_asks_for_a_production_deploy_that_a_member_approves_from_the_inbox_and_it_runs_live()
    {
        var slug = await _portal.CreateProjectAsync("Web Shop", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "test", commands = new[] { "echo tested" } } },
            epilogue = Array.Empty<string>(),
        });
        using (var created = await _portal.Api.PostAsJsonAsync("/api/v1/users", new { name = MemberName, role = "member", password = MemberPassword }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        // The deploy says it started, then holds until the test lets it go on: the page is seen while it runs.
        var go = Path.Combine(_portal.Exchange, "go-production");
        var deployScript = $"echo deploying web shop; while [ ! -f '{go}' ]; do sleep 0.1; done";
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        Assert.Equal(Status.Passed, build.Status);

        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var admin = browser.Page;
        await browser.SignInAsync($"/projects/{slug}");

        // The Servers tab starts empty and says what to do; the admin adds production with one approval.
        await browser.ProjectSection("Servers").ClickAsync();
        await Assertions.Expect(admin.GetByText("No servers yet: add staging or production to deploy passed builds.")).ToBeVisibleAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Add server" }).ClickAsync();
        var dialog = admin.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("production");
        await dialog.GetByRole(AriaRole.Textbox, new() { Name = "Command 1", Exact = true }).FillAsync(deployScript);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Add a deploy command" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Textbox, new() { Name = "Command 2", Exact = true }).FillAsync("echo deployed");
        await dialog.GetByLabel("Approvals needed").FillAsync("1");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Add server" }).ClickAsync();
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        var production = admin.Locator("[data-server='production']");
        await Assertions.Expect(production).ToContainTextAsync("manual from any branch · 1 approval · members and admins");
        await Assertions.Expect(production).ToContainTextAsync("Nothing deployed yet.");

        // Deploy to… production from the passed build: it waits for an approval the admin may not give.
        await admin.GotoAsync($"/builds/{build.Id}");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Deploy to…" }).ClickAsync();
        await admin.Locator("[role=menuitem][data-server='production']").ClickAsync();
        await admin.WaitForAddressAsync("**/deploys/*");
        var deployId = long.Parse(admin.Url.Split('/').Last(), System.Globalization.CultureInfo.InvariantCulture);
        var status = admin.Locator("[data-testid=deploy-status] .kz-status");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "awaiting_approval");
        await Assertions.Expect(status).ToHaveTextAsync("awaiting approval");
        await Assertions.Expect(admin.GetByRole(AriaRole.Button, new() { Name = $"Approve deploy #{deployId}" })).ToBeDisabledAsync();
        await Assertions.Expect(admin.GetByText("You requested this deploy; someone else must approve it.")).ToBeVisibleAsync();
        await Assertions.Expect(admin.GetByText("0 of 1 approval given; 1 more needed.")).ToBeVisibleAsync();

        // A member, signed in elsewhere, sees it counted in the app bar and waiting in the inbox, and approves it.
        await using var memberContext = await browser.Context.Browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _portal.BaseUrl.ToString(),
            ViewportSize = BrowserSession.Laptop,
        });
        memberContext.SetDefaultTimeout(20_000);
        var member = await memberContext.NewPageAsync();
        await member.GotoAsync("/login?returnUrl=%2F");
        await member.GetByLabel("User name").FillAsync(MemberName);
        await member.GetByLabel("Password").FillAsync(MemberPassword);
        await member.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await member.WaitForAddressAsync(url => !url.Contains("/login"));
        await member.GetByRole(AriaRole.Link, new() { Name = "Approvals: 1 waiting" }).ClickAsync();
        await member.WaitForAddressAsync("**/approvals");
        var waiting = member.Locator($"[data-deploy='{deployId}']");
        await Assertions.Expect(waiting).ToContainTextAsync("production");
        await Assertions.Expect(waiting).ToContainTextAsync($"Build #{build.Id}");
        await Assertions.Expect(waiting).ToContainTextAsync("requested by admin");
        await waiting.GetByLabel("Comment (optional)").FillAsync("ship it");
        await waiting.GetByRole(AriaRole.Button, new() { Name = $"Approve deploy #{deployId}" }).ClickAsync();
        await Assertions.Expect(member.GetByText("Nothing waits for your approval.")).ToBeVisibleAsync();
        await Assertions.Expect(member.GetByRole(AriaRole.Link, new() { Name = "Approvals", Exact = true })).ToBeVisibleAsync();

        // The admin's deploy page follows without a reload: the approval, the log of the running deploy, then passed.
        await Assertions.Expect(admin.Locator($"[data-decision='{MemberName}']")).ToContainTextAsync("ship it", new() { Timeout = Live });
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "running", new() { Timeout = Live });
        await Assertions.Expect(admin.Locator(".kz-logview .row.line .text").Filter(new() { HasText = "deploying web shop" }))
            .ToBeVisibleAsync(new() { Timeout = Live });
        await Assertions.Expect(admin.GetByRole(AriaRole.Button, new() { Name = $"Cancel deploy #{deployId}" })).ToBeEnabledAsync();
        await File.WriteAllTextAsync(go, "");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "passed", new() { Timeout = Live });
        await Assertions.Expect(admin.GetByRole(AriaRole.Button, new() { Name = "Command: echo deployed, passed" })).ToBeVisibleAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Expand all sections" }).ClickAsync();
        await Assertions.Expect(admin.Locator(".kz-logview .row.line .text").Filter(new() { HasText = "deployed" }).Last).ToHaveTextAsync("deployed");
        await Assertions.Expect(admin.GetByRole(AriaRole.Button, new() { Name = $"Cancel deploy #{deployId}" })).ToHaveCountAsync(0);
        await ScreenshotAsync(admin, "deploy.png");

        // The Servers tab shows what runs on production now.
        await admin.GotoAsync($"/projects/{slug}");
        var serversSection = browser.ProjectSection("Servers");
        await serversSection.ClickAsync();
        await Assertions.Expect(serversSection).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bactive\b"));
        await admin.Mouse.MoveAsync(0, BrowserSession.Laptop.Height - 1);
        await Assertions.Expect(production.Locator("[data-field=current]")).ToContainTextAsync($"Build #{build.Id}");
        await Assertions.Expect(production.Locator(".kz-status")).ToHaveAttributeAsync("data-status", "passed");
        await ScreenshotAsync(admin, "servers.png");
        Assert.Empty(browser.FailedResponses);
    }

    // Like BrowserSession's, with transitions (the tab slider, ripples) run to their end first: the picture is stable.
    private static Task ScreenshotAsync(IPage page, string name) => page.ScreenshotAsync(new PageScreenshotOptions
    {
        Path = Path.Combine(BrowserSession.ScreenshotDirectory, name),
        Animations = ScreenshotAnimations.Disabled,
    });
}
