using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>The settings form in Chromium, without YAML: a member turns a flat list of jobs into blocks, adds one that runs
/// after the first, sets fail fast and a limit per job, and a real build runs the two blocks in that order; a time limit
/// that does not read is said under its own field and nothing is saved.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PipelineFormJourneyTests : IAsyncLifetime
{
    private const float Live = 30_000;
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 2);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("app.py", "print('hello')\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    private Task<string> CreateAsync() => _portal.CreateProjectAsync("Form App", _repo.Path, new
    {
        setup = Array.Empty<string>(),
        jobs = new[] { new { name = "test", commands = new[] { "echo testing" } } },
        epilogue = Array.Empty<string>(),
    });

    [SkippableFact]
    public async Task A_member_splits_the_jobs_into_blocks_adds_one_after_the_first_and_a_build_runs_them_in_order()
    {
        // Arrange
        var slug = await CreateAsync();
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}/settings");

        // Act: split, add a block after the first, give it a job; fail fast on and 10 minutes per job.
        await page.GetByRole(AriaRole.Button, new() { Name = "Split into blocks" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Group, new() { Name = "Block Build", Exact = true })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add block", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Group, new() { Name = "Block 2", Exact = true })
            .GetByRole(AriaRole.Textbox, new() { Name = "Block name" }).FillAsync("deploy-check");
        var added = page.GetByRole(AriaRole.Group, new() { Name = "Block deploy-check", Exact = true });
        await Assertions.Expect(added.GetByRole(AriaRole.Checkbox, new() { Name = "Build" })).ToBeCheckedAsync();
        await added.GetByRole(AriaRole.Group, new() { Name = "Job 1 of block deploy-check", Exact = true })
            .GetByRole(AriaRole.Textbox, new() { Name = "Job name" }).FillAsync("check");
        await page.GetByRole(AriaRole.Group, new() { Name = "Job check", Exact = true })
            .GetByRole(AriaRole.Textbox, new() { Name = "Command 1", Exact = true }).FillAsync("echo checked");
        var options = page.GetByRole(AriaRole.Group, new() { Name = "Pipeline options", Exact = true });
        await options.GetByText("Fail fast", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("fail-fast-switch")).ToBeCheckedAsync();
        await options.GetByRole(AriaRole.Textbox, new() { Name = "Time limit per job" }).FillAsync("10m");
        // Both blocks in the picture: the added one's top just under the sticky action bar.
        await page.GetByRole(AriaRole.Group, new() { Name = "Block deploy-check", Exact = true }).EvaluateAsync(
            "b => window.scrollTo(0, b.getBoundingClientRect().top + window.scrollY - 420)");
        // The picture for the README shows the form, not the passing message about the split.
        var hideToasts = await page.AddStyleTagAsync(new() { Content = ".mud-snackbar { visibility: hidden !important; }" });
        await browser.ScreenshotAsync("settings-blocks.png");
        await hideToasts.EvaluateAsync("s => s.remove()");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();

        // Assert: saved as two blocks, the second after the first, with the options.
        await Assertions.Expect(page.GetByText("Build settings saved.")).ToBeVisibleAsync();
        var stored = (await _portal.Service<ProjectStore>().FindBySlugAsync(slug))!.Settings;
        Assert.Empty(stored.Jobs);
        Assert.Equal(["Build", "deploy-check"], stored.Blocks!.Select(b => b.Name));
        Assert.Equal(["Build"], stored.Blocks![1].Dependencies);
        Assert.True(stored.FailFast);
        Assert.Equal("10m", stored.TimeLimit);

        // Act: a real build of the saved settings.
        await page.GotoAsync($"/projects/{slug}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run build of main" }).ClickAsync();
        await page.WaitForAddressAsync("**/builds/*");

        // Assert: the graph shows the two blocks, the second in the column after the first, joined by a line; both pass.
        var graph = page.GetByRole(AriaRole.Group, new() { Name = "Pipeline graph" });
        await Assertions.Expect(graph.Locator("a[data-job='check'] .kz-status")).ToHaveAttributeAsync("data-status", "passed", new() { Timeout = Live });
        await Assertions.Expect(graph.Locator("a[data-job='test'] .kz-status")).ToHaveAttributeAsync("data-status", "passed");
        Assert.Equal(["Build", "deploy-check"], await graph.Locator("section[data-block]").EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.block)"));
        Assert.Equal(["0", "1"], await graph.Locator("section[data-block]").EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.column)"));
        await Assertions.Expect(graph.Locator("path[data-from='Build'][data-to='deploy-check']")).ToHaveCountAsync(1);
        Assert.Empty(browser.FailedResponses);
    }

    [SkippableFact]
    public async Task A_time_limit_that_does_not_read_is_said_under_its_field_and_nothing_is_saved()
    {
        // Arrange
        var slug = await CreateAsync();
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}/settings");
        var limit = page.GetByRole(AriaRole.Group, new() { Name = "Pipeline options", Exact = true })
            .GetByRole(AriaRole.Textbox, new() { Name = "Time limit per job" });

        // Act
        await limit.FillAsync("ten minutes");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();

        // Assert: under the field, marked invalid, and in the list in the same words; no internal path; nothing saved.
        var field = page.GetByRole(AriaRole.Group, new() { Name = "Pipeline options", Exact = true }).Locator(".mud-input-control")
            .Filter(new() { Has = page.GetByRole(AriaRole.Textbox, new() { Name = "Time limit per job" }) });
        await Assertions.Expect(field).ToContainTextAsync("'ten minutes' is not a time limit; write it as 90s, 10m, 1h or 1h30m.");
        await Assertions.Expect(limit).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.GetByTestId("settings-problems"))
            .ToContainTextAsync("The time limit per job: 'ten minutes' is not a time limit");
        Assert.DoesNotContain("timeLimit:", await page.ContentAsync());
        var stored = (await _portal.Service<ProjectStore>().FindBySlugAsync(slug))!.Settings;
        Assert.Null(stored.TimeLimit);

        // Fixing it clears the message, and Save keeps it.
        await limit.FillAsync("1h30m");
        await Assertions.Expect(field).Not.ToContainTextAsync("is not a time limit");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("Build settings saved.")).ToBeVisibleAsync();
        stored = (await _portal.Service<ProjectStore>().FindBySlugAsync(slug))!.Settings;
        Assert.Equal("1h30m", stored.TimeLimit);
    }
}
