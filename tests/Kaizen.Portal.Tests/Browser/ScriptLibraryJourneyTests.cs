using Kaizen.Portal.Tests.Integration;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>A member keeps a shared script in the browser: writes it in the bash editor, changes it, compares versions.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ScriptLibraryJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalHost.StartAsync(embeddedSlots: 0);

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [SkippableFact]
    public async Task A_script_is_written_in_the_editor_changed_and_its_versions_compared()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync("/scripts");

        await page.GetByRole(AriaRole.Link, new() { Name = "Create the first script" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("deploy-s3");
        await page.GetByLabel("Description").FillAsync("Syncs the build folder to a bucket: deploy-s3 BUCKET");
        var editor = page.GetByRole(AriaRole.Textbox, new() { Name = "Bash script" });
        await editor.FillAsync("#!/usr/bin/env bash\nset -euo pipefail\n# the bucket comes first\naws s3 sync build \"s3://$1\" --delete\n");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create script" }).ClickAsync();

        // The portal navigates inside the page (no new document, no load event): the saved message and the address are
        // polled. Should the page stay, its own error says why (rather than only a timeout).
        var saved = page.GetByText("Saved deploy-s3 as v1.");
        var refused = page.GetByTestId("script-error");
        await Assertions.Expect(saved.Or(refused)).ToBeVisibleAsync(new() { Timeout = 60_000 });
        Assert.False(await refused.IsVisibleAsync(), $"Create script was refused: {(await refused.AllInnerTextsAsync()).FirstOrDefault()}");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/scripts/deploy-s3$"), new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByText("v1", new() { Exact = true })).ToBeVisibleAsync();
        // The editor's text is drawn by the coloured layer under the text area: comments, builtins and variables.
        await Assertions.Expect(page.Locator(".sh-comment")).ToHaveTextAsync(["#!/usr/bin/env bash", "# the bucket comes first"]);
        await Assertions.Expect(page.Locator(".sh-builtin")).ToHaveTextAsync(["set"]);
        await Assertions.Expect(page.Locator(".sh-variable")).ToHaveTextAsync(["$1"]);
        var area = await page.GetByRole(AriaRole.Textbox, new() { Name = "Bash script" }).BoundingBoxAsync();
        var code = await page.Locator(".bash-editor pre").BoundingBoxAsync();
        Assert.Equal((code!.Y, code.Height), (area!.Y, area.Height));
        await browser.ScreenshotAsync("script-editor.png");

        await editor.FillAsync("#!/usr/bin/env bash\nset -euo pipefail\n# the bucket comes first\naws s3 sync build \"s3://$1\" --delete\necho \"synced to $1\"\n");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save as v2" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save as v3" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Tab, new() { Name = "Versions (2)" }).ClickAsync();
        var diff = page.GetByRole(AriaRole.Table, new() { Name = "Changes from v1 to v2" });
        await Assertions.Expect(diff.Locator(".diff-inserted")).ToContainTextAsync("echo \"synced to $1\"");
        await browser.ScreenshotAsync("script-versions.png");

        await page.GotoAsync("/scripts");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "deploy-s3" })).ToBeVisibleAsync();
        Assert.Empty(browser.FailedResponses);
    }
}
