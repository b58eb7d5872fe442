using System.Globalization;
using System.Text.Json;
using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Pipelines;

namespace Kaizen.Portal.Tests.Components.Pipelines;

/// <summary>The build page's pipeline graph: columns by dependency, lines between blocks, statuses, times and reasons.</summary>
public sealed class PipelineGraphTests() : PortalComponentContext(withDatabase: false)
{
    private const long T0 = 1_800_000_000_000;
    private long _nextId = 1;

    private JobRow Job(string name, string? block, string status, string[]? needs = null, string? error = null, long? started = null,
        long? finished = null) => new()
    {
        Id = _nextId, Position = (int)_nextId++, Name = name, Block = block, Status = status, Error = error,
        Needs = needs is null ? null : JsonSerializer.Serialize(needs), StartedAt = started, FinishedAt = finished, QueuedAt = T0,
    };

    private IRenderedComponent<PipelineGraph> Render(IReadOnlyList<JobRow> jobs, long now = T0 + 60_000) =>
        Render<PipelineGraph>(p => p.Add(g => g.Jobs, jobs).Add(g => g.Now, now));

    private static double Left(AngleSharp.Dom.IElement block) =>
        double.Parse(block.GetAttribute("style")!.Split(';').Single(s => s.StartsWith("left:", StringComparison.Ordinal))[5..^2], CultureInfo.InvariantCulture);

    [Fact]
    public void Blocks_stand_in_columns_by_dependency_depth_with_a_line_from_each_block_to_each_block_that_needs_it()
    {
        // Arrange
        var jobs = new[]
        {
            Job("compile", "build", Status.Passed, started: T0, finished: T0 + 12_000),
            Job("flake8", "lint", Status.Failed, ["build"], started: T0 + 13_000, finished: T0 + 20_000),
            Job("pytest", "test", Status.Running, ["build"], started: T0 + 13_000),
            Job("ship", "deploy", Status.Skipped, ["lint", "test"], error: "skipped: block lint failed"),
            Job("mail", "notify", Status.Skipped, ["deploy"], error: "skipped: block deploy did not run"),
        };

        // Act
        var cut = Render(jobs);

        // Assert
        var blocks = cut.FindAll("section[data-block]");
        Assert.Equal([("build", "0"), ("lint", "1"), ("test", "1"), ("deploy", "2"), ("notify", "3")],
            blocks.Select(b => (b.GetAttribute("data-block")!, b.GetAttribute("data-column")!)));
        Assert.True(Left(blocks[0]) < Left(blocks[1]) && Left(blocks[1]) == Left(blocks[2]) && Left(blocks[2]) < Left(blocks[3]));
        Assert.Equal([("build", "lint"), ("build", "test"), ("lint", "deploy"), ("test", "deploy"), ("deploy", "notify")],
            cut.FindAll("path.kz-graph-line").Select(p => (p.GetAttribute("data-from")!, p.GetAttribute("data-to")!)));
        Assert.Equal(["kz-line-passed", "kz-line-passed", "kz-line-failed", "kz-line-running", "kz-line-pending"],
            cut.FindAll("path.kz-graph-line").Select(p => p.ClassList.Single(c => c.StartsWith("kz-line-", StringComparison.Ordinal))));
        Assert.Equal(["passed", "failed", "running", "skipped", "skipped"], blocks.Select(b => b.GetAttribute("data-status")!));
        Assert.Equal("after lint, test", cut.Find("section[data-block=deploy] [data-testid=block-needs]").TextContent);
    }

    [Fact]
    public void Each_job_links_to_its_page_with_its_status_time_and_why_it_was_skipped_or_waits()
    {
        // Arrange
        var jobs = new[]
        {
            Job("compile", "build", Status.Passed, started: T0, finished: T0 + 12_000),
            Job("pytest", "test", Status.Running, ["build"], started: T0 + 15_000),
            Job("e2e", "test", Status.Skipped, ["build"], error: "skipped: condition branch = main is false (branch is feature)"),
            Job("ship", "deploy", Status.Waiting, ["test"]),
        };

        // Act
        var cut = Render(jobs, now: T0 + 75_000);

        // Assert
        var compile = cut.Find("a[data-job=compile]");
        Assert.Equal("/jobs/1", compile.GetAttribute("href"));
        Assert.Equal("passed", compile.QuerySelector(".kz-status")!.GetAttribute("data-status"));
        Assert.Equal("12.0 s", compile.QuerySelector("[data-testid=job-time]")!.TextContent.Trim());
        Assert.Equal("1 m 00 s", cut.Find("a[data-job=pytest] [data-testid=job-time]").TextContent.Trim());
        var e2e = cut.Find("a[data-job=e2e]");
        Assert.Equal("skipped", e2e.QuerySelector(".kz-status")!.GetAttribute("data-status"));
        Assert.Contains("condition branch = main is false (branch is feature)", e2e.QuerySelector("[data-testid=job-why]")!.TextContent);
        Assert.Contains("did not run", e2e.TextContent);
        var ship = cut.Find("a[data-job=ship]");
        Assert.Equal("waiting", ship.QuerySelector(".kz-status")!.GetAttribute("data-status"));
        Assert.Contains("waiting for test", ship.TextContent);
    }

    [Fact]
    public void A_flat_build_is_one_column_called_Jobs_with_no_lines()
    {
        // Act
        var cut = Render([Job("lint", null, Status.Passed), Job("unit tests", null, Status.Queued)]);

        // Assert
        var block = Assert.Single(cut.FindAll("section[data-block]"));
        Assert.Equal(("Jobs", "0"), (block.GetAttribute("data-block"), block.GetAttribute("data-column")));
        Assert.Equal(["lint", "unit tests"], block.QuerySelectorAll("a[data-job]").Select(a => a.GetAttribute("data-job")));
        Assert.Empty(cut.FindAll("path.kz-graph-line"));
        Assert.Equal("1", cut.Find("[role=group]").GetAttribute("data-columns"));
    }

    [Fact]
    public void A_block_of_500_jobs_lists_failed_and_running_first_and_counts_the_rest_until_opened()
    {
        // Arrange
        var jobs = Enumerable.Range(0, 500).Select(i => Job($"test (N={i})", "matrix",
            i is 250 or 499 ? Status.Failed : i == 7 ? Status.Running : i < 300 ? Status.Passed : Status.Queued)).ToList();

        // Act
        var cut = Render(jobs);
        var listed = cut.FindAll("a[data-job]").Select(a => a.GetAttribute("data-job")).ToList();

        // Assert
        Assert.Equal(8, listed.Count);
        Assert.Equal(["test (N=250)", "test (N=499)", "test (N=7)", "test (N=0)"], listed.Take(4));
        Assert.Equal("492 more: 293 passed, 199 queued", cut.Find("[data-testid=block-more] span").TextContent);
        Assert.Equal("500 jobs", cut.Find(".kz-graph-count").TextContent);

        cut.Find("[data-testid=block-more] button").Click();
        Assert.Equal(500, cut.FindAll("a[data-job]").Count);
        cut.FindAll("button").Single(b => b.TextContent.Contains("Show fewer", StringComparison.Ordinal)).Click();
        Assert.Equal(8, cut.FindAll("a[data-job]").Count);
    }

    [Fact]
    public void The_graph_follows_new_statuses_when_the_page_gives_it_new_jobs()
    {
        // Arrange
        var cut = Render([Job("compile", "build", Status.Running, started: T0), Job("ship", "deploy", Status.Waiting, ["build"])]);
        Assert.Equal("kz-graph-line kz-line-running", cut.Find("path.kz-graph-line").GetAttribute("class"));

        // Act
        _nextId = 1;
        cut.Render(p => p.Add(g => g.Jobs, [Job("compile", "build", Status.Passed, started: T0, finished: T0 + 5_000),
            Job("ship", "deploy", Status.Running, ["build"], started: T0 + 6_000)]));

        // Assert
        Assert.Equal("kz-graph-line kz-line-passed", cut.Find("path.kz-graph-line").GetAttribute("class"));
        Assert.Equal("running", cut.Find("a[data-job=ship] .kz-status").GetAttribute("data-status"));
        Assert.Equal("passed", cut.Find("section[data-block=build]").GetAttribute("data-status"));
    }
}
