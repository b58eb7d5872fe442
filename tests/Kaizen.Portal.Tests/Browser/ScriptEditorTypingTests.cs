using System.Net.Http.Json;
using Kaizen.Portal.Tests.Integration;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// Typing in the shared script editor never loses a character, at any speed, also with 40 ms of network latency each
/// way (keys typed while the server's answer to earlier ones is on its way must not be overwritten by it).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ScriptEditorTypingTests : IAsyncLifetime
{
    private const string Burst = "#!/usr/bin/env bash\necho \"deploying to $1\" && sleep 1 # done\n";

    private PortalHost _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalHost.StartAsync(embeddedSlots: 0);

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [SkippableTheory]
    [InlineData(0)]
    [InlineData(40)]
    public async Task A_burst_of_typing_is_kept_exactly_and_saved_as_typed(int latencyMilliseconds)
    {
        await using var proxy = new LatencyProxy(_portal.BaseUrl, TimeSpan.FromMilliseconds(latencyMilliseconds));
        await using var browser = await BrowserSession.StartAsync(proxy.Url);
        var page = browser.Page;
        await browser.SignInAsync("/scripts");
        await page.GetByRole(AriaRole.Link, new() { Name = "Create the first script" }).ClickAsync();
        var name = $"typed-{latencyMilliseconds}";
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        var editor = page.GetByRole(AriaRole.Textbox, new() { Name = "Bash script" });
        await editor.ClickAsync();

        // Key by key with no pause, as a fast typist's burst arrives; then a second burst after the first is answered.
        await page.Keyboard.TypeAsync(Burst);
        await page.Keyboard.TypeAsync("exit 0\n");

        await Assertions.Expect(editor).ToHaveValueAsync(Burst + "exit 0\n");
        // The coloured layer (drawn from what the server heard) catches up with every character.
        await Assertions.Expect(page.Locator(".bash-editor pre")).ToHaveTextAsync(Burst + "exit 0\n\n");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create script" }).ClickAsync();
        await page.WaitForAddressAsync(url => url.EndsWith($"/scripts/{name}", StringComparison.Ordinal));

        var script = await _portal.Api.GetFromJsonAsync<Kaizen.Portal.Api.ScriptResponse>($"/api/v1/scripts/{name}");
        Assert.Equal(Burst + "exit 0\n", script!.Body);
    }
}
