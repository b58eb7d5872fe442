using System.Text.RegularExpressions;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// Debugging a failed job from the browser: the job page's Debug button, the dialog, the debug page's xterm.js
/// terminal over the portal's WebSocket to a real PTY on the embedded runner; typing, colours, Ctrl-C and ending it.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DebugJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private long _jobId;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Checkout reads the price from the basket", ("checkout.sh", "echo \"total: $PRICE\"\nexit 1\n"));
        var slug = await _portal.CreateProjectAsync("Shop", _repo.Path, PortalHost.OneJob("bash checkout.sh"));
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        Assert.Equal("failed", build.Status);
        _jobId = build.Jobs[0].Id;
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_failed_job_opens_in_a_browser_terminal_where_commands_run_in_its_checkout()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync($"/jobs/{_jobId}");

        // The job page offers a debug session; the dialog starts it and opens its page.
        await page.GetByRole(AriaRole.Button, new() { Name = "Debug", Exact = false }).First.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Assertions.Expect(dialog).ToContainTextAsync("kaizen-commands.sh");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Start" }).ClickAsync();
        await page.WaitForAddressAsync(new Regex(@"/debug/\d+$"));

        // The shell opens in the job's checkout with its commands in a file.
        var terminal = page.GetByTestId("terminal");
        await Assertions.Expect(terminal).ToContainTextAsync("kaizen-commands.sh", new() { Timeout = 60_000 });
        await Assertions.Expect(terminal).ToContainTextAsync("kaizen-debug:", new() { Timeout = 60_000 });
        await terminal.ClickAsync();
        await page.Keyboard.TypeAsync("PRICE=42 bash checkout.sh; echo \"exit=$?\"");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(terminal).ToContainTextAsync("total: 42");
        await Assertions.Expect(terminal).ToContainTextAsync("exit=1");

        // Ctrl-C stops a command and the shell lives on.
        // Only once the sleep runs: a Ctrl-C typed while bash still starts the line can reach bash instead of it.
        await page.Keyboard.TypeAsync("echo \"sleeping-$((1+1))\"; sleep 641");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(terminal).ToContainTextAsync("sleeping-2");
        await Kaizen.Runner.Tests.Support.ForegroundProcess.WaitAsync(["sleep", "641"]);
        await page.Keyboard.PressAsync("Control+c");
        await page.Keyboard.TypeAsync("echo after-interrupt-$((40+2))");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(terminal).ToContainTextAsync("after-interrupt-42");

        // Colours reach the terminal as colours.
        await page.Keyboard.TypeAsync("printf '\\033[31mred-%s\\033[0m\\n' alert");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(terminal.Locator(".xterm-rows span.xterm-fg-1", new() { HasText = "red-alert" })).ToBeVisibleAsync();
        await browser.ScreenshotAsync("debug-session.png");

        // The shell's terminal follows the window's size.
        await page.Keyboard.TypeAsync("echo \"size=$(stty size | tr ' ' x)\"");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(terminal).ToContainTextAsync(new Regex(@"size=\d+x\d+"));
        var before = Regex.Matches(await terminal.InnerTextAsync(), @"size=(\d+x\d+)")[^1].Groups[1].Value;
        await page.SetViewportSizeAsync(900, 560);
        // The new size travels browser → portal → runner → PTY; ask the shell until it has arrived.
        var after = before;
        for (var attempt = 0; attempt < 20 && after == before; attempt++)
        {
            await page.Keyboard.TypeAsync($"echo \"resized{attempt}=$(stty size | tr ' ' x)\"");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(terminal).ToContainTextAsync(new Regex($@"resized{attempt}=\d+x\d+"));
            after = Regex.Match(await terminal.InnerTextAsync(), $@"resized{attempt}=(\d+x\d+)").Groups[1].Value;
        }

        Assert.NotEqual(before, after);

        // Ending it says so and frees the runner.
        await page.GetByRole(AriaRole.Button, new() { Name = "End session" }).ClickAsync();
        var confirm = page.GetByRole(AriaRole.Dialog);
        if (await confirm.CountAsync() > 0 && await confirm.GetByRole(AriaRole.Button, new() { Name = "End session" }).CountAsync() > 0)
            await confirm.GetByRole(AriaRole.Button, new() { Name = "End session" }).ClickAsync();
        await Assertions.Expect(page.GetByText(new Regex("ended by admin", RegexOptions.IgnoreCase)).First).ToBeVisibleAsync();
        Assert.Empty(browser.FailedResponses);
    }
}
