using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Tests.Pipelines;

/// <summary>How settings expand into a build's jobs, and what validation says, without a portal.</summary>
public sealed class PipelineModelTests
{
    private static JobSettings Job(string name, params string[] commands) => new(name, commands.Length == 0 ? ["true"] : commands);

    [Fact]
    public void Flat_settings_are_one_implicit_block_and_plan_as_before()
    {
        var settings = new BuildSettings(["echo setup"], [Job("a", "echo a"), Job("b")], ["echo end"]);

        var plan = BuildStore.Plan(1, settings, "main", "abc", "m", "x", Trigger.Manual, null);

        Assert.Empty(settings.Validate());
        var block = Assert.Single(Pipeline.Blocks(settings));
        Assert.Null(block.Name);
        Assert.Equal(["a", "b"], plan.Jobs.Select(j => j.Name));
        Assert.All(plan.Jobs, j => Assert.Null(j.Block));
        Assert.All(plan.Jobs, j => Assert.Null(j.Needs));
        Assert.All(plan.Jobs, j => Assert.Equal(3600, j.TimeLimitSeconds));
        Assert.Equal(["echo setup", "echo a", "echo end"], plan.Jobs[0].Commands.Select(c => c.Text));
        Assert.DoesNotContain("blocks", BuildSettingsYaml.ToYaml(settings));
    }

    [Fact]
    public void A_block_without_dependencies_follows_the_one_written_before_and_an_empty_list_means_none()
    {
        var settings = BuildSettings.Empty with
        {
            Blocks = [new("one", [Job("j1")]), new("two", [Job("j2")]), new("three", [Job("j3")], Dependencies: [])],
        };

        Assert.Empty(settings.Validate());
        Assert.Equal([[], ["one"], []], Pipeline.Blocks(settings).Select(b => b.Needs.ToArray()));
    }

    [Fact]
    public void Matrix_names_list_every_axis_and_count_against_the_job_limit()
    {
        var job = Job("test") with { Matrix = [new("NODE", ["18", "20"]), new("OS", ["x", "y", "z"])] };

        Assert.Equal(["test (NODE=18, OS=x)", "test (NODE=18, OS=y)", "test (NODE=18, OS=z)", "test (NODE=20, OS=x)", "test (NODE=20, OS=y)", "test (NODE=20, OS=z)"],
            Pipeline.ExpandedNames(job));
        var big = BuildSettings.Empty with { Jobs = [Job("other"), job with { Matrix = [new("A", [.. Enumerable.Range(0, 500).Select(i => $"{i}")])] }] };
        var error = Assert.Single(big.Validate());
        Assert.StartsWith("jobs[1].matrix: the matrix expands to 500 jobs; with the other jobs the build would have 501", error);
    }

    [Fact]
    public void A_huge_matrix_is_counted_without_expanding_or_overflowing()
    {
        var values = Enumerable.Range(0, 200).Select(i => $"{i}").ToArray();
        var job = Job("t") with { Matrix = [.. Enumerable.Range(0, 6).Select(i => new MatrixAxis($"A{i}", values))] };

        Assert.Equal(1_000_000_000L, Pipeline.MatrixSize(job));
        Assert.Contains("the matrix expands to 1,000,000,000 jobs", Assert.Single((BuildSettings.Empty with { Jobs = [job] }).Validate()));
    }

    [Theory]
    [InlineData("main", "main", true)]
    [InlineData("release/*", "release/1.2", true)]
    [InlineData("release/*", "release/1/2", false)]
    [InlineData("release/**", "release/1/2", true)]
    [InlineData("feat?", "feat1", true)]
    public void Branch_patterns_are_globs(string pattern, string branch, bool matches) =>
        Assert.Equal(matches, Glob.Matches(pattern, branch));

    [Theory]
    [InlineData("/lambda/", "lambda/handler.py", true)]
    [InlineData("lambda", "lambda/deep/handler.py", true)]
    [InlineData("lambda/", "lambdas/x.py", false)]
    [InlineData("docs/**/*.md", "docs/a/b.md", true)]
    [InlineData("*.md", "docs/a.md", false)]
    public void Changed_path_patterns_are_relative_to_the_repository(string pattern, string path, bool matches) =>
        Assert.Equal(matches, Glob.MatchesPath(pattern, path));

    [Theory]
    [InlineData("10m", 600, "time limit of 10 min reached")]
    [InlineData("90s", 90, "time limit of 90 s reached")]
    [InlineData("1h30m", 5400, "time limit of 90 min reached")]
    [InlineData("2h", 7200, "time limit of 2 h reached")]
    [InlineData("15", 900, "time limit of 15 min reached")]
    public void Time_limits_read_as_written_and_are_reported_in_words(string text, int seconds, string reached)
    {
        Assert.True(TimeLimits.TryParse(text, out var limit));
        Assert.Equal(seconds, (int)limit.TotalSeconds);
        Assert.Equal(reached, TimeLimits.Reached(limit));
    }

    [Theory]
    [InlineData("ten minutes")]
    [InlineData("0")]
    [InlineData("-5m")]
    [InlineData("25h")]
    public void Bad_time_limits_are_refused_with_the_key(string text)
    {
        var errors = (BuildSettings.Empty with { Jobs = [Job("t") with { TimeLimit = text }] }).Validate();
        Assert.StartsWith("jobs[0].timeLimit: ", Assert.Single(errors));
    }

    [Fact]
    public void Jobs_and_blocks_together_are_refused()
    {
        var errors = (BuildSettings.Empty with { Jobs = [Job("a")], Blocks = [new("b", [Job("c")])] }).Validate();
        Assert.Contains(errors, e => e.StartsWith("jobs: use either jobs", StringComparison.Ordinal));
    }

    [Fact]
    public void Job_names_must_differ_across_blocks_and_matrices()
    {
        var settings = BuildSettings.Empty with
        {
            Blocks = [new("a", [Job("test (N=1)")]), new("b", [Job("test") with { Matrix = [new("N", ["1", "2"])] }])],
        };
        Assert.Contains("blocks[1].jobs[0]: another job is already named 'test (N=1)'.", settings.Validate());
    }

    [Fact]
    public void Conditions_say_why_they_do_not_hold()
    {
        var facts = new BuildFacts("feature", false, ["v1.0"], ["src/app.py"], "abc123");
        Assert.Equal((false, "branch feature does not match 'main'"), new WhenSettings(Branch: ["main"]).Evaluate(facts));
        Assert.Equal((true, null), new WhenSettings(Tag: ["v*"]).Evaluate(facts));
        Assert.Equal((false, "not a pull request"), new WhenSettings(PullRequest: true).Evaluate(facts));
        Assert.Equal((false, "no changed file matches 'docs/' (compared with abc123)"), new WhenSettings(Changed: ["docs/"]).Evaluate(facts));
        // Unknown changes never skip work.
        Assert.Equal((true, null), new WhenSettings(Changed: ["docs/"]).Evaluate(facts with { ChangedFiles = null }));
    }
}
