using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Logs;
using Kaizen.Portal.Tests.Components.Logs;
using static Kaizen.Portal.Tests.Components.Logs.LogTestData;

namespace Kaizen.Portal.Tests.Scripts;

/// <summary>How the job log shows a shared script: its section names the version, its steps sit under it, and the
/// timeline shows the steps (the section's time is theirs).</summary>
public sealed class ScriptLogSectionTests : LogComponentsTestContext
{
    private static IReadOnlyList<LogSectionInfo> ScriptSections()
    {
        var section = Command(0, "run-script deploy-s3@3 my-bucket", Status.Failed, durationMs: 4_000, exit: 3);
        CommandRow[] commands =
        [
            new() { JobId = section.JobId, Idx = 0, Phase = "main", Text = section.Text, Status = section.Status, DurationMs = 4_000, ExitCode = 3,
                ScriptName = "deploy-s3", ScriptVersion = 3 },
            new() { JobId = section.JobId, Idx = 1, Phase = "main", Text = "aws s3 sync . \"s3://$1\"", Status = Status.Passed, DurationMs = 3_500, ExitCode = 0, ParentIdx = 0 },
            new() { JobId = section.JobId, Idx = 2, Phase = "main", Text = "exit 3", Status = Status.Failed, DurationMs = 5, ExitCode = 3, ParentIdx = 0 },
            new() { JobId = section.JobId, Idx = 3, Phase = "main", Text = "echo never", Status = Status.Skipped, ParentIdx = 0 },
        ];
        return Sections(Job(Status.Failed), commands, Document((1, "upload: a.txt\n")));
    }

    [Fact]
    public void A_scripts_section_names_its_version_and_its_steps_are_marked_as_steps()
    {
        // Arrange
        var sections = ScriptSections();

        // Act
        var script = Render<CommandSection>(p => p.Add(x => x.Section, sections[1]));
        var step = Render<CommandSection>(p => p.Add(x => x.Section, sections[2]));

        // Assert
        Assert.Equal("script deploy-s3@3", script.Find(".script").TextContent);
        Assert.StartsWith("Script deploy-s3@3: run-script deploy-s3@3 my-bucket", script.Find("button").GetAttribute("aria-label"));
        Assert.Contains("step", step.Find(".kz-section").ClassList);
        Assert.StartsWith("Script step: aws s3 sync", step.Find("button").GetAttribute("aria-label"));
        Assert.Contains("3.5 s", step.Find(".duration").TextContent);
        Assert.Empty(step.FindAll(".script"));
    }

    [Fact]
    public void The_timeline_shows_a_scripts_steps_instead_of_its_section()
    {
        // Arrange
        var sections = ScriptSections();

        // Act
        var cut = Render<TimelineBar>(p => p.Add(x => x.Sections, sections));

        // Assert
        var labels = cut.FindAll(".segment").Select(s => s.GetAttribute("aria-label")).ToList();
        Assert.Contains(labels, l => l!.StartsWith("aws s3 sync", StringComparison.Ordinal));
        Assert.Contains(labels, l => l!.StartsWith("exit 3", StringComparison.Ordinal));
        Assert.DoesNotContain(labels, l => l!.StartsWith("run-script", StringComparison.Ordinal));
    }
}
