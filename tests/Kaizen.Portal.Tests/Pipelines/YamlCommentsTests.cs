using Kaizen.Portal.Builds;
using Kaizen.Portal.Import.Semaphore;
using Kaizen.Portal.Tests.Browser;

namespace Kaizen.Portal.Tests.Pipelines;

/// <summary>Comments of a saved YAML text carried over to the settings written out afresh after a change (a pure function).</summary>
public sealed class YamlCommentsTests
{
    /// <summary>The settings of <paramref name="yaml"/> as the portal writes them out (what an export makes after a change).</summary>
    private static string Written(string yaml)
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml(yaml);
        Assert.True(settings is not null, string.Join("\n", errors));
        return BuildSettingsYaml.ToYaml(settings);
    }

    /// <summary>Carries the comments and checks the result reads as exactly the new settings.</summary>
    private static string Carry(string old, string changed)
    {
        var fresh = Written(changed);
        var result = YamlComments.Carry(old, fresh);
        var (settings, errors) = BuildSettingsYaml.FromYaml(result);
        Assert.True(settings is not null, string.Join("\n", errors) + "\n" + result);
        Assert.Equal(fresh, BuildSettingsYaml.ToYaml(settings));
        return result;
    }

    [Fact]
    public void The_header_stays_at_the_top_when_a_key_is_added_before_the_first_one()
    {
        const string old = """
            # yaml-language-server: $schema=http://localhost/schemas/kaizen-settings.json
            # The shop's pipeline.

            setup:
              - make deps
            jobs:
              - name: test
                commands:
                  - make test
            epilogue: []

            """;

        var result = Carry(old, """
            image: node:20
            setup: [make deps]
            jobs:
              - name: test
                commands: [make test]
            epilogue: []
            """);

        Assert.Equal("""
            # yaml-language-server: $schema=http://localhost/schemas/kaizen-settings.json
            # The shop's pipeline.

            image: node:20
            setup:
            - make deps
            jobs:
            - name: test
              commands:
              - make test
            epilogue: []

            """, result);
    }

    [Fact]
    public void A_comment_above_a_job_stays_with_it_when_jobs_are_reordered_and_one_is_inserted_before_it()
    {
        const string old = """
            setup: []
            jobs:
              # Fast checks first.
              - name: lint
                commands:
                  - flake8 .

              # The slow one: about ten minutes.
              - name: test
                commands:
                  - pytest -q  # needs the database
            epilogue: []

            """;

        var result = Carry(old, """
            setup: []
            jobs:
              - name: types
                commands: [mypy .]
              - name: test
                commands: [pytest -q]
              - name: lint
                commands: [flake8 .]
            epilogue: []
            """);

        Assert.Equal("""
            setup: []
            jobs:
            - name: types
              commands:
              - mypy .

            # The slow one: about ten minutes.
            - name: test
              commands:
              - pytest -q  # needs the database
            # Fast checks first.
            - name: lint
              commands:
              - flake8 .
            epilogue: []

            """, result);
    }

    [Fact]
    public void An_end_of_line_comment_on_a_command_stays_when_another_command_is_added_before_it()
    {
        const string old = """
            setup:
              - apt-get install -y jq   # for the release notes
              - make deps               # slow on a cold cache
            jobs: []
            epilogue: []

            """;

        var result = Carry(old, "setup: [echo start, apt-get install -y jq, make deps]\njobs: []\nepilogue: []\n");

        Assert.Equal("""
            setup:
            - echo start
            - apt-get install -y jq   # for the release notes
            - make deps               # slow on a cold cache
            jobs: []
            epilogue: []

            """, result);
    }

    [Fact]
    public void An_edited_command_keeps_its_comment_in_its_place_while_a_removed_one_takes_its_comment_with_it()
    {
        const string old = """
            setup:
              # Tools first.
              - make tools   # pinned versions
              - make deps    # from the cache
              - make check   # lints
            jobs: []
            epilogue: []

            """;

        var edited = Carry(old, "setup: [make tools, make deps --offline, make check]\njobs: []\nepilogue: []\n");
        var removed = Carry(old, "setup: [make tools, make check]\njobs: []\nepilogue: []\n");

        Assert.Contains("\n- make deps --offline    # from the cache\n", edited);
        Assert.Contains("\n# Tools first.\n- make tools   # pinned versions\n", edited);
        Assert.Equal("""
            setup:
            # Tools first.
            - make tools   # pinned versions
            - make check   # lints
            jobs: []
            epilogue: []

            """, removed);
    }

    [Fact]
    public void A_command_commented_out_at_the_end_of_a_list_stays_at_the_end_of_its_list()
    {
        const string old = """
            setup: []
            jobs:
              - name: test
                commands:
                  - make test
                  # - make e2e   (flaky, off for now)
              - name: lint
                commands:
                  - make lint
                  # - make lint-docs
            epilogue: []

            """;

        var result = Carry(old, """
            setup: []
            jobs:
              - name: lint
                commands: [make lint]
              - name: test
                commands: [make deps, make test]
            epilogue: []
            """);

        Assert.Equal("""
            setup: []
            jobs:
            - name: lint
              commands:
              - make lint
              # - make lint-docs
            - name: test
              commands:
              - make deps
              - make test
              # - make e2e   (flaky, off for now)
            epilogue: []

            """, result);
    }

    [Fact]
    public void The_comments_of_a_removed_job_go_with_it()
    {
        const string old = """
            setup: []
            jobs:
              # Builds the docs site.
              - name: docs   # owned by the writers
                commands:
                  # Needs node.
                  - npm run docs
              # Unit tests.
              - name: test
                commands:
                  - make test
            epilogue: []

            """;

        var result = Carry(old, "setup: []\njobs:\n  - name: test\n    commands: [make test, make coverage]\nepilogue: []\n");

        Assert.Equal("""
            setup: []
            jobs:
            # Unit tests.
            - name: test
              commands:
              - make test
              - make coverage
            epilogue: []

            """, result);
    }

    [Fact]
    public void A_hash_inside_quotes_block_text_and_commands_is_not_taken_for_a_comment()
    {
        const string old = """
            env:
              COLOR: "#ff0000"   # the brand's red
            setup:
              - echo "a # b"
              - curl http://x/#frag
              - |
                # this line is part of the script
                echo 'no # comment here'
            jobs:
              - name: test
                commands:
                  - make test
            epilogue: []

            """;

        var result = Carry(old, """
            env:
              COLOR: "#ff0000"
            setup:
              - echo "a # b"
              - curl http://x/#frag
              - |
                # this line is part of the script
                echo 'no # comment here'
            jobs:
              - name: test
                commands: [make test, make lint]
            epilogue: []
            """);

        Assert.Equal("""
            env:
              COLOR: "#ff0000"   # the brand's red
            setup:
            - echo "a # b"
            - curl http://x/#frag
            - |
              # this line is part of the script
              echo 'no # comment here'
            jobs:
            - name: test
              commands:
              - make test
              - make lint
            epilogue: []

            """, result);
    }

    [Fact]
    public void Blocks_keep_their_comments_and_dependencies_when_a_block_is_added_between_them()
    {
        const string old = """
            setup: []
            blocks:
              # Compiles once for everyone.
              - name: build
                jobs:
                  - name: compile
                    commands:
                      - make   # all targets

              # Only from main.
              - name: deploy
                dependencies: [build]   # never before the build
                jobs:
                  - name: ship
                    commands:
                      - ./ship.sh
            epilogue: []

            """;

        var result = Carry(old, """
            setup: []
            blocks:
              - name: build
                jobs:
                  - name: compile
                    commands: [make]
              - name: test
                dependencies: [build]
                jobs:
                  - name: unit
                    commands: [make test]
              - name: deploy
                dependencies: [build, test]
                jobs:
                  - name: ship
                    commands: [./ship.sh]
            epilogue: []
            """);

        Assert.Equal("""
            setup: []
            blocks:
            # Compiles once for everyone.
            - name: build
              jobs:
              - name: compile
                commands:
                - make   # all targets
            - name: test
              dependencies:
              - build
              jobs:
              - name: unit
                commands:
                - make test

            # Only from main.
            - name: deploy
              dependencies:   # never before the build
              - build
              - test
              jobs:
              - name: ship
                commands:
                - ./ship.sh
            epilogue: []

            """, result);
    }

    [Fact]
    public void A_blank_line_that_would_change_a_kept_text_is_left_out_and_the_comments_stay()
    {
        // "|+" keeps the blank lines at the end of its text: a blank line written after it would join the command.
        const string old = "setup:\n  - |+\n    echo one\n\n  # The second command.\n  - echo two\njobs: []\nepilogue: []\n";
        var (settings, _) = BuildSettingsYaml.FromYaml(old);
        var changed = settings! with { Epilogue = ["echo done"] };

        var fresh = BuildSettingsYaml.ToYaml(changed);
        var result = YamlComments.Carry(old, fresh);

        Assert.Equal("echo one\n\n", changed.Setup[0]);
        Assert.Contains("\n  echo one\n\n# The second command.\n- echo two\n", result);
        Assert.Equal(fresh, BuildSettingsYaml.ToYaml(BuildSettingsYaml.FromYaml(result).Settings!));
    }

    [Fact]
    public void Text_without_comments_or_that_cannot_be_read_gives_the_new_text_unchanged()
    {
        var fresh = Written("setup: []\njobs: []\nepilogue: []\n");

        Assert.Equal(fresh, YamlComments.Carry("setup: []\njobs: [] \nepilogue: []\n", fresh));
        Assert.Equal(fresh, YamlComments.Carry("setup: [ # broken\njobs: {", fresh));
        Assert.Equal(fresh, YamlComments.Carry("", fresh));
    }

    /// <summary>The README's example of every key, with comments on each kind of node.</summary>
    private const string EveryKey = """
        # yaml-language-server: $schema=https://ci.example.com/schemas/kaizen-settings.json
        env:                      # variables of every job
          APP: shop               # the app's name in logs
        timeLimit: 20m            # each job's limit unless it names its own (default 60m)
        buildTimeLimit: 1h        # the whole build's limit (none by default)
        failFast: true            # a failed job stops the rest of the build
        autoCancel: true          # a newer push to a branch cancels its older queued/running builds
        setup:
          - echo runs first in every job
        blocks:
          - name: lint
            jobs:
              - name: flake8
                commands: [flake8 .]
          - name: test
            dependencies: []      # none: starts with the build, beside lint
            env: { LEVEL: block }
            prologue: [pip install -r requirements.txt]
            jobs:
              - name: unit
                # one job per Python
                matrix:
                  - name: PYTHON  # the axis
                    values: ["3.11", "3.12"]
                env: { DEBUG: "1" }
                timeLimit: 10m
                prologue: [pyenv local $PYTHON]
                commands:
                  - pytest        # the whole suite
                epilogue: [echo job done]
                testReports: [reports/*.xml]   # JUnit
                services:
                  # the database of the tests
                  - image: postgres:16
                    alias: db
                    ready: "5432"  # the port it listens on
          - name: deploy
            dependencies: [lint, test]
            when:
              branch: [main, "release/*"]   # never from a feature branch
            jobs:
              - name: ship
                commands: [serverless deploy]
        epilogue:
          - echo runs last in every job
        # end of the pipeline

        """;

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Every_kind_of_key_keeps_its_comments_when_one_command_changes(string lineBreak)
    {
        var old = EveryKey.Replace("\n", lineBreak, StringComparison.Ordinal);
        var comments = EveryKey.Split('\n').Where(l => l.Contains('#', StringComparison.Ordinal))
            .Select(l => l[l.IndexOf("# ", StringComparison.Ordinal)..]).ToList();

        var result = Carry(old, EveryKey.Replace("- pytest        #", "- pytest -x        #", StringComparison.Ordinal));

        Assert.Equal(16, comments.Count);
        Assert.All(comments, c => Assert.Contains(c, result));
        Assert.Contains("- pytest -x        # the whole suite\n", result);
        Assert.StartsWith("# yaml-language-server: $schema=https://ci.example.com/schemas/kaizen-settings.json\nenv:  ", result,
            StringComparison.Ordinal);
        Assert.EndsWith("- echo runs last in every job\n# end of the pipeline\n", result, StringComparison.Ordinal);
    }

    /// <summary>The settings the Semaphore importer makes of the gdevelop pipeline (../shared/fixtures/semaphore, read in place).</summary>
    private static BuildSettings Gdevelop()
    {
        var fixture = Path.GetFullPath(Path.Combine(BrowserSession.RepositoryRoot, "..", "shared", "fixtures", "semaphore", "gdevelop",
            "semaphore.yml"));
        var imported = SemaphoreImporter.Import(File.ReadAllText(fixture), null);
        Assert.True(imported.Ok, string.Join("\n", imported.Errors));
        return imported.Settings!;
    }

    /// <summary>The export of <paramref name="settings"/> with a comment above each block and job and at the end of each one-line
    /// command, as a team would write them; each comment with the number of the exported line it is about.</summary>
    private static (string Text, List<(int Line, string Comment)> Comments) Commented(BuildSettings settings)
    {
        var lines = BuildSettingsYaml.ToYaml(settings).Split('\n');
        var commented = new List<string>();
        var comments = new List<(int, string)>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var indent = line[..(line.Length - line.TrimStart().Length)];
            if (line.TrimStart().StartsWith("- name: ", StringComparison.Ordinal))
            {
                var comment = $"# about {line.Trim()[8..]} (line {i + 1})";
                comments.Add((i + 1, comment));
                commented.Add(indent + comment);
                commented.Add(line);
            }
            else if (line.TrimStart().StartsWith("- ", StringComparison.Ordinal) && !line.EndsWith('|') && !line.EndsWith("|-", StringComparison.Ordinal)
                && !line.Contains('#') && !line.Contains('"') && !line.Contains('\''))
            {
                var comment = $"# note {i + 1}.";
                comments.Add((i + 1, comment));
                commented.Add(line + "  " + comment);
            }
            else commented.Add(line);
        }
        return (string.Join('\n', commented), comments);
    }

    [Fact]
    public void The_gdevelop_pipeline_imported_from_Semaphore_keeps_every_comment_when_one_command_changes()
    {
        var settings = Gdevelop();
        var (old, comments) = Commented(settings);
        var install = settings.Blocks![0].Jobs[0];
        var changedJob = install with { Commands = [install.Commands[0], "node --version", .. install.Commands.Skip(2)] };
        var changed = settings with { Blocks = [settings.Blocks[0] with { Jobs = [changedJob] }, .. settings.Blocks.Skip(1)] };
        var fresh = BuildSettingsYaml.ToYaml(changed);

        var result = YamlComments.Carry(old, fresh);

        Assert.Equal("node -v", install.Commands[1]);
        Assert.True(comments.Count > 50, $"{comments.Count} comments");
        Assert.Equal(fresh, BuildSettingsYaml.ToYaml(BuildSettingsYaml.FromYaml(result).Settings!));
        var noteOfChanged = comments.Single(c => old.Contains("- node -v  " + c.Comment, StringComparison.Ordinal)).Comment;
        Assert.Contains("- node --version  " + noteOfChanged, result);
        Assert.Equal(old.Replace("- node -v  ", "- node --version  ", StringComparison.Ordinal), result);
    }

    [Fact]
    public void The_gdevelop_pipeline_keeps_the_comments_of_what_remains_when_its_blocks_are_reversed_and_one_is_removed()
    {
        var settings = Gdevelop();
        var (old, comments) = Commented(settings);
        var exported = BuildSettingsYaml.ToYaml(settings).Split('\n');
        var from = Array.IndexOf(exported, "- name: Auto formatting") + 1;
        var to = Array.IndexOf(exported, "- name: Tests") + 1;
        var changed = settings with { Blocks = settings.Blocks!.Where(b => b.Name != "Auto formatting").Reverse().ToList() };
        var fresh = BuildSettingsYaml.ToYaml(changed);

        var result = YamlComments.Carry(old, fresh);

        Assert.True(from > 0 && to > from, $"{from}..{to}");
        Assert.Equal(fresh, BuildSettingsYaml.ToYaml(BuildSettingsYaml.FromYaml(result).Settings!));
        var (gone, kept) = (comments.Where(c => c.Line >= from && c.Line < to).ToList(), comments.Where(c => c.Line < from || c.Line >= to).ToList());
        Assert.True(gone.Count > 10, $"{gone.Count} comments in the removed block");
        Assert.All(gone, c => Assert.DoesNotContain(c.Comment, result));
        Assert.All(kept, c => Assert.Contains(c.Comment, result));
        // Each block's comment is right above it, now that the blocks come in the other order.
        Assert.Contains("# about Tests (line " + (to) + ")\n- name: Tests\n", result);
        Assert.StartsWith("setup: []\nblocks:\n# about Tests", result, StringComparison.Ordinal);
        Assert.Equal(comments.Count - gone.Count, result.Split('\n').Count(l => l.Contains("# ", StringComparison.Ordinal)
            && (l.Contains("# about ", StringComparison.Ordinal) || l.Contains("# note ", StringComparison.Ordinal))));
    }
}
