using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Logs;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using static Kaizen.Portal.Tests.Components.Logs.LogTestData;

namespace Kaizen.Portal.Tests.Components.Logs;

public sealed class LogViewerTests : LogComponentsTestContext
{
    private IRenderedComponent<LogViewer> RenderViewer(JobRow job, IReadOnlyList<CommandRow> commands, Kaizen.Portal.Logs.LogDocument doc) =>
        Render<LogViewer>(p => p
            .Add(x => x.JobId, job.Id)
            .Add(x => x.JobStatus, job.Status)
            .Add(x => x.Sections, Sections(job, commands, doc))
            .Add(x => x.Source, doc));

    private static string? Expanded(IRenderedComponent<LogViewer> cut, string title) =>
        cut.FindAll("button[aria-expanded]").Single(b => b.TextContent.Contains(title)).GetAttribute("aria-expanded");

    private static CommandRow Step(CommandRow c, int? parent, string? script = null) => new()
    {
        JobId = c.JobId, Idx = c.Idx, Phase = c.Phase, Text = c.Text, Status = c.Status, StartedAt = c.StartedAt,
        DurationMs = c.DurationMs, ExitCode = c.ExitCode, ParentIdx = parent, ScriptName = script, ScriptVersion = script is null ? null : 2,
    };

    private static readonly CommandRow[] FinishedCommands =
    [
        Command(0, "npm ci", Status.Passed, 4_000, 0),
        Command(1, "npm test", Status.Failed, 9_000, 1),
        Command(2, "npm run lint", Status.Skipped),
    ];

    [Fact]
    public void When_a_job_failed_the_failed_command_is_open_and_the_passed_ones_closed()
    {
        var doc = Document((null, "Cloning\n"), (0, "installed\n"), (1, "1 test failed\n"));

        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, doc);

        Assert.Equal("false", Expanded(cut, "Prepare job"));
        Assert.Equal("false", Expanded(cut, "npm ci"));
        Assert.Equal("true", Expanded(cut, "npm test"));
        Assert.Equal("false", Expanded(cut, "npm run lint"));
        Assert.Contains("1 test failed", cut.Markup);
        Assert.DoesNotContain("installed", cut.Markup);
    }

    [Fact]
    public void When_a_job_passed_every_section_starts_closed()
    {
        var commands = new[] { Command(0, "make", Status.Passed, 100, 0) };

        var cut = RenderViewer(Job(Status.Passed), commands, Document((0, "built\n")));

        Assert.All(cut.FindAll("button[aria-expanded]"), b => Assert.Equal("false", b.GetAttribute("aria-expanded")));
    }

    [Fact]
    public void While_a_job_runs_the_running_command_is_open()
    {
        var commands = new[] { Command(0, "npm ci", Status.Passed, 4_000, 0), Command(1, "npm test", Status.Running), Command(2, "lint", Status.Pending) };

        var cut = RenderViewer(Job(Status.Running), commands, Document((0, "installed\n"), (1, "running tests")));

        Assert.Equal("false", Expanded(cut, "npm ci"));
        Assert.Equal("true", Expanded(cut, "npm test"));
        Assert.Contains("running tests", cut.Markup);
        Assert.Contains("Follow", cut.Markup);
    }

    [Fact]
    public void The_section_being_followed_stays_open_when_the_job_ends_and_the_failing_one_opens_too()
    {
        // Arrange: npm ci is followed while it runs.
        var running = new[] { Command(0, "npm ci", Status.Running), Command(1, "npm test", Status.Pending) };
        var cut = RenderViewer(Job(Status.Running), running, Document((0, "installing\n")));
        Assert.Equal("true", Expanded(cut, "npm ci"));

        // Act: the job ends (npm ci passed, npm test failed) while the page is open.
        var ended = new[] { Command(0, "npm ci", Status.Passed, 4_000, 0), Command(1, "npm test", Status.Failed, 2_000, 1) };
        var doc = Document((0, "installing\n"), (1, "1 test failed\n"));
        cut.Render(p => p.Add(x => x.JobStatus, Status.Failed).Add(x => x.Sections, Sections(Job(Status.Failed), ended, doc)).Add(x => x.Source, doc));

        // Assert
        Assert.Equal("true", Expanded(cut, "npm ci"));
        Assert.Equal("true", Expanded(cut, "npm test"));
        Assert.Contains("installing", cut.Markup);
    }

    [Fact]
    public void A_running_script_step_opens_with_its_scripts_section()
    {
        // Arrange: run-script deploy (command 0) is on its second step.
        var commands = new[]
        {
            Step(Command(0, "run-script deploy", Status.Running), parent: null, script: "deploy"),
            Step(Command(1, "aws s3 sync dist s3://bucket", Status.Passed, 900, 0), parent: 0),
            Step(Command(2, "echo done", Status.Running), parent: 0),
            Command(3, "make notify", Status.Pending),
        };

        // Act
        var cut = RenderViewer(Job(Status.Running), commands, Document((1, "synced\n"), (2, "almost")));

        // Assert
        Assert.Equal("true", Expanded(cut, "run-script deploy"));
        Assert.Equal("true", Expanded(cut, "echo done"));
        Assert.Equal("false", Expanded(cut, "aws s3 sync"));
        Assert.Equal("false", Expanded(cut, "make notify"));
    }

    [Fact]
    public void A_person_can_open_and_close_any_section()
    {
        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, Document((0, "installed\n"), (1, "assertion output\n")));

        cut.FindAll("button[aria-expanded]").Single(b => b.TextContent.Contains("npm ci")).Click();
        Assert.Equal("true", Expanded(cut, "npm ci"));
        Assert.Contains("installed", cut.Markup);

        cut.FindAll("button[aria-expanded]").Single(b => b.TextContent.Contains("npm test")).Click();
        Assert.Equal("false", Expanded(cut, "npm test"));
        Assert.DoesNotContain("assertion output", cut.Markup);
    }

    [Fact]
    public void A_section_without_output_says_so_when_opened()
    {
        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, Document((1, "x\n")));

        cut.FindAll("button[aria-expanded]").Single(b => b.TextContent.Contains("npm ci")).Click();

        Assert.Contains("No output", cut.Markup);
    }

    [Fact]
    public void Every_line_number_links_to_that_line()
    {
        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, Document((null, "clone\n"), (1, "first\nsecond\n")));

        var link = cut.Find("a[href='/jobs/7#L3']");

        Assert.Equal("3", link.TextContent);
        Assert.Equal("L3", link.Id);
        Assert.Equal("Link to line 3", link.GetAttribute("aria-label"));
    }

    [Fact]
    public void Opening_a_line_link_opens_its_section_and_marks_the_line()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo("/jobs/7#L2");

        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, Document((0, "one\ntwo\n"), (1, "three\n")));

        Assert.Equal("true", Expanded(cut, "npm ci"));
        var selected = cut.Find(".row.selected");
        Assert.Contains("two", selected.TextContent);
    }

    [Fact]
    public void Colours_show_as_styled_text_without_escape_codes()
    {
        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, Document((1, "\u001b[31;1mFAIL\u001b[0m test\u001b]0;title\u0007\n")));

        var red = cut.Find("span.ansi-fg-1");
        Assert.Equal("FAIL", red.TextContent);
        Assert.Contains("ansi-bold", red.ClassName);
        Assert.False(cut.Markup.Contains('\u001b'), "the escape character is not shown");
        Assert.DoesNotContain("title", cut.Find(".row.line").TextContent);
    }

    [Fact]
    public void Search_counts_matches_and_next_moves_to_the_following_one()
    {
        var doc = Document((0, "apple\nbanana\n"), (1, "Apple pie\ncherry\napple juice\n"));
        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, doc);

        cut.Find("input[type=search]").Input("apple");

        cut.WaitForAssertion(() => Assert.Equal("1 of 3", cut.Find("[role=status]").TextContent.Trim()), WaitTimeout);
        // The first match is in a section that was closed: it opened to show it.
        Assert.Equal("true", Expanded(cut, "npm ci"));
        Assert.Equal(3, cut.FindAll("mark").Count);

        cut.Find("button[aria-label='Next match']").Click();
        cut.WaitForAssertion(() => Assert.Equal("2 of 3", cut.Find("[role=status]").TextContent.Trim()), WaitTimeout);
        Assert.Contains("Apple pie", cut.Find(".row.current").TextContent);
    }

    [Fact]
    public void Search_without_matches_says_so()
    {
        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, Document((1, "nothing here\n")));

        cut.Find("input[type=search]").Input("zebra");

        cut.WaitForAssertion(() => Assert.Equal("No matches", cut.Find("[role=status]").TextContent.Trim()), WaitTimeout);
    }

    [Fact]
    public void A_log_of_100000_lines_renders_only_the_rows_in_view()
    {
        var text = string.Concat(Enumerable.Range(1, 100_000).Select(i => $"line {i}\n"));
        var commands = new[] { Command(0, "seq 100000", Status.Failed, 1_000, 1) };

        var cut = RenderViewer(Job(Status.Failed), commands, Document((0, text)));

        Assert.Equal("true", Expanded(cut, "seq 100000"));
        Assert.Contains("100,000 lines", cut.Markup);
        var rendered = cut.FindAll(".row").Count;
        Assert.InRange(rendered, 1, 499);
    }

    [Fact]
    public void The_timeline_has_a_segment_per_timed_command_with_its_duration()
    {
        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, Document((1, "x\n")));

        var segments = cut.FindAll("[aria-label='Time per command'] button");

        Assert.Contains(segments, s => s.GetAttribute("aria-label") == "npm test: 9.0 s, failed");
        Assert.Contains(segments, s => s.GetAttribute("aria-label") == "npm ci: 4.0 s, passed");
        Assert.DoesNotContain(segments, s => s.GetAttribute("aria-label")!.StartsWith("npm run lint"));
    }

    [Fact]
    public void Clicking_a_timeline_segment_opens_that_section()
    {
        var cut = RenderViewer(Job(Status.Failed), FinishedCommands, Document((0, "installed\n"), (1, "x\n")));

        cut.FindAll("[aria-label='Time per command'] button").Single(s => s.GetAttribute("aria-label")!.StartsWith("npm ci")).Click();

        Assert.Equal("true", Expanded(cut, "npm ci"));
    }
}
