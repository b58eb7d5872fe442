using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.GitHub;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// Blocks, dependencies, matrices, conditions, time limits, fail fast and auto-cancel, end to end: the real portal, its
/// embedded runner, real bash and real git commits.
/// </summary>
public sealed class PipelineTests() : PortalWithRepository(embeddedSlots: 4)
{
    private string Marks(string name)
    {
        var dir = Path.Combine(_portal.Exchange, $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static JobResponse Job(BuildResponse build, string name) =>
        build.Jobs.SingleOrDefault(j => j.Name == name) ?? throw new Xunit.Sdk.XunitException(
            $"No job '{name}'; the build has {string.Join(", ", build.Jobs.Select(j => j.Name))}.");

    [Fact]
    public async Task A_failed_block_skips_its_dependants_with_the_reason_while_blocks_that_need_nothing_from_it_run()
    {
        var marks = Marks("dag");
        var slug = await _portal.CreateProjectAsync("Dag", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            epilogue = Array.Empty<string>(),
            blocks = new object[]
            {
                new { name = "build", jobs = new[] { new { name = "compile", commands = new[] { $"touch {marks}/built" } } } },
                // No dependencies written: after the block before (build). It must see build's mark.
                new { name = "lint", jobs = new[] { new { name = "flake8", commands = new[] { $"test -f {marks}/built", "echo lint found problems", "exit 3" } } } },
                new { name = "test", dependencies = new[] { "build" }, jobs = new[] { new { name = "pytest", commands = new[] { $"test -f {marks}/built" } } } },
                new { name = "deploy", dependencies = new[] { "lint", "test" }, jobs = new[] { new { name = "ship", commands = new[] { $"touch {marks}/shipped" } } } },
                new { name = "notify", jobs = new[] { new { name = "mail", commands = new[] { $"touch {marks}/mailed" } } } },
            },
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.Equal(Status.Failed, build.Status);
        Assert.Equal(Status.Passed, Job(build, "compile").Status);
        Assert.Equal((Status.Failed, "lint"), (Job(build, "flake8").Status, Job(build, "flake8").Block));
        Assert.Equal(Status.Passed, Job(build, "pytest").Status);
        Assert.Equal((Status.Skipped, "skipped: block lint failed"), (Job(build, "ship").Status, Job(build, "ship").Error));
        Assert.Equal((Status.Skipped, "skipped: block deploy did not run"), (Job(build, "mail").Status, Job(build, "mail").Error));
        Assert.Equal(["lint", "test"], Job(build, "ship").Needs);
        Assert.All(Job(build, "ship").Commands, c => Assert.Equal(Status.Skipped, c.Status));
        Assert.False(File.Exists(Path.Combine(marks, "shipped")));
        Assert.False(File.Exists(Path.Combine(marks, "mailed")));
    }

    [Fact]
    public async Task A_matrix_runs_one_job_per_combination_with_its_variables_prologues_and_epilogues()
    {
        var slug = await _portal.CreateProjectAsync("Matrix", _repo.Path, new
        {
            setup = new[] { "echo project-setup" },
            epilogue = new[] { "echo project-epilogue" },
            env = new Dictionary<string, string> { ["LEVEL"] = "project", ["APP"] = "shop" },
            blocks = new object[]
            {
                new
                {
                    name = "test",
                    env = new Dictionary<string, string> { ["LEVEL"] = "block" },
                    prologue = new[] { "echo block-prologue" },
                    epilogue = new[] { "echo block-epilogue" },
                    jobs = new object[]
                    {
                        new
                        {
                            name = "unit",
                            matrix = new object[] { new { name = "NODE", values = new[] { "18", "20" } }, new { name = "OS", values = new[] { "alpine", "debian" } } },
                            env = new Dictionary<string, string> { ["JOB_ONLY"] = "yes" },
                            prologue = new[] { "echo job-prologue" },
                            commands = new[] { "echo \"app=$APP level=$LEVEL node=$NODE os=$OS job=$JOB_ONLY\"" },
                            epilogue = new[] { "echo job-epilogue" },
                        },
                    },
                },
            },
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Equal(["unit (NODE=18, OS=alpine)", "unit (NODE=18, OS=debian)", "unit (NODE=20, OS=alpine)", "unit (NODE=20, OS=debian)"],
            build.Jobs.Select(j => j.Name));
        foreach (var (node, os) in new[] { ("18", "alpine"), ("18", "debian"), ("20", "alpine"), ("20", "debian") })
        {
            var job = Job(build, $"unit (NODE={node}, OS={os})");
            Assert.Equal(["echo project-setup", "echo block-prologue", "echo job-prologue", "echo \"app=$APP level=$LEVEL node=$NODE os=$OS job=$JOB_ONLY\"",
                "echo job-epilogue", "echo block-epilogue", "echo project-epilogue"], job.Commands.Select(c => c.Text));
            Assert.Contains($"app=shop level=block node={node} os={os} job=yes", await _portal.LogAsync(job.Id));
        }
    }

    [Fact]
    public async Task Conditions_on_branch_and_changed_paths_are_decided_with_real_commits_and_say_why_a_job_was_skipped()
    {
        var slug = await _portal.CreateProjectAsync("Conditions", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            epilogue = Array.Empty<string>(),
            jobs = new object[]
            {
                new { name = "always", commands = new[] { "true" } },
                new { name = "release", commands = new[] { "true" }, when = new { branch = new[] { "main", "release/*" } } },
                new { name = "lambda", commands = new[] { "true" }, when = new { changed = new[] { "/lambda/" } } },
                new { name = "docs", commands = new[] { "true" }, when = new { changed = new[] { "docs/**/*.md" } } },
            },
        });

        // The first build of the default branch has nothing to compare with: changed-path jobs run.
        var first = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "main"));
        Assert.True(first.Status == Status.Passed, await _portal.DescribeAsync(first));
        Assert.All(first.Jobs, j => Assert.Equal(Status.Passed, j.Status));

        // A feature branch that changes the lambda: compared with its merge base on main.
        await _repo.GitAsync("checkout", "-q", "-b", "feature/fast");
        await _repo.CommitAsync("Faster handler", ("lambda/handler.py", "def handler(): pass\n"));
        var feature = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "feature/fast"));
        Assert.Equal(Status.Passed, feature.Status);
        Assert.Equal(Status.Passed, Job(feature, "always").Status);
        Assert.Equal(Status.Passed, Job(feature, "lambda").Status);
        Assert.Equal((Status.Skipped, "skipped: branch feature/fast does not match 'main' or 'release/*'"),
            (Job(feature, "release").Status, Job(feature, "release").Error));
        Assert.Equal(Status.Skipped, Job(feature, "docs").Status);
        Assert.StartsWith("skipped: no changed file matches 'docs/**/*.md' (compared with ", Job(feature, "docs").Error);

        // The next commit of the branch changes only docs: compared with the branch's previous build.
        await _repo.CommitAsync("Document it", ("docs/guide/lambda.md", "# Lambda\n"));
        var docs = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "feature/fast"));
        Assert.Equal(Status.Passed, docs.Status);
        Assert.Equal(Status.Passed, Job(docs, "docs").Status);
        Assert.Equal(Status.Skipped, Job(docs, "lambda").Status);
        Assert.Contains(feature.CommitSha[..12], Job(docs, "lambda").Error);
    }

    [Fact]
    public async Task A_job_over_its_time_limit_is_stopped_and_fails_with_the_limit_as_its_reason()
    {
        var slug = await _portal.CreateProjectAsync("Limits", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            epilogue = new[] { "echo epilogue after the limit" },
            timeLimit = "10m",
            jobs = new object[]
            {
                new { name = "hangs", timeLimit = "3s", commands = new[] { "echo started", "sleep 120", "echo never" } },
                new { name = "quick", commands = new[] { "echo quick" } },
            },
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.Equal(Status.Failed, build.Status);
        var hangs = Job(build, "hangs");
        Assert.Equal((Status.Failed, "time limit of 3 s reached"), (hangs.Status, hangs.Error));
        Assert.Equal(Status.Passed, Job(build, "quick").Status);
        var log = await _portal.LogAsync(hangs.Id);
        Assert.Contains("Time limit of 3 s reached: the job was stopped.", log);
        Assert.DoesNotContain("never", log.Replace("echo never", ""));
        Assert.Equal(Status.Skipped, hangs.Commands.Single(c => c.Text == "echo never").Status);
    }

    [Fact]
    public async Task A_build_over_its_time_limit_fails_its_running_jobs_and_skips_the_rest()
    {
        var slug = await _portal.CreateProjectAsync("Build limit", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            epilogue = Array.Empty<string>(),
            buildTimeLimit = "3s",
            blocks = new object[]
            {
                new { name = "test", jobs = new[] { new { name = "hangs", commands = new[] { "sleep 120" } } } },
                new { name = "deploy", jobs = new[] { new { name = "ship", commands = new[] { "true" } } } },
            },
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.Equal(Status.Failed, build.Status);
        Assert.Equal("build time limit of 3 s reached", build.CancelReason);
        Assert.Equal((Status.Failed, "build time limit of 3 s reached"), (Job(build, "hangs").Status, Job(build, "hangs").Error));
        Assert.Equal((Status.Skipped, "skipped: build time limit of 3 s reached"), (Job(build, "ship").Status, Job(build, "ship").Error));
    }

    [Fact]
    public async Task Fail_fast_cancels_running_jobs_and_skips_the_ones_not_started()
    {
        var marks = Marks("failfast");
        var slug = await _portal.CreateProjectAsync("Fail fast", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            epilogue = Array.Empty<string>(),
            failFast = true,
            blocks = new object[]
            {
                new
                {
                    name = "test",
                    jobs = new object[]
                    {
                        new { name = "slow", commands = new[] { $"touch {marks}/slow-started", "sleep 120" } },
                        // Fails once the slow job is surely running.
                        new { name = "broken", commands = new[] { $"while [ ! -f {marks}/slow-started ]; do sleep 0.1; done", "exit 1" } },
                    },
                },
                new { name = "deploy", jobs = new[] { new { name = "ship", commands = new[] { "true" } } } },
            },
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.Equal(Status.Failed, build.Status);
        Assert.Equal(Status.Failed, Job(build, "broken").Status);
        Assert.Equal((Status.Canceled, "canceled: job broken failed (fail fast)"), (Job(build, "slow").Status, Job(build, "slow").Error));
        Assert.Equal((Status.Skipped, "skipped: job broken failed (fail fast)"), (Job(build, "ship").Status, Job(build, "ship").Error));
    }

    [SkippableFact]
    public async Task A_second_push_to_a_branch_cancels_its_running_build_and_says_so()
    {
        WebhookExamples.Require();
        var (slug, secret) = await WebhookPayloadTests.LinkedProjectAsync(_portal, _repo.Path, "Auto cancel", "octo-org/auto");
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", new
        {
            autoCancel = true,
            jobs = new[] { new { name = "test", commands = new[] { "git log -1 --format=%s", "sleep 120" } } },
        })).EnsureSuccessStatusCode();

        async Task<long> PushAsync(string message)
        {
            var sha = await _repo.CommitAsync(message, ("readme.txt", message + "\n"));
            var push = WebhookExamples.Of("push").First(p => ((string)p["ref"]!).StartsWith("refs/heads/", StringComparison.Ordinal));
            push["ref"] = "refs/heads/main";
            push["after"] = sha;
            push["deleted"] = false;
            push["repository"]!["full_name"] = "octo-org/auto";
            var sent = await WebhookExamples.SendAsync(_anonymous, "push", push, secret);
            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
            var builds = (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds"))!.Items;
            return builds.Single(b => b.CommitSha == sha).Id;
        }

        var first = await PushAsync("First change");
        await _portal.WaitForBuildAsync(first, b => b.Jobs[0].Commands.Any(c => c.Text.StartsWith("sleep") && c.Status == Status.Running));
        var second = await PushAsync("Second change");

        var canceled = await _portal.WaitForBuildAsync(first);
        Assert.Equal(Status.Canceled, canceled.Status);
        Assert.Equal($"canceled by a newer push (build {second})", canceled.CancelReason);
        Assert.Equal($"canceled by a newer push (build {second})", canceled.Jobs[0].Error);
        var running = await _portal.GetBuildAsync(second);
        Assert.False(Status.IsFinished(running.Status), $"the newer build must go on; it is {running.Status}");
        Assert.True(await _portal.Service<BuildService>().CancelAsync((await _portal.Service<BuildStore>().FindAsync(second))!, default));
    }

    [Theory]
    [InlineData("cycle", "$.blocks[0].dependencies", "go round in a circle (a → c → b → a)")]
    [InlineData("unknown", "$.blocks[1].dependencies[0]", "no block is named 'lnt' (the blocks are lint, test)")]
    [InlineData("matrix", "$.blocks[0].jobs[0].matrix", "the matrix expands to 600 jobs")]
    [InlineData("kaizen", "$.env.KAIZEN_JOB_TOKEN", "names starting with KAIZEN_ are the runner's own")]
    public async Task Invalid_pipelines_are_refused_with_the_json_path_of_the_problem(string kind, string path, string words)
    {
        var slug = await _portal.CreateProjectAsync($"Invalid {kind}", _repo.Path, PortalHost.OneJob("true"));
        static object Block(string name, params string[] deps) =>
            new { name, dependencies = deps, jobs = new[] { new { name = $"{name}-job", commands = new[] { "true" } } } };
        object settings = kind switch
        {
            "cycle" => new { blocks = new[] { Block("a", "c"), Block("b", "a"), Block("c", "b") } },
            "unknown" => new { blocks = new[] { Block("lint"), new { name = "test", dependencies = new[] { "lnt" }, jobs = new[] { new { name = "t", commands = new[] { "true" } } } } } },
            "matrix" => new
            {
                blocks = new[]
                {
                    new
                    {
                        name = "test",
                        jobs = new[]
                        {
                            new
                            {
                                name = "t", commands = new[] { "true" },
                                matrix = new[] { new { name = "A", values = Enumerable.Range(0, 20).Select(i => $"{i}").ToArray() },
                                                 new { name = "B", values = Enumerable.Range(0, 30).Select(i => $"{i}").ToArray() } },
                            },
                        },
                    },
                },
            },
            _ => (object)new { env = new Dictionary<string, string> { ["KAIZEN_JOB_TOKEN"] = "stolen" }, jobs = new[] { new { name = "t", commands = new[] { "true" } } } },
        };

        var response = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", settings);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(path, out var at), $"no error at {path}: {errors}");
        Assert.Contains(words, at[0].GetString());
        // Nothing was saved.
        var kept = await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{slug}/settings");
        Assert.False(kept!.HasBlocks);
        Assert.Null(kept.Env);
    }

    private const string PipelineYaml = """
        env:
          APP: "shop"
        timeLimit: 20m
        buildTimeLimit: 1h
        failFast: true
        autoCancel: false
        setup:
          - echo setup
        blocks:
          - name: lint
            jobs:
              - name: flake8
                commands:
                  - flake8 .
          - name: test
            dependencies: []
            when:
              changed:
                - lambda/
            env:
              LEVEL: "block"
            prologue:
              - echo block prologue
            jobs:
              - name: unit
                when:
                  branch:
                    - main
                    - release/*
                  pullRequest: false
                matrix:
                  - name: NODE
                    values: ["18", "20"]
                env:
                  DEBUG: "1"
                timeLimit: 5m
                prologue:
                  - nvm use $NODE
                commands:
                  - |
                    npm ci
                    npm test
                epilogue:
                  - echo job done
                testReports:
                  - reports/*.xml
            epilogue:
              - echo block done
          - name: deploy
            dependencies:
              - lint
              - test
            when:
              tag:
                - v*
            jobs:
              - name: ship
                commands:
                  - serverless deploy
        epilogue:
          - echo done

        """;

    /// <summary>What the portal exports for <see cref="PipelineYaml"/>: its own layout, the same settings.</summary>
    private const string ExportedYaml = """
        env:
          APP: "shop"
        timeLimit: 20m
        buildTimeLimit: 1h
        failFast: true
        autoCancel: false
        setup:
        - echo setup
        blocks:
        - name: lint
          jobs:
          - name: flake8
            commands:
            - flake8 .
        - name: test
          dependencies: []
          when:
            changed:
            - lambda/
          env:
            LEVEL: "block"
          prologue:
          - echo block prologue
          jobs:
          - name: unit
            when:
              branch:
              - main
              - release/*
              pullRequest: false
            matrix:
            - name: NODE
              values: ["18", "20"]
            env:
              DEBUG: "1"
            timeLimit: 5m
            prologue:
            - nvm use $NODE
            commands:
            - |
              npm ci
              npm test
            epilogue:
            - echo job done
            testReports:
            - reports/*.xml
          epilogue:
          - echo block done
        - name: deploy
          dependencies:
          - lint
          - test
          when:
            tag:
            - v*
          jobs:
          - name: ship
            commands:
            - serverless deploy
        epilogue:
        - echo done

        """;

    [Fact]
    public async Task Yaml_with_blocks_round_trips_through_import_export_and_the_json_api()
    {
        var slug = await _portal.CreateProjectAsync("Round trip", _repo.Path, PortalHost.OneJob("true"));
        var yaml = PipelineYaml.Replace("\r\n", "\n");

        var put = await _portal.Api.PutAsync($"/api/v1/projects/{slug}/settings.yaml", new StringContent(yaml, Encoding.UTF8, "text/yaml"));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var exported = ExportedYaml.Replace("\r\n", "\n");
        // The text sent is kept as written (comments and layout) while the settings stay the same.
        Assert.Equal(yaml, await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml"));

        // Importing the export changes nothing.
        (await _portal.Api.PutAsync($"/api/v1/projects/{slug}/settings.yaml", new StringContent(exported, Encoding.UTF8, "text/yaml"))).EnsureSuccessStatusCode();
        Assert.Equal(exported, await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml"));

        // The JSON form carries the same keys; writing it back gives the same YAML.
        var json = await _portal.Api.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{slug}/settings");
        Assert.Equal("test", json.GetProperty("blocks")[1].GetProperty("name").GetString());
        Assert.Equal("NODE", json.GetProperty("blocks")[1].GetProperty("jobs")[0].GetProperty("matrix")[0].GetProperty("name").GetString());
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", json)).EnsureSuccessStatusCode();
        Assert.Equal(exported, await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml"));

        // A cycle written in YAML is refused the same way, and the stored settings stay.
        var cycle = yaml.Replace("dependencies: []", "dependencies: [deploy]");
        var refused = await _portal.Api.PutAsync($"/api/v1/projects/{slug}/settings.yaml", new StringContent(cycle, Encoding.UTF8, "text/yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("go round in a circle", await refused.Content.ReadAsStringAsync());
        Assert.Equal(exported, await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml"));
    }

    [Fact]
    public async Task The_settings_schema_is_served_to_anyone_and_is_the_documented_file()
    {
        var served = await _anonymous.GetAsync("/schemas/kaizen-settings.json");

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var text = await served.Content.ReadAsStringAsync();
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Portal.sln"))) dir = Path.GetDirectoryName(dir);
        Assert.Equal(File.ReadAllText(Path.Combine(dir!, "docs", "schemas", "kaizen-settings.json")), text);
        var schema = JsonDocument.Parse(text).RootElement;
        foreach (var key in new[] { "blocks", "env", "timeLimit", "buildTimeLimit", "failFast", "autoCancel", "jobs", "setup", "epilogue", "image" })
            Assert.True(schema.GetProperty("properties").TryGetProperty(key, out _), $"the schema does not describe {key}");
    }
}
