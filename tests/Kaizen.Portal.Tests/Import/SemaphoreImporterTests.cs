using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Import.Semaphore;
using Kaizen.Portal.Tests.Browser;

namespace Kaizen.Portal.Tests.Import;

/// <summary>The Semaphore importer as a pure function: real pipelines from public repositories, then each translation.</summary>
public sealed class SemaphoreImporterTests
{
    /// <summary>Real pipelines kept beside the repository (../shared/fixtures/semaphore), read in place.</summary>
    private static string Fixtures => Path.GetFullPath(Path.Combine(BrowserSession.RepositoryRoot, "..", "shared", "fixtures", "semaphore"));

    private static (string Main, Dictionary<string, string> Others) ReadFixture(string folder)
    {
        var dir = Path.Combine(Fixtures, folder);
        var others = Directory.GetFiles(dir, "*.yml").Where(f => Path.GetFileName(f) != "semaphore.yml")
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        return (File.ReadAllText(Path.Combine(dir, "semaphore.yml")), others);
    }

    /// <summary>What the fixtures' README allows to stay untranslated: the machine and the sudo line.</summary>
    private static bool Allowed(UntranslatedLine line) =>
        line.Text.StartsWith("agent:", StringComparison.Ordinal) || line.Text.Contains("sudo chmod 600 ~/.ssh/semaphore_git_ssh", StringComparison.Ordinal);

    private static SemaphoreImportResult Import(string yaml, Dictionary<string, string>? others = null)
    {
        var result = SemaphoreImporter.Import(yaml, others);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result;
    }

    [Fact]
    public void The_pyfaaster_pipeline_imports_with_its_prologue_cache_and_two_automatic_promotions()
    {
        var (main, others) = ReadFixture("pyfaaster");

        var result = Import(main, others);

        Assert.Empty(result.Problems);
        Assert.Empty(result.Settings!.Validate());
        Assert.All(result.Untranslated, u => Assert.True(Allowed(u), $"{u.File}:{u.Line} {u.Text} — {u.Reason}"));
        Assert.Contains(result.Untranslated, u => u is { File: "semaphore.yml", Line: 3 });
        Assert.Contains(result.Untranslated, u => u is { File: "tag_release.yml", Line: 12 });
        var block = Assert.Single(result.Settings!.Blocks!);
        Assert.Equal("Run Tests", block.Name);
        Assert.Equal(["Check Version", "Lint", "Python Tests"], block.Jobs.Select(j => j.Name));
        Assert.Equal("sem-version python 3.8", block.Prologue![0]);
        Assert.Equal("make init", block.Prologue[^1]);
        Assert.StartsWith("cache store dev-requirements-", block.Epilogue![0], StringComparison.Ordinal);
        Assert.Equal(["Release", "Tag-Release"], result.Servers.Select(s => s.Name));
        Assert.All(result.Servers, s => Assert.Equal((TriggerMode.Automatic, "master"), (s.TriggerMode, s.Branch)));
        Assert.Equal("make TWINE_USERNAME=${PYPI_USERNAME} TWINE_PASSWORD=${PYPI_PASSWORD} upload", result.Servers[0].Commands[^1]);
        Assert.Equal("sem-version python 3.8", result.Servers[0].Commands[0]);
        Assert.Equal("git push origin $CZ_VERSION", result.Servers[1].Commands[^1]);
        Assert.All(result.Servers, s => Assert.Empty(s.ToSpec().Normalized().Validate()));
        Assert.Equal(["PyPi Deployment", "Github SSH Key", "SSH Config"], result.Secrets.Select(s => s.Name));
        Assert.Equal("server Release", result.Secrets[0].UsedBy);
    }

    [Fact]
    public void The_gdevelop_pipeline_imports_its_dependencies_and_joins_if_blocks_spread_over_list_items()
    {
        var (main, _) = ReadFixture("gdevelop");

        var result = Import(main);

        Assert.Empty(result.Problems);
        Assert.All(result.Untranslated, u => Assert.True(Allowed(u), $"{u.File}:{u.Line} {u.Text} — {u.Reason}"));
        var blocks = result.Settings!.Blocks!;
        Assert.Equal(["Install", "Type checks", "Auto formatting", "Tests"], blocks.Select(b => b.Name));
        Assert.Empty(blocks[0].Dependencies!);
        Assert.All(blocks.Skip(1), b => Assert.Equal(["Install"], b.Dependencies!));
        var install = Assert.Single(blocks[0].Jobs).Commands;
        Assert.Equal(["checkout", "node -v"], install.Take(2));
        Assert.Equal(5, install.Count);
        Assert.StartsWith("if ! cache has_key newIDE-app-node_modules-", install[2], StringComparison.Ordinal);
        Assert.EndsWith("newIDE/app/node_modules\nfi", install[2], StringComparison.Ordinal);
        Assert.Contains("\n  npm i\n", install[2], StringComparison.Ordinal);
        Assert.Equal(7, result.Settings.Blocks!.Sum(b => b.Jobs.Count));
        Assert.Empty(result.Servers);
    }

    [Theory]
    [InlineData("branch = 'main'", false, "branch=main")]
    [InlineData("branch = 'main' OR branch = 'develop'", false, "branch=main,develop")]
    [InlineData("branch =~ '^release/'", false, "branch=release/**")]
    [InlineData("tag =~ '.*'", false, "tag=**")]
    [InlineData("pull_request =~ '.*'", false, "pr=True")]
    [InlineData("pull_request =~ '.*'", true, "pr=False")]
    [InlineData("branch != 'main'", true, "branch=main")]
    [InlineData("change_in('/lambda/')", false, "changed=/lambda/")]
    [InlineData("change_in(['/lib/', '/package.json'], {default_branch: 'main'})", false, "changed=/lib/,/package.json")]
    [InlineData("branch = 'master' AND change_in('/docs/')", false, "branch=master;changed=/docs/")]
    [InlineData("true", false, "")]
    public void Conditions_translate_to_when(string condition, bool skip, string expected)
    {
        var (when, error) = SemaphoreConditions.Translate(condition, skip, []);

        Assert.Null(error);
        var parts = new List<string>();
        if (when?.Branch is { } b) parts.Add("branch=" + string.Join(',', b));
        if (when?.Tag is { } t) parts.Add("tag=" + string.Join(',', t));
        if (when?.PullRequest is { } p) parts.Add("pr=" + p);
        if (when?.Changed is { } c) parts.Add("changed=" + string.Join(',', c));
        Assert.Equal(expected, string.Join(';', parts));
    }

    [Theory]
    [InlineData("branch = 'main' OR tag =~ '.*'", false)]
    [InlineData("branch = 'main'", true)]
    [InlineData("branch =~ '^v[0-9]+'", false)]
    [InlineData("branch = 'main' AND (", false)]
    [InlineData("false", false)]
    public void Conditions_without_an_equivalent_are_refused_with_a_reason(string condition, bool skip)
    {
        var (when, error) = SemaphoreConditions.Translate(condition, skip, []);

        Assert.Null(when);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Run_and_skip_conditions_matrix_parallelism_env_and_limits_become_kaizen_settings_and_the_rest_is_listed_by_line()
    {
        const string yaml = """
            version: v1.0
            name: Test
            # a comment the YAML reader drops; it is no command
            execution_time_limit:
              hours: 2
            fail_fast:
              stop:
                when: "true"
            auto_cancel:
              running:
                when: "true"
            global_job_config:
              env_vars:
                - name: APP
                  value: shop
            blocks:
              - name: Test
                run:
                  when: "branch = 'main' and change_in('/src/')"
                task:
                  env_vars:
                    - name: LEVEL
                      value: block
                  epilogue:
                    on_fail:
                      commands:
                        - echo failed
                  jobs:
                    - name: unit
                      execution_time_limit:
                        minutes: 15
                      matrix:
                        - env_var: NODE
                          values: ["18", "20"]
                      commands:
                        - "# install first"
                        - npm ci
                        - npm test
                    - name: split
                      parallelism: 3
                      commands:
                        - ./run-part.sh
              - name: Deploy
                skip:
                  when: "branch != 'main'"
                task:
                  jobs:
                    - name: ship
                      priority:
                        - value: 70
                          when: true
                      commands:
                        - ./ship.sh
              - name: Odd
                run:
                  when: "branch = 'a' or tag =~ '.*'"
                task:
                  jobs:
                    - name: odd
                      commands: [echo odd]
            """;

        var result = Import(yaml);
        var s = result.Settings!;

        Assert.Empty(result.Problems);
        Assert.Equal(("2h", true, true), (s.BuildTimeLimit, s.FailFast, s.AutoCancel));
        Assert.Equal("shop", s.Env!["APP"]);
        var test = s.Blocks![0];
        Assert.Equal(["main"], test.When!.Branch!);
        Assert.Equal(["/src/"], test.When.Changed!);
        Assert.Equal("block", test.Env!["LEVEL"]);
        Assert.Equal("if [ \"$KAIZEN_JOB_RESULT\" = failed ]; then\necho failed\nfi", Assert.Single(test.Epilogue!));
        var unit = test.Jobs[0];
        Assert.Equal(("15m", "NODE"), (unit.TimeLimit, unit.Matrix![0].Name));
        Assert.Equal(["# install first\nnpm ci", "npm test"], unit.Commands);
        var split = test.Jobs[1];
        Assert.Equal(["1", "2", "3"], split.Matrix![0].Values);
        Assert.Equal("3", split.Env!["SEMAPHORE_JOB_COUNT"]);
        Assert.Equal(["main"], s.Blocks[1].When!.Branch!);
        Assert.Null(s.Blocks[2].When);
        Assert.Contains(result.Untranslated, u => u.Line == 49 && u.Text == "priority:");
        Assert.Contains(result.Untranslated, u => u.Line == 56 && u.Text.Contains("tag =~", StringComparison.Ordinal));
    }

    [Fact]
    public void Auto_promote_conditions_make_automatic_servers_and_other_promotions_manual_ones()
    {
        const string yaml = """
            version: v1.0
            blocks:
              - name: Test
                task:
                  jobs:
                    - name: t
                      commands: [make test]
            promotions:
              - name: Staging
                pipeline_file: staging.yml
                auto_promote:
                  when: "result = 'passed' and (branch = 'develop' or branch =~ '^release/')"
              - name: Production
                pipeline_file: production.yml
            """;
        const string deploy = """
            version: v1.0
            blocks:
              - name: Deploy
                task:
                  env_vars:
                    - name: STAGE
                      value: it's
                  jobs:
                    - name: d
                      commands:
                        - checkout
                        - ./deploy.sh
            """;

        var result = Import(yaml, new() { ["staging.yml"] = deploy, ["production.yml"] = deploy });

        Assert.Equal((TriggerMode.Automatic, "develop, release/*"), (result.Servers[0].TriggerMode, result.Servers[0].Branch));
        Assert.Equal((TriggerMode.Manual, ""), (result.Servers[1].TriggerMode, result.Servers[1].Branch));
        Assert.Equal(["export STAGE='it'\\''s'", "checkout", "./deploy.sh"], result.Servers[0].Commands);
    }

    [Fact]
    public void Invalid_yaml_names_its_line_and_column()
    {
        var result = SemaphoreImporter.Import("version: v1.0\nblocks:\n  - name: a\n   task: [\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal("semaphore.yml", error.File);
        Assert.True(error.Line >= 3, error.ToString());
    }

    [Fact]
    public void A_flow_list_left_open_is_an_error_with_its_line_not_an_exception()
    {
        // The YAML library throws InvalidOperationException (not a YamlException) on this one.
        var result = SemaphoreImporter.Import("version: v1.0\nblocks:\n  - name: a\n    dependencies: [l\n    task:\n      jobs:\n        - name: j\n          commands: [x]\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal("semaphore.yml", error.File);
        Assert.InRange(error.Line, 4, 9);
        Assert.Contains("is a [ or { not closed?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_promotion_whose_file_is_missing_is_an_error_at_its_line()
    {
        var result = SemaphoreImporter.Import("version: v1.0\nblocks:\n  - name: a\n    task:\n      jobs:\n        - name: j\n          commands: [x]\npromotions:\n  - name: Prod\n    pipeline_file: prod.yml\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal(10, error.Line);
        Assert.Contains("prod.yml", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_huge_file_is_refused_before_it_is_parsed()
    {
        var result = SemaphoreImporter.Import("version: v1.0\n" + new string('#', SemaphoreImporter.MaxFileChars));

        Assert.Contains("at most", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unfinished_if_is_kept_as_one_command_and_listed()
    {
        var result = Import("version: v1.0\nblocks:\n  - name: a\n    task:\n      jobs:\n        - name: j\n          commands:\n            - echo a\n            - if true; then\n            - '  echo b'\n");

        Assert.Equal(["echo a", "if true; then\n  echo b"], result.Settings!.Blocks![0].Jobs[0].Commands);
        Assert.Contains(result.Untranslated, u => u.Line == 9);
    }
}
