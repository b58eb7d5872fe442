using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.GitHub;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Teams;

namespace Kaizen.Portal.Tests.Pipelines;

/// <summary>
/// Settings kept in the repository (.kaizen.yml), end to end: the real portal and its embedded runner, real bash, real git
/// commits on real branches, signed GitHub deliveries for pull requests.
/// </summary>
public sealed class RepositorySettingsTests() : PortalWithRepository(embeddedSlots: 2)
{
    private const string Repository = "octo-org/shop";

    private const string MainFile = """
        # yaml-language-server: $schema=http://localhost/schemas/kaizen-settings.json
        setup: []
        jobs:
          - name: main-test
            commands:
              - echo "pipeline of main"
        epilogue: []
        """;

    private const string BranchFile = """
        setup: []
        blocks:
          - name: build
            jobs:
              - name: compile
                commands:
                  - echo "pipeline of the branch"
          - name: deploy
            dependencies: [build]
            jobs:
              - name: ship
                commands:
                  - echo shipped
        epilogue: []
        """;

    protected override async Task ArrangeRepositoryAsync()
    {
        await _repo.CommitAsync("Pipeline in the repository", (".kaizen.yml", MainFile));
        await _repo.GitAsync("checkout", "-q", "-b", "feature");
        await _repo.CommitAsync("The branch changes its pipeline", (".kaizen.yml", BranchFile));
        await _repo.GitAsync("checkout", "-q", "-b", "broken", "main");
        // Line 4 holds a key no settings know; line 6 a job without commands' list.
        await _repo.CommitAsync("A broken pipeline", (".kaizen.yml", "setup: []\njobs:\n  - name: test\n    command: [true]\n  - name: lint\n    commands: lint\n"));
        await _repo.GitAsync("checkout", "-q", "-b", "without-file", "main");
        await _repo.GitAsync("rm", "-q", ".kaizen.yml");
        await _repo.CommitAsync("No pipeline");
        await _repo.GitAsync("checkout", "-q", "main");
    }

    private async Task<string> RepositoryProjectAsync(string name)
    {
        var (slug, _) = await WebhookPayloadTests.LinkedProjectAsync(_portal, _repo.Path, name, Repository, "echo portal settings ran");
        using var switched = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings/source", new { source = "repository" });
        Assert.Equal(HttpStatusCode.OK, switched.StatusCode);
        return slug;
    }

    [Fact]
    public async Task A_branch_builds_with_its_own_pipeline_while_the_default_branch_keeps_its_own_and_the_snapshot_records_the_file()
    {
        // Arrange
        var slug = await RepositoryProjectAsync("Own pipeline");

        // Act
        var main = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "main"));
        var feature = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "feature"));
        var snapshot = await _portal.Api.GetFromJsonAsync<BuildSnapshotResponse>($"/api/v1/builds/{feature.Id}/snapshot");

        // Assert
        Assert.True(main.Status == Status.Passed, await _portal.DescribeAsync(main));
        Assert.Equal(["main-test"], main.Jobs.Select(j => j.Name));
        Assert.Contains("pipeline of main", await _portal.LogAsync(main.Jobs[0].Id));
        Assert.True(feature.Status == Status.Passed, await _portal.DescribeAsync(feature));
        Assert.Equal([("compile", "build"), ("ship", "deploy")], feature.Jobs.Select(j => (j.Name, j.Block!)));
        Assert.Equal(["build"], feature.Jobs.Single(j => j.Name == "ship").Needs);
        Assert.Contains("pipeline of the branch", await _portal.LogAsync(feature.Jobs[0].Id));
        Assert.Equal(["build", "deploy"], snapshot!.Settings.Blocks!.Select(b => b.Name));
        Assert.DoesNotContain(main.Jobs.Concat(feature.Jobs), j => j.Name == "test");
    }

    [Fact]
    public async Task An_invalid_or_missing_file_fails_the_build_at_once_with_the_files_line_numbers()
    {
        // Arrange
        var slug = await RepositoryProjectAsync("Broken pipeline");

        // Act
        var broken = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "broken"));
        var missing = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "without-file"));

        // Assert
        Assert.Equal(Status.Failed, broken.Status);
        var job = Assert.Single(broken.Jobs);
        Assert.Equal((".kaizen.yml", Status.Failed), (job.Name, job.Status));
        Assert.Contains(".kaizen.yml at ", job.Error);
        Assert.Contains("Line 4, column 5: unknown key 'command'", job.Error);
        Assert.Contains("Line 6, column 15: the commands of job 'lint' must be a list", job.Error);
        Assert.Equal(Status.Failed, missing.Status);
        Assert.Contains("There is no .kaizen.yml at commit", Assert.Single(missing.Jobs).Error);
        Assert.DoesNotContain("portal settings ran", await _portal.LogAsync(job.Id));
    }

    [Fact]
    public async Task Switching_where_settings_live_is_for_writers_audited_and_refuses_unknown_sources()
    {
        // Arrange
        var slug = await _portal.CreateProjectAsync("Switch", _repo.Path, PortalHost.OneJob("true"));
        var viewer = await TeamsPortal.CreateUserAsync(_portal, "vera", "viewer");
        using var asViewer = TeamsPortal.Client(_portal, viewer.Token);

        // Act
        using var byViewer = await asViewer.PutAsJsonAsync($"/api/v1/projects/{slug}/settings/source", new { source = "repository" });
        using var unknown = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings/source", new { source = "wiki" });
        using var toRepository = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings/source", new { source = "repository" });
        var described = await toRepository.Content.ReadFromJsonAsync<SettingsSourceResponse>();
        using var yamlPut = await _portal.Api.PutAsync($"/api/v1/projects/{slug}/settings.yaml", new StringContent("setup: []\njobs: []\n"));
        using var jsonPut = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", new { setup = Array.Empty<string>(), jobs = Array.Empty<object>() });
        // Other routes that write settings would save a copy no build reads: refused the same way.
        using var importApply = await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/import/semaphore?apply=true",
            new { yaml = "version: v1.0\nname: CI\nagent:\n  machine:\n    type: e1-standard-2\nblocks:\n  - name: Test\n    task:\n      jobs:\n        - name: unit\n          commands:\n            - make test\n" });
        using var stacksApply = await _portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null);
        var stored = (await _portal.Service<Kaizen.Portal.Projects.ProjectStore>().FindBySlugAsync(slug))!.Settings;
        var export = await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml");
        using var back = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings/source", new { source = "portal" });
        var audit = await _portal.Api.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=1000");

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("'wiki' is not a settings source", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(("repository", ".kaizen.yml"), (described!.Source, described.File));
        Assert.Equal(MainFile.ReplaceLineEndings("\n"), described.Yaml);
        Assert.Empty(described.Errors);
        Assert.Equal(HttpStatusCode.Conflict, yamlPut.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, jsonPut.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, importApply.StatusCode);
        Assert.Contains("keeps its build settings in the repository", await importApply.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, stacksApply.StatusCode);
        Assert.Contains("add them to the file", await stacksApply.Content.ReadAsStringAsync());
        Assert.Equal(["true"], Assert.Single(stored.Jobs).Commands);
        Assert.Equal(MainFile.ReplaceLineEndings("\n"), export);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        var changes = audit!.Where(e => e.Target == $"project:{slug}/settings" && e.Details!.StartsWith("settings source", StringComparison.Ordinal))
            .Select(e => (e.Actor, e.Details)).ToList();
        Assert.Equal(2, changes.Count);
        Assert.Contains(changes, c => c.Details == "settings source: portal → repository (.kaizen.yml at each build's commit)");
        Assert.Contains(changes, c => c.Details == "settings source: repository → portal");
    }

    [Fact]
    public async Task Yaml_saved_with_comments_exports_as_sent_and_keeps_its_comments_through_changes_elsewhere()
    {
        // Arrange
        var slug = await _portal.CreateProjectAsync("Comments", _repo.Path, PortalHost.OneJob("true"));
        const string commented = """
            # The team's pipeline: lint before tests.
            setup:
              - echo setup   # every job
            jobs:
              # fast checks first
              - name: lint
                commands:
                  - flake8 .

              # the slow one
              - name: test
                commands: [pytest -q]   # flow style stays
            epilogue: []
            """;

        // Act
        using var put = await _portal.Api.PutAsync($"/api/v1/projects/{slug}/settings.yaml", new StringContent(commented, Encoding.UTF8, "text/yaml"));
        var exported = await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml");
        var settings = await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{slug}/settings");
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", settings)).EnsureSuccessStatusCode();
        var afterSameJson = await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml");
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", settings! with { Setup = ["echo changed"] })).EnsureSuccessStatusCode();
        var afterChange = await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml");
        // A second change builds on the first: a job added in front, the others moved.
        var changed = await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{slug}/settings");
        var types = changed!.Jobs[0] with { Name = "types", Commands = ["mypy ."] };
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings",
            changed with { Jobs = [types, changed.Jobs[1], changed.Jobs[0]] })).EnsureSuccessStatusCode();
        var afterSecondChange = await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml");
        using var putAgain = await _portal.Api.PutAsync($"/api/v1/projects/{slug}/settings.yaml", new StringContent(commented, Encoding.UTF8, "text/yaml"));
        var afterPutAgain = await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml");

        // Assert
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        Assert.Equal(commented, await put.Content.ReadAsStringAsync());
        Assert.Equal(commented, exported);
        Assert.Equal(commented, afterSameJson);
        Assert.Equal("""
            # The team's pipeline: lint before tests.
            setup:
            - echo changed   # every job
            jobs:
            # fast checks first
            - name: lint
              commands:
              - flake8 .

            # the slow one
            - name: test
              commands:   # flow style stays
              - pytest -q
            epilogue: []

            """, afterChange);
        Assert.Equal("""
            # The team's pipeline: lint before tests.
            setup:
            - echo changed   # every job
            jobs:
            - name: types
              commands:
              - mypy .

            # the slow one
            - name: test
              commands:   # flow style stays
              - pytest -q
            # fast checks first
            - name: lint
              commands:
              - flake8 .
            epilogue: []

            """, afterSecondChange);
        Assert.True(putAgain.IsSuccessStatusCode, await putAgain.Content.ReadAsStringAsync());
        Assert.Equal(commented, afterPutAgain);
    }

    [Fact]
    public async Task A_fork_pull_request_runs_its_own_file_only_after_approval_and_without_secrets()
    {
        // Arrange
        var (slug, webhookSecret) = await WebhookPayloadTests.LinkedProjectAsync(_portal, _repo.Path, "Fork", Repository, "true");
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings/source", new { source = "repository" })).EnsureSuccessStatusCode();
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/secrets/DEPLOY_TOKEN", new { value = "s3cr3t-token-value" })).EnsureSuccessStatusCode();
        var forkFile = "setup: []\njobs:\n  - name: steal\n    env:\n      SHOUT: \"yes\"\n    commands:\n      - echo \"trying to leak [$DEPLOY_TOKEN] shout=$SHOUT\"\nepilogue: []\n";
        var forkSha = await PullRequestHeadAsync(51, (".kaizen.yml", forkFile));
        var scriptSha = await PullRequestHeadAsync(52, (".kaizen.yml", "setup: []\njobs:\n  - name: x\n    commands:\n      - run-script no-such-script\nepilogue: []\n"));

        // Act
        var waiting = await OpenPullRequestAsync(slug, webhookSecret, 51, forkSha);
        using var approve = await _portal.Api.PostAsync($"/api/v1/builds/{waiting.Id}/approve", null);
        var finished = await _portal.WaitForBuildAsync(waiting.Id);
        var unknownScript = await _portal.WaitForBuildAsync((await OpenPullRequestAsync(slug, webhookSecret, 52, scriptSha)).Id);

        // Assert
        Assert.Equal(Status.AwaitingApproval, waiting.Status);
        Assert.Equal(["steal"], waiting.Jobs.Select(j => j.Name));
        Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
        Assert.True(finished.Status == Status.Passed, await _portal.DescribeAsync(finished));
        var log = await _portal.LogAsync(finished.Jobs[0].Id);
        Assert.Contains("trying to leak [] shout=yes", log);
        Assert.DoesNotContain("s3cr3t", log);
        Assert.Equal(Status.Failed, unknownScript.Status);
        Assert.Contains("no-such-script", unknownScript.Jobs[0].Error);
    }

    private async Task<string> PullRequestHeadAsync(int number, params (string Path, string Content)[] files)
    {
        var branch = $"patch-{number}";
        await _repo.GitAsync("checkout", "-q", "-b", branch, "main");
        await _repo.CommitAsync($"Change {number}", files);
        var sha = (await _repo.GitAsync("rev-parse", "HEAD")).Trim();
        await _repo.GitAsync("update-ref", $"refs/pull/{number}/head", sha);
        await _repo.GitAsync("checkout", "-q", "main");
        await _repo.GitAsync("branch", "-q", "-D", branch);
        return sha;
    }

    private async Task<BuildResponse> OpenPullRequestAsync(string slug, string secret, int number, string sha)
    {
        var payload = new JsonObject
        {
            ["action"] = "opened",
            ["number"] = number,
            ["pull_request"] = new JsonObject
            {
                ["number"] = number,
                ["title"] = $"Change number {number}",
                ["user"] = new JsonObject { ["login"] = "outsider" },
                ["head"] = new JsonObject
                {
                    ["sha"] = sha, ["ref"] = $"patch-{number}", ["repo"] = new JsonObject { ["full_name"] = "outsider/shop" },
                },
                ["base"] = new JsonObject { ["ref"] = "main", ["repo"] = new JsonObject { ["full_name"] = Repository } },
            },
            ["repository"] = new JsonObject { ["full_name"] = Repository },
            ["sender"] = new JsonObject { ["login"] = "outsider" },
        };
        using var response = await WebhookExamples.SendAsync(_anonymous, "pull_request", payload, secret);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var listed = (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds?branch=pull/{number}"))!.Items;
        return await _portal.GetBuildAsync(listed[0].Id);
    }
}
