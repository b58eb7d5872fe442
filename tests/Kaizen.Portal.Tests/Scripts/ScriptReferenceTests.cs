using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Logs;
using Kaizen.Portal.Logs;
using Kaizen.Portal.Scripts;

namespace Kaizen.Portal.Tests.Scripts;

public sealed class ScriptReferenceTests
{
    [Theory]
    [InlineData("run-script deploy-s3", "deploy-s3", null, "")]
    [InlineData("  run-script deploy-s3@3 my-bucket \"$STAGE\"  ", "deploy-s3", 3, "my-bucket \"$STAGE\"")]
    [InlineData("run-script a.b_c-1@12 'it''s' x\\ y", "a.b_c-1", 12, "'it''s' x\\ y")]
    [InlineData("run-script\tnotify\t--channel ops", "notify", null, "--channel ops")]
    public void Reads_name_version_and_arguments(string command, string name, int? version, string arguments)
    {
        // Act
        var reference = ScriptReference.Parse(command, out var error);

        // Assert
        Assert.Null(error);
        Assert.Equal(new ScriptReference(name, version, arguments), reference);
    }

    [Theory]
    [InlineData("run-script", "needs a script name")]
    [InlineData("run-script Deploy", "'Deploy' is not a script name")]
    [InlineData("run-script -x", "'-x' is not a script name")]
    [InlineData("run-script deploy@", "a version is a number from 1")]
    [InlineData("run-script deploy@0", "a version is a number from 1")]
    [InlineData("run-script deploy@v2", "a version is a number from 1")]
    [InlineData("run-script deploy 'unclosed", "unclosed ' quote")]
    [InlineData("run-script deploy \"unclosed", "unclosed \" quote")]
    public void Malformed_lines_say_what_is_wrong(string command, string message)
    {
        // Act
        var reference = ScriptReference.Parse(command, out var error);

        // Assert
        Assert.Null(reference);
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData("echo run-script x")]
    [InlineData("run-scripts x")]
    [InlineData("./run-script x")]
    public void Other_commands_are_not_script_lines(string command)
    {
        // Act
        var reference = ScriptReference.Parse(command, out var error);

        // Assert
        Assert.Null(reference);
        Assert.Null(error);
    }

    [Fact]
    public void A_long_script_has_at_most_MaxSteps_steps_and_its_last_holds_the_rest()
    {
        // Arrange
        var body = string.Concat(Enumerable.Range(1, ScriptPlanner.MaxSteps + 5).Select(i => $"echo {i}\n"));

        // Act
        var steps = ScriptPlanner.Steps(body);

        // Assert
        Assert.Equal(ScriptPlanner.MaxSteps, steps.Count);
        Assert.Equal("echo 1", steps[0]);
        Assert.Equal(string.Join("\n", Enumerable.Range(ScriptPlanner.MaxSteps, 6).Select(i => $"echo {i}")), steps[^1]);
    }

    [Fact]
    public void A_repository_scripts_description_is_its_top_comment()
    {
        Assert.Equal("Deploys the site. Needs AWS keys.", ScriptGitSync.Description("#!/bin/bash\n# Deploys the site.\n#\n# Needs AWS keys.\nset -e\n# not this\n"));
        Assert.Equal("", ScriptGitSync.Description("echo hi\n"));
    }

    [Fact]
    public void The_log_shows_a_script_as_a_section_whose_steps_follow_it()
    {
        // Arrange
        var job = new JobRow { Id = 1, Status = Status.Passed, StartedAt = 0, FinishedAt = 900 };
        CommandRow[] commands =
        [
            new() { JobId = 1, Idx = 0, Phase = "main", Text = "run-script ship prod", Status = Status.Passed, DurationMs = 800, ScriptName = "ship", ScriptVersion = 3 },
            new() { JobId = 1, Idx = 1, Phase = "main", Text = "echo a", Status = Status.Passed, DurationMs = 100, ParentIdx = 0 },
            new() { JobId = 1, Idx = 2, Phase = "main", Text = "sleep 1", Status = Status.Passed, DurationMs = 700, ParentIdx = 0 },
        ];

        // Act
        var sections = LogSectionInfo.Build(job, commands, new LogDocument(), 1000).Where(s => s.Kind == LogSectionKind.Command).ToList();

        // Assert
        Assert.Equal([("ship@3", true, (int?)null), (null, false, 0), (null, false, 0)], sections.Select(s => (s.Script, s.HasSteps, s.Parent)));
    }
}
