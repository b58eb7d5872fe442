using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Settings;

namespace Kaizen.Portal.Tests.Components.Settings;

public sealed class BuildSettingsYamlTests
{
    private static BuildSettings Tricky { get; } = new(
        ["echo setup", "export A='quoted' B=\"double\"", "  leading spaces"],
        [
            new JobSettings("test: unit", ["pytest -k 'not slow' # not a comment", "if true; then\n  echo multi\nfi\n", "null", "yes", "42"]),
            new JobSettings("lint ✓ ünïcødé", ["echo 'héllo wörld' 🚀", "- not a list item", "key: value", "trailing space "]),
            new JobSettings("#hash", ["line one\nline two", "no newline at end\nsecond", "tab\there", "{ not: flow }"]),
        ],
        ["echo done", "curl -H \"X: y\" http://example/#frag"]);

    [Fact]
    public void Settings_survive_a_round_trip_through_yaml()
    {
        var yaml = BuildSettingsYaml.ToYaml(Tricky);
        var (settings, errors) = BuildSettingsYaml.FromYaml(yaml);

        Assert.Empty(errors);
        Assert.NotNull(settings);
        Assert.True(BuildSettingsDraft.SameSettings(Tricky, settings), yaml);
        Assert.Equal(Tricky.Jobs.Select(j => j.Name), settings.Jobs.Select(j => j.Name));
    }

    [Fact]
    public void Yaml_reads_like_the_settings_a_person_would_write()
    {
        var settings = new BuildSettings(["echo setup"], [new JobSettings("test", ["pytest", "make a\nmake b"])], ["echo done"]);

        var yaml = BuildSettingsYaml.ToYaml(settings);

        Assert.Equal("""
            setup:
            - echo setup
            jobs:
            - name: test
              commands:
              - pytest
              - |-
                make a
                make b
            epilogue:
            - echo done

            """.Replace("\r\n", "\n"), yaml);
    }

    [Fact]
    public void Empty_lists_are_written_as_brackets_and_read_back()
    {
        var yaml = BuildSettingsYaml.ToYaml(BuildSettings.Empty);

        Assert.Contains("setup: []", yaml);
        var (settings, errors) = BuildSettingsYaml.FromYaml(yaml);
        Assert.Empty(errors);
        Assert.True(BuildSettingsDraft.SameSettings(BuildSettings.Empty, settings!));
    }

    [Fact]
    public void Hand_written_yaml_with_indented_lists_and_missing_blocks_is_read()
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml("""
            # only jobs
            jobs:
              - name: test
                commands:
                  - pytest
                  - |
                    set -e
                    make
            """);

        Assert.Empty(errors);
        Assert.Empty(settings!.Setup);
        Assert.Empty(settings.Epilogue);
        var job = Assert.Single(settings.Jobs);
        Assert.Equal(["pytest", "set -e\nmake"], job.Commands);
    }

    [Theory]
    [InlineData("jobs:\n  - name: test\n    commands: [a, b\n", 4)]
    [InlineData("setup:\n  - echo\n jobs: []\n", 3)]
    [InlineData("jobs:\n  - name: \"unterminated\n", 2)]
    public void Malformed_yaml_gives_an_error_with_its_line(string yaml, int line)
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml(yaml);

        Assert.Null(settings);
        var error = Assert.Single(errors);
        Assert.StartsWith($"Line {line}, column ", error);
    }

    [Fact]
    public void Unknown_keys_are_rejected_with_where_and_what_is_expected()
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml("""
            setup: []
            job:
              - name: test
            jobs:
              - name: test
                command:
                  - pytest
            """);

        Assert.Null(settings);
        Assert.Equal(
        [
            "Line 2, column 1: unknown key 'job'. Expected image, env, timeLimit, buildTimeLimit, failFast, autoCancel, setup, jobs, blocks or epilogue.",
            "Line 6, column 5: unknown key 'command' in a job. Expected name, when, matrix, env, timeLimit, prologue, commands, epilogue, image, services, testReports and coverage.",
        ], errors);
    }

    [Theory]
    [InlineData("jobs: test\n", "Line 1, column 7: jobs must be a list of jobs")]
    [InlineData("setup: echo hi\n", "Line 1, column 8: setup must be a list of commands")]
    [InlineData("jobs:\n  - test\n", "Line 2, column 5: each job must be a mapping with name and commands, found text")]
    [InlineData("jobs:\n  - name: [a]\n    commands: [x]\n", "Line 2, column 11: a job's name must be text, found a list")]
    [InlineData("epilogue:\n  - { a: b }\n", "Line 2, column 5: each command in epilogue must be text, found a mapping")]
    [InlineData("- a\n- b\n", "Line 1, column 1: expected a mapping with setup, jobs and epilogue, found a list")]
    public void Wrong_types_are_rejected_with_where_and_what(string yaml, string expected)
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml(yaml);

        Assert.Null(settings);
        Assert.StartsWith(expected, Assert.Single(errors));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\n")]
    [InlineData("# just a comment\n")]
    [InlineData("---\n...\n")]
    public void An_empty_document_is_an_error_that_shows_an_example(string yaml)
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml(yaml);

        Assert.Null(settings);
        Assert.Contains("The YAML is empty", Assert.Single(errors));
    }

    [Fact]
    public void A_repeated_key_is_an_error_not_an_exception()
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml("setup: []\nsetup: [a]\njobs: []\n");

        Assert.Null(settings);
        Assert.Single(errors);
    }

    [Fact]
    public void Reading_checks_the_shape_and_leaves_the_rules_to_validation()
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml("jobs:\n  - name: test\n    commands: []\n");

        Assert.Empty(errors);
        Assert.Contains("jobs[0] ('test') needs at least one command.", settings!.Validate());
    }
}
