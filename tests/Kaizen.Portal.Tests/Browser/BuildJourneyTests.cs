using System.Globalization;
using System.Text.RegularExpressions;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// Issue #3's path in the browser, against the real portal and its embedded runner: add a repository, write its
/// build settings in the editor, run a build, watch the log grow, read the durations, and cancel a long build.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class BuildJourneyTests : IAsyncLifetime
{
    // 40 steps of a quarter second: long enough to watch on a slow machine, short enough for the suite.
    private const int Steps = 40;
    private const string StepLoop = "for i in $(seq 1 40); do echo step $i; sleep 0.25; done";

    // How long live things (a job starting, a log growing, a build finishing) may take on a loaded machine.
    private const float Live = 30_000;

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 2);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Add the order service", ("app.py", "print('orders')\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_new_user_adds_a_repository_writes_its_build_settings_and_watches_the_build_live()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync();

        // Add the repository.
        await page.GetByRole(AriaRole.Button, new() { Name = "New project" }).First.ClickAsync();
        await page.GetByLabel("Name").FillAsync("Order Service");
        await page.GetByLabel("Git repository").FillAsync(_repo.Path);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Project order-service created")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Open project" }).ClickAsync();
        await page.WaitForAddressAsync("**/projects/order-service/builds");

        // Write the build settings in the editor of the Settings tab.
        await browser.ProjectSection("Settings").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Build settings" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Group, new() { Name = "Job 1", Exact = true }).GetByLabel("Job name").FillAsync("tests");
        var job = page.GetByRole(AriaRole.Group, new() { Name = "Job tests", Exact = true });
        await job.GetByRole(AriaRole.Textbox, new() { Name = "Command 1", Exact = true }).FillAsync(StepLoop);
        await job.GetByRole(AriaRole.Button, new() { Name = "Add a command to job tests" }).ClickAsync();
        await job.GetByRole(AriaRole.Textbox, new() { Name = "Command 2", Exact = true }).FillAsync("echo done");
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Unsaved changes" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("Build settings saved.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Unsaved changes")).ToHaveCountAsync(0);

        // Run a build and open the job's log from the build page.
        await page.GetByRole(AriaRole.Button, new() { Name = "Run build of main" }).ClickAsync();
        await page.WaitForAddressAsync("**/builds/*");
        // Started from the page, it is in the audit log like a Run build… or an API start.
        var started = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<List<Kaizen.Portal.Audit.AuditEntry>>(
            _portal.Api, "/api/v1/audit?action=build.started");
        Assert.Contains(started!, e => e.Actor == "admin" && e.Details!.StartsWith("branch main at ", StringComparison.Ordinal));
        await page.GetByRole(AriaRole.Link, new() { Name = "Log of tests" }).ClickAsync();
        await page.WaitForAddressAsync("**/jobs/*");
        var jobStatus = page.Locator(".kz-jobhead .kz-status");

        // The log grows while the job runs, without a reload.
        await Assertions.Expect(jobStatus).ToHaveAttributeAsync("data-status", "running", new() { Timeout = Live });
        var first = await LastStepShownAsync(page, atLeast: 1);
        Assert.True(first < Steps, $"The job had already printed every step ({first}) when its log first showed; nothing was left to watch.");
        var later = await LastStepShownAsync(page, atLeast: first + 1);
        Assert.True(later > first);

        // When it is over, each command's section carries its duration and exit code.
        await Assertions.Expect(jobStatus).ToHaveAttributeAsync("data-status", "passed", new() { Timeout = Live });
        var loop = CommandSection(page, "for i in $(seq 1 40)");
        await Assertions.Expect(loop.Locator(".exit")).ToHaveTextAsync("exit 0");
        var seconds = Seconds(await loop.Locator(".duration").InnerTextAsync());
        Assert.InRange(seconds, Steps * 0.25 - 0.5, 120);
        var done = CommandSection(page, "echo done");
        await Assertions.Expect(done.Locator(".duration")).ToHaveTextAsync(DurationText());
        await Assertions.Expect(done.Locator(".exit")).ToHaveTextAsync("exit 0");
        // The section the page was following when the job ended stays open: the view does not fold up under the reader.
        Assert.True(await page.Locator(".kz-logview button[aria-expanded=true][aria-label^='Command:']").CountAsync() >= 1,
            "no command section was left open after the job passed");
        await Assertions.Expect(page.GetByRole(AriaRole.Group, new() { Name = "Time per command" }).GetByRole(AriaRole.Button)).Not.ToHaveCountAsync(0);

        // The project page lists the build; the settings page shows what was written.
        await page.GotoAsync("/projects/order-service");
        await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Build history" }).Locator(".kz-status").First)
            .ToHaveAttributeAsync("data-status", "passed");
        await browser.ScreenshotAsync("project.png");
        await page.GotoAsync("/projects/order-service/settings");
        await Assertions.Expect(page.GetByRole(AriaRole.Group, new() { Name = "Job tests" }).GetByRole(AriaRole.Textbox, new() { Name = "Command 1", Exact = true })).ToHaveValueAsync(StepLoop);
        await browser.ScreenshotAsync("settings.png");
        Assert.Empty(browser.FailedResponses);
    }

    [SkippableFact]
    public async Task A_long_build_is_canceled_from_its_build_page()
    {
        var slug = await _portal.CreateProjectAsync("Soak Test", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "soak", commands = new[] { "echo soaking", "sleep 300" } } },
            epilogue = Array.Empty<string>(),
        });
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}");

        await page.GetByRole(AriaRole.Button, new() { Name = "Run build of main" }).ClickAsync();
        await page.WaitForAddressAsync("**/builds/*");
        var soak = page.Locator("tr[data-job='soak']");
        await Assertions.Expect(soak).ToContainTextAsync("sleep 300", new() { Timeout = Live });
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
        // A running job makes Cancel ask first.
        await Assertions.Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("1 job is running; cancel it?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel build" }).ClickAsync();

        var buildStatus = page.Locator(".kz-status").First;
        await Assertions.Expect(buildStatus).ToHaveAttributeAsync("data-status", "canceled", new() { Timeout = Live });
        await Assertions.Expect(soak.Locator(".kz-status")).ToHaveAttributeAsync("data-status", "canceled", new() { Timeout = Live });
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Rerun", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Rerun failed jobs" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("canceled-by")).ToContainTextAsync("Canceled by admin");
        var id = long.Parse(page.Url.Split('/').Last(), CultureInfo.InvariantCulture);
        Assert.Equal("canceled", (await _portal.GetBuildAsync(id)).Status);

        // Rerun opens the new build in the same page, which follows that build live: canceling it shows at once.
        await page.GetByRole(AriaRole.Button, new() { Name = "Rerun", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/builds/(?!{id}$)\\d+$"), new() { Timeout = Live });
        await Assertions.Expect(soak).ToContainTextAsync("sleep 300", new() { Timeout = Live });
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel build" }).ClickAsync();
        await Assertions.Expect(buildStatus).ToHaveAttributeAsync("data-status", "canceled", new() { Timeout = Live });
        var rerun = long.Parse(page.Url.Split('/').Last(), CultureInfo.InvariantCulture);
        Assert.Equal("canceled", (await _portal.GetBuildAsync(rerun)).Status);
    }

    /// <summary>Waits until the log shows "step N" with N at least <paramref name="atLeast"/>; returns the highest N shown.</summary>
    private static async Task<int> LastStepShownAsync(IPage page, int atLeast)
    {
        var handle = await page.WaitForFunctionAsync("""
            atLeast => {
                const steps = [...document.querySelectorAll('.kz-logview .row.line .text')]
                    .map(e => /^step (\d+)$/.exec(e.textContent.trim()))
                    .filter(m => m)
                    .map(m => Number(m[1]));
                const last = steps.length ? Math.max(...steps) : 0;
                return last >= atLeast ? last : 0;
            }
            """, atLeast, new() { Timeout = Live });
        return await handle.JsonValueAsync<int>();
    }

    /// <summary>The header of the section of the command starting with <paramref name="command"/>.</summary>
    private static ILocator CommandSection(IPage page, string command) =>
        page.Locator(".kz-section").Filter(new() { Has = page.GetByRole(AriaRole.Button, new() { Name = $"Command: {command}" }) });

    [GeneratedRegex(@"^\d+(\.\d+)? (ms|s)$")]
    private static partial Regex DurationText();

    private static double Seconds(string text)
    {
        var m = Regex.Match(text, @"^(\d+(?:[.,]\d+)?) s$");
        Assert.True(m.Success, $"'{text}' is not a duration in seconds");
        return double.Parse(m.Groups[1].Value.Replace(',', '.'), CultureInfo.InvariantCulture);
    }
}
