using System.Text.RegularExpressions;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>A finished build whose test job printed coloured output and failed in its second command.</summary>
public sealed class FailedTestJob : IAsyncLifetime
{
    private GitRepo _repo = null!;

    public PortalHost Portal { get; private set; } = null!;
    public long BuildId { get; private set; }
    public long JobId { get; private set; }

    public async Task InitializeAsync()
    {
        Portal = await PortalHost.StartAsync(embeddedSlots: 2);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Refunds go back to the original card",
            ("billing.py", "def refund(): pass\n"),
            ("ci/test-api.sh", """
                printf '\033[1mcollected 60 items\033[0m\n'
                for i in $(seq 1 60); do printf 'tests/test_api.py::test_case_%02d \033[32mPASSED\033[0m\n' "$i"; done
                """),
            ("ci/test-billing.sh", """
                printf 'tests/test_billing.py::test_refund \033[31;1mFAILED\033[0m\n'
                printf '\033[31mE   AssertionError: expected 200, got 500\033[0m\n'
                exit 1
                """));
        var slug = await Portal.CreateProjectAsync("Billing API", _repo.Path, new
        {
            setup = new[] { "echo Restoring packages; echo Restored 42 packages" },
            jobs = new[]
            {
                new { name = "unit tests", commands = new[] { "bash ci/test-api.sh", "bash ci/test-billing.sh", "echo never runs" } },
                new { name = "lint", commands = new[] { "echo All checks passed" } },
            },
            epilogue = new[] { "echo Uploading the test report" },
        });
        BuildId = await Portal.StartBuildAsync(slug);
        var build = await Portal.WaitForBuildAsync(BuildId);
        Assert.Equal("failed", build.Status);
        JobId = build.Jobs.Single(j => j.Name == "unit tests").Id;
    }

    public async Task DisposeAsync()
    {
        await Portal.DisposeAsync();
        _repo.Dispose();
    }
}

/// <summary>The job log page of a finished job: sections, colours, search and line links.</summary>
[Collection(BrowserCollection.Name)]
public sealed class JobLogTests(FailedTestJob job) : IClassFixture<FailedTestJob>
{
    private const string Passing = "Command: bash ci/test-api.sh";
    private const string Failing = "Command: bash ci/test-billing.sh";

    private async Task<BrowserSession> OpenLogAsync(string fragment = "")
    {
        var browser = await BrowserSession.StartAsync(job.Portal.BaseUrl);
        await browser.SignInAsync($"/jobs/{job.JobId}{fragment}");
        await Assertions.Expect(browser.Page.Locator(".kz-jobhead .kz-status")).ToHaveAttributeAsync("data-status", "failed");
        return browser;
    }

    [SkippableFact]
    public async Task The_failed_command_is_open_and_the_passed_ones_are_closed()
    {
        await using var browser = await OpenLogAsync();
        var page = browser.Page;

        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = Failing })).ToHaveAttributeAsync("aria-expanded", "true");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = Failing })).ToHaveAccessibleNameAsync(new Regex(", failed, .+, exit code 1$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = Passing })).ToHaveAttributeAsync("aria-expanded", "false");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Command: echo Restoring packages" })).ToHaveAttributeAsync("aria-expanded", "false");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Command: echo never runs" })).ToHaveAttributeAsync("aria-expanded", "false");
        var log = page.GetByRole(AriaRole.Region, new() { Name = "Log output" });
        await Assertions.Expect(log).ToContainTextAsync("E   AssertionError: expected 200, got 500");
        await Assertions.Expect(log).Not.ToContainTextAsync("test_case_01");
        await browser.ScreenshotAsync("job-log.png");

        // Opening a passed section shows its lines.
        await page.GetByRole(AriaRole.Button, new() { Name = Passing }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = Passing })).ToHaveAttributeAsync("aria-expanded", "true");
        await Assertions.Expect(log).ToContainTextAsync("tests/test_api.py::test_case_01 PASSED");
    }

    [SkippableFact]
    public async Task The_builds_jobs_sit_beside_the_log_and_lead_from_one_to_the_other()
    {
        await using var browser = await OpenLogAsync();
        var page = browser.Page;
        var rail = page.GetByRole(AriaRole.Navigation, new() { Name = $"Jobs of build #{job.BuildId}" });

        await Assertions.Expect(rail.GetByRole(AriaRole.Link)).ToHaveCountAsync(2);
        await Assertions.Expect(rail.Locator("[aria-current=page]")).ToContainTextAsync("unit tests");
        await Assertions.Expect(rail.Locator("li").Filter(new() { HasText = "lint" }).Locator(".kz-status")).ToHaveAttributeAsync("data-status", "passed");
        var railBox = await rail.BoundingBoxAsync();
        var logBox = await page.GetByRole(AriaRole.Region, new() { Name = "Log output" }).BoundingBoxAsync();
        Assert.True(railBox!.X + railBox.Width <= logBox!.X, "on a laptop the jobs are beside the log, not above it");

        await rail.GetByRole(AriaRole.Link).Filter(new() { HasText = "lint" }).ClickAsync();
        await page.WaitForAddressAsync(url => !url.EndsWith($"/jobs/{job.JobId}", StringComparison.Ordinal));
        await Assertions.Expect(page.Locator(".kz-jobhead .name")).ToHaveTextAsync("lint");
        await Assertions.Expect(rail.Locator("[aria-current=page]")).ToContainTextAsync("lint");
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Log output" })).ToBeVisibleAsync();
    }

    [SkippableFact]
    public async Task Colours_are_rendered_not_printed()
    {
        await using var browser = await OpenLogAsync();
        var page = browser.Page;
        var log = page.GetByRole(AriaRole.Region, new() { Name = "Log output" });
        await page.GetByRole(AriaRole.Button, new() { Name = Passing }).ClickAsync();

        var passed = log.Locator(".ansi-fg-2").Filter(new() { HasText = "PASSED" }).First;
        await Assertions.Expect(passed).ToBeVisibleAsync();
        var failed = log.Locator(".ansi-fg-1.ansi-bold").Filter(new() { HasText = "FAILED" });
        await Assertions.Expect(failed).ToBeVisibleAsync();
        // The classes take effect: green and red text, unlike the plain text beside them.
        var colours = await passed.EvaluateAsync<string[]>("""
            e => [getComputedStyle(e).color, getComputedStyle(e.closest('.text')).color,
                  getComputedStyle(document.querySelector('.kz-logview .ansi-fg-1')).color]
            """);
        Assert.Equal(3, colours.Distinct().Count());
        Assert.Equal("700", await failed.EvaluateAsync<string>("e => getComputedStyle(e).fontWeight"));
        await Assertions.Expect(log).ToContainTextAsync("collected 60 items");
        await Assertions.Expect(log).Not.ToContainTextAsync("\u001b");
        await Assertions.Expect(log).Not.ToContainTextAsync("[32m");
        await Assertions.Expect(log).Not.ToContainTextAsync("[0m");
    }

    [SkippableFact]
    public async Task Search_counts_the_matches_and_moves_between_them()
    {
        await using var browser = await OpenLogAsync();
        var page = browser.Page;
        var tools = page.GetByRole(AriaRole.Toolbar, new() { Name = "Log tools" });

        await tools.GetByLabel("Search the log").FillAsync("test_case_1");
        var count = tools.GetByRole(AriaRole.Status);
        await Assertions.Expect(count).ToHaveTextAsync("1 of 10");
        // The first match opened its (passed, closed) section and is marked.
        var current = page.Locator(".kz-logview .row.current");
        await Assertions.Expect(current).ToContainTextAsync("test_case_10");
        await Assertions.Expect(current.Locator("mark")).ToHaveTextAsync("test_case_1");

        await tools.GetByRole(AriaRole.Button, new() { Name = "Next match" }).ClickAsync();
        await Assertions.Expect(count).ToHaveTextAsync("2 of 10");
        await Assertions.Expect(current).ToContainTextAsync("test_case_11");
        await tools.GetByLabel("Search the log").PressAsync("Shift+Enter");
        await Assertions.Expect(count).ToHaveTextAsync("1 of 10");

        await tools.GetByLabel("Search the log").FillAsync("no such text");
        await Assertions.Expect(count).ToHaveTextAsync("No matches");
    }

    [SkippableFact]
    public async Task A_line_link_opens_the_log_at_that_line_highlighted()
    {
        // Line 30 is inside the passed command, which is closed when nobody links to it.
        await using var browser = await OpenLogAsync("#L30");
        var page = browser.Page;

        var selected = page.Locator(".kz-logview .row.selected");
        await Assertions.Expect(selected).ToHaveCountAsync(1);
        await Assertions.Expect(selected.GetByRole(AriaRole.Link)).ToHaveAccessibleNameAsync("Link to line 30");
        await Assertions.Expect(selected).ToContainTextAsync("test_case_");
        await Assertions.Expect(selected).ToBeInViewportAsync();

        // Clicking another line number selects it and puts its link in the address bar.
        await page.GetByRole(AriaRole.Link, new() { Name = "Link to line 32", Exact = true }).ClickAsync();
        await Assertions.Expect(selected.GetByRole(AriaRole.Link)).ToHaveAccessibleNameAsync("Link to line 32");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/jobs/{job.JobId}#L32$"));
    }
}

/// <summary>A finished build whose job printed a large log (about 30 MB, 400,000 lines) in a passed command, then failed.</summary>
public sealed class LargeLogJob : IAsyncLifetime
{
    public const int Lines = 400_000;
    private GitRepo _repo = null!;

    public PortalHost Portal { get; private set; } = null!;
    public long JobId { get; private set; }

    public async Task InitializeAsync()
    {
        Portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("A chatty build", ("README.md", "chatty\n"));
        var slug = await Portal.CreateProjectAsync("Chatty", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[]
            {
                new
                {
                    name = "big",
                    commands = new[]
                    {
                        $"awk 'BEGIN {{ for (i = 1; i <= {Lines}; i++) printf \"step %d of the long build \\033[32mok\\033[0m padding text to make lines longer\\n\", i }}'",
                        "echo the last command fails; exit 3",
                    },
                },
            },
            epilogue = Array.Empty<string>(),
        });
        var build = await Portal.WaitForBuildAsync(await Portal.StartBuildAsync(slug), timeoutSeconds: 300);
        Assert.Equal("failed", build.Status);
        JobId = build.Jobs.Single().Id;
    }

    public async Task DisposeAsync()
    {
        await Portal.DisposeAsync();
        _repo.Dispose();
    }
}

/// <summary>A large stored log opens paged: a late line by its link and by search, without loading the log.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LargeJobLogTests(LargeLogJob job) : IClassFixture<LargeLogJob>
{
    private async Task<BrowserSession> OpenAsync(string fragment = "")
    {
        var browser = await BrowserSession.StartAsync(job.Portal.BaseUrl);
        await browser.SignInAsync($"/jobs/{job.JobId}{fragment}");
        await Assertions.Expect(browser.Page.Locator(".kz-jobhead .kz-status")).ToHaveAttributeAsync("data-status", "failed");
        return browser;
    }

    private async Task<int> NumberOfAsync(string text)
    {
        var view = await job.Portal.Service<Kaizen.Portal.Logs.LogViews>().OpenAsync(job.JobId, CancellationToken.None);
        var found = await view.SearchAsync(text, 1, 2, CancellationToken.None);
        return Assert.Single(found.Numbers);
    }

    [SkippableFact]
    public async Task A_link_to_a_late_line_of_a_large_log_opens_its_closed_section_at_that_line()
    {
        var number = await NumberOfAsync($"step {LargeLogJob.Lines - 7} of");
        await using var browser = await OpenAsync($"#L{number}");
        var page = browser.Page;

        var selected = page.Locator(".kz-logview .row.selected");
        await Assertions.Expect(selected).ToContainTextAsync($"step {LargeLogJob.Lines - 7} of the long build ok");
        await Assertions.Expect(selected.GetByRole(AriaRole.Link)).ToHaveAccessibleNameAsync($"Link to line {number}");
        await Assertions.Expect(selected).ToBeInViewportAsync();
        await Assertions.Expect(selected.Locator(".ansi-fg-2")).ToHaveTextAsync("ok");
    }

    [SkippableFact]
    public async Task Search_finds_a_late_line_of_a_large_log_and_caps_its_matches()
    {
        await using var browser = await OpenAsync();
        var page = browser.Page;
        var tools = page.GetByRole(AriaRole.Toolbar, new() { Name = "Log tools" });
        var count = tools.GetByRole(AriaRole.Status);

        await tools.GetByLabel("Search the log").FillAsync($"step {LargeLogJob.Lines - 3} of");
        await Assertions.Expect(count).ToHaveTextAsync("1 of 1", new() { Timeout = 30_000 });
        var current = page.Locator(".kz-logview .row.current");
        await Assertions.Expect(current).ToContainTextAsync($"step {LargeLogJob.Lines - 3} of the long build");
        await Assertions.Expect(current).ToBeInViewportAsync();

        // Every line matches "padding": the count says the search stopped at the first thousand.
        await tools.GetByLabel("Search the log").FillAsync("padding");
        await Assertions.Expect(count).ToHaveTextAsync("1 of first 1,000", new() { Timeout = 30_000 });
        await Assertions.Expect(count).ToHaveAttributeAsync("title", new Regex("first 1,000 matches"));
    }
}
