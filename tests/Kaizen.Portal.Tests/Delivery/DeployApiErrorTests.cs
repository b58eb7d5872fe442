using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>What the delivery API answers to wrong requests: a status code that says what kind of problem it is, and a
/// message that says what to change.</summary>
public sealed class DeployApiErrorTests(DeliveryPortal fixture) : IClassFixture<DeliveryPortal>
{
    private static object Body(string? name = "staging", string[]? commands = null, string mode = "manual", string branch = "",
        int approvals = 0, string deployers = "members") =>
        new { name, commands = commands ?? ["./deploy.sh"], trigger = new { mode, branch }, approvals, deployers };

    private static string Json(object body) => JsonSerializer.Serialize(body);

    public static TheoryData<string, string, string> InvalidServers => new()
    {
        { "missing name", "{ \"commands\": [\"./deploy.sh\"] }", "A server name is 1 to 50 letters" },
        { "bad name", Json(Body(name: "my server")), "A server name is 1 to 50 letters" },
        { "no commands", Json(Body(commands: [])), "Add at least one deploy command." },
        { "blank commands", Json(Body(commands: ["  ", ""])), "Add at least one deploy command." },
        { "automatic without branch", Json(Body(mode: "automatic")), "An automatic server needs the branch" },
        { "unknown trigger", Json(Body(mode: "sometimes")), "The trigger mode is 'automatic' or 'manual', not 'sometimes'." },
        { "approvals 11", Json(Body(approvals: 11)), "Approvals are between 0 and 10." },
        { "negative approvals", Json(Body(approvals: -1)), "Approvals are between 0 and 10." },
        { "unknown deployers", Json(Body(deployers: "everyone")), "Who may deploy is 'members' (members and admins) or 'admins', not 'everyone'." },
        { "bad pattern", Json(Body(branch: "release/v?")), "'release/v?' cannot be a branch name" },
        { "empty pattern entry", Json(Body(branch: "main,,develop")), "The branch pattern has an empty entry between commas." },
    };

    [Theory]
    [MemberData(nameof(InvalidServers))]
    public async Task An_invalid_server_is_refused_with_400_and_a_message_saying_what_to_change(string why, string body, string message)
    {
        // Arrange
        var slug = await fixture.SharedProjectAsync();

        // Act
        using var response = await fixture.Admin.PostAsync($"/api/v1/projects/{slug}/servers",
            new StringContent(body, Encoding.UTF8, "application/json"));

        // Assert
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, why);
        Assert.Contains(message, await Deploys.ProblemAsync(response));
        Assert.Empty((await fixture.Admin.GetFromJsonAsync<List<ServerResponse>>($"/api/v1/projects/{slug}/servers"))!);
    }

    [Fact]
    public async Task Malformed_or_missing_json_is_refused_with_400()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", ["true"]);
        var build = await fixture.PassedBuildAsync(slug);

        // Act
        using var malformed = await fixture.Admin.PostAsync($"/api/v1/projects/{slug}/servers",
            new StringContent("{ \"name\": \"staging\", \"commands\": [", Encoding.UTF8, "application/json"));
        using var wrongType = await fixture.Admin.PostAsync($"/api/v1/projects/{slug}/servers",
            new StringContent("{ \"name\": \"x\", \"commands\": [\"true\"], \"approvals\": \"many\" }", Encoding.UTF8, "application/json"));
        using var malformedUpdate = await fixture.Admin.PutAsync($"/api/v1/projects/{slug}/servers/staging",
            new StringContent("not json", Encoding.UTF8, "application/json"));
        using var malformedDeploy = await fixture.Admin.PostAsync($"/api/v1/builds/{build.Id}/deploys",
            new StringContent("{ server: staging }", Encoding.UTF8, "application/json"));
        using var noServer = await fixture.Admin.PostAsJsonAsync($"/api/v1/builds/{build.Id}/deploys", new { });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformedUpdate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformedDeploy.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noServer.StatusCode);
        Assert.Contains("Say which server to deploy to", await Deploys.ProblemAsync(noServer));
        Assert.Empty((await fixture.Admin.GetFromJsonAsync<List<DeployResponse>>($"/api/v1/builds/{build.Id}/deploys"))!);
    }

    [Fact]
    public async Task A_second_server_of_the_same_name_in_any_case_is_a_409_conflict()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", ["true"]);
        await fixture.CreateServerAsync(slug, "production", ["true"]);

        // Act
        using var created = await fixture.Admin.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", Body(name: "Staging"));
        using var renamed = await fixture.Admin.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/production", Body(name: "STAGING"));

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, created.StatusCode);
        Assert.Contains($"Project '{slug}' already has a server named 'Staging'.", await Deploys.ProblemAsync(created));
        Assert.Equal(HttpStatusCode.Conflict, renamed.StatusCode);
        var servers = await fixture.Admin.GetFromJsonAsync<List<ServerResponse>>($"/api/v1/projects/{slug}/servers");
        Assert.Equal(["production", "staging"], servers!.Select(s => s.Name));
    }

    [Fact]
    public async Task Unknown_projects_servers_builds_and_deploys_are_404()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        var build = await fixture.PassedBuildAsync(slug);
        const long missing = 987654321;

        // Act
        var responses = new List<(string What, HttpResponseMessage Response, string Message)>
        {
            ("list servers of an unknown project", await fixture.Admin.GetAsync("/api/v1/projects/no-such-project/servers"), "No project 'no-such-project'."),
            ("create a server in an unknown project",
                await fixture.Admin.PostAsJsonAsync("/api/v1/projects/no-such-project/servers", Body()), "No project 'no-such-project'."),
            ("get an unknown server", await fixture.Admin.GetAsync($"/api/v1/projects/{slug}/servers/nowhere"), $"Project '{slug}' has no server 'nowhere'."),
            ("update an unknown server", await fixture.Admin.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/nowhere", Body()), "has no server 'nowhere'"),
            ("delete an unknown server", await fixture.Admin.DeleteAsync($"/api/v1/projects/{slug}/servers/nowhere"), "has no server 'nowhere'"),
            ("cordon an unknown server", await fixture.Admin.PostAsJsonAsync($"/api/v1/projects/{slug}/servers/nowhere/cordon", new { }), "has no server 'nowhere'"),
            ("put a secret on an unknown server",
                await fixture.Admin.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/nowhere/secrets/KEY", new { value = "some-value" }), "has no server 'nowhere'"),
            ("deploy to an unknown server", await Deploys.RequestAsync(fixture.Admin, build.Id, "nowhere"), $"Project '{slug}' has no server 'nowhere'."),
            ("deploy an unknown build", await Deploys.RequestAsync(fixture.Admin, missing, "staging"), $"No build {missing}."),
            ("list deploys of an unknown build", await fixture.Admin.GetAsync($"/api/v1/builds/{missing}/deploys"), $"No build {missing}."),
            ("get an unknown deploy", await fixture.Admin.GetAsync($"/api/v1/deploys/{missing}"), $"No deploy {missing}."),
            ("get the log of an unknown deploy", await fixture.Admin.GetAsync($"/api/v1/deploys/{missing}/log"), $"No deploy {missing}."),
            ("approve an unknown deploy", await Deploys.ActAsync(fixture.Admin, missing, "approve"), $"No deploy {missing}."),
            ("reject an unknown deploy", await Deploys.ActAsync(fixture.Admin, missing, "reject"), $"No deploy {missing}."),
            ("cancel an unknown deploy", await Deploys.ActAsync(fixture.Admin, missing, "cancel"), $"No deploy {missing}."),
        };

        // Assert
        foreach (var (what, response, message) in responses)
        {
            using (response)
            {
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{what}: {(int)response.StatusCode}");
                Assert.Contains(message, await Deploys.ProblemAsync(response));
            }
        }
    }

    [Fact]
    public async Task Deploying_a_failed_build_or_a_build_of_a_branch_the_server_does_not_accept_is_a_409_conflict()
    {
        // Arrange: a job that fails on main, and passes on feature branches
        var repo = await fixture.NewRepositoryAsync();
        var slug = await fixture.CreateProjectAsync(repo, "test \"$KAIZEN_BRANCH\" != main");
        await fixture.CreateServerAsync(slug, "production", ["true"], branch: "main, release/*");
        await fixture.CreateServerAsync(slug, "preview", ["true"], branch: "feature/*");
        var failed = await fixture.Portal.WaitForBuildAsync(await fixture.Portal.StartBuildAsync(slug, "main"));
        Assert.Equal(Status.Failed, failed.Status);
        await repo.GitAsync("checkout", "-q", "-b", "feature/cart");
        await repo.CommitAsync("Cart", ("cart.txt", "cart\n"));
        var feature = await fixture.PassedBuildAsync(slug, "feature/cart");

        // Act
        using var ofFailed = await Deploys.RequestAsync(fixture.Admin, failed.Id, "production");
        using var ofOtherBranch = await Deploys.RequestAsync(fixture.Admin, feature.Id, "production");
        var accepted = await Deploys.RequestOkAsync(fixture.Member, feature.Id, "preview");

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, ofFailed.StatusCode);
        Assert.Contains($"Only a passed build can be deployed; build {failed.Id} is failed.", await Deploys.ProblemAsync(ofFailed));
        Assert.Equal(HttpStatusCode.Conflict, ofOtherBranch.StatusCode);
        Assert.Contains($"production deploys builds of main, release/* only; build {feature.Id} is of feature/cart.",
            await Deploys.ProblemAsync(ofOtherBranch));
        Assert.Equal(DeployStatus.Passed, (await Deploys.WaitAsync(fixture.Admin, accepted.Id)).Status);
    }

    [Fact]
    public async Task Canceling_a_finished_deploy_is_a_409_conflict()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", ["true"]);
        var build = await fixture.PassedBuildAsync(slug);
        var deploy = await Deploys.WaitAsync(fixture.Admin, (await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging")).Id);
        Assert.Equal(DeployStatus.Passed, deploy.Status);

        // Act
        using var canceled = await Deploys.ActAsync(fixture.Member, deploy.Id, "cancel");
        using var approved = await Deploys.ActAsync(fixture.OtherMember, deploy.Id, "approve");

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, canceled.StatusCode);
        Assert.Contains($"Deploy {deploy.Id} has already finished (passed).", await Deploys.ProblemAsync(canceled));
        Assert.Equal(HttpStatusCode.Conflict, approved.StatusCode);
        Assert.Contains("is not awaiting approval (it is passed)", await Deploys.ProblemAsync(approved));
        Assert.Equal(DeployStatus.Passed, (await Deploys.GetAsync(fixture.Admin, deploy.Id)).Status);
    }

    [Fact]
    public async Task A_member_may_not_create_or_change_a_server_that_needs_approvals_or_is_for_admins_and_a_viewer_no_server_at_all()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "production", ["true"], approvals: 1);
        await fixture.CreateServerAsync(slug, "staging", ["true"], @as: fixture.Member);

        // Act
        using var withApprovals = await fixture.Member.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", Body(name: "prod2", approvals: 1));
        using var forAdmins = await fixture.Member.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", Body(name: "vault", deployers: "admins"));
        using var lowering = await fixture.Member.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/production", Body(name: "production"));
        using var deleting = await fixture.Member.DeleteAsync($"/api/v1/projects/{slug}/servers/production");
        using var raising = await fixture.Member.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/staging", Body(approvals: 2));
        using var byViewer = await fixture.Viewer.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", Body(name: "mine"));

        // Assert
        foreach (var response in new[] { withApprovals, forAdmins, lowering, deleting, raising })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("Only admins may change a server that needs approvals or that only admins may deploy to.",
                await Deploys.ProblemAsync(response));
        }
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        var servers = await fixture.Admin.GetFromJsonAsync<List<ServerResponse>>($"/api/v1/projects/{slug}/servers");
        Assert.Equal([("production", 1), ("staging", 0)], servers!.Select(s => (s.Name, s.Approvals)));
    }

    [Fact]
    public async Task Deleting_a_server_while_its_deploy_runs_is_a_409_conflict_and_allowed_once_it_finished()
    {
        // Arrange: a deploy that runs until the test lets it go on
        var marks = fixture.NewMarks();
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", [Deploys.WaitFor($"{marks}/go")]);
        var build = await fixture.PassedBuildAsync(slug);
        var running = await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging");
        Assert.Equal(DeployStatus.Running, running.Status);

        // Act
        using var whileRunning = await fixture.Admin.DeleteAsync($"/api/v1/projects/{slug}/servers/staging");
        await File.WriteAllTextAsync(Path.Combine(marks, "go"), "");
        Assert.Equal(DeployStatus.Passed, (await Deploys.WaitAsync(fixture.Admin, running.Id)).Status);
        using var afterwards = await fixture.Admin.DeleteAsync($"/api/v1/projects/{slug}/servers/staging");

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, whileRunning.StatusCode);
        Assert.Contains($"Deploy {running.Id} to staging is running; cancel it or wait for it to finish first.",
            await Deploys.ProblemAsync(whileRunning));
        Assert.Equal(HttpStatusCode.NoContent, afterwards.StatusCode);
        using var gone = await fixture.Admin.GetAsync($"/api/v1/projects/{slug}/servers/staging");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var deployGone = await fixture.Admin.GetAsync($"/api/v1/deploys/{running.Id}");
        Assert.Equal(HttpStatusCode.NotFound, deployGone.StatusCode);
        // The build is unaffected: its own jobs are still its only jobs.
        Assert.Equal(Status.Passed, (await fixture.Portal.GetBuildAsync(build.Id)).Status);
    }

    [Fact]
    public async Task Too_long_cordon_reasons_and_decision_comments_are_refused_with_400()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "production", ["true"], approvals: 1);
        var build = await fixture.PassedBuildAsync(slug);
        var requested = await Deploys.RequestOkAsync(fixture.Member, build.Id, "production");

        // Act
        using var cordon = await fixture.Admin.PostAsJsonAsync($"/api/v1/projects/{slug}/servers/production/cordon",
            new { reason = new string('r', 1001) });
        using var approve = await Deploys.ActAsync(fixture.OtherMember, requested.Id, "approve", new string('c', 2001));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, cordon.StatusCode);
        Assert.Contains("The reason is at most 1000 characters.", await Deploys.ProblemAsync(cordon));
        Assert.Equal(HttpStatusCode.BadRequest, approve.StatusCode);
        Assert.Contains("A comment is at most 2000 characters.", await Deploys.ProblemAsync(approve));
        var server = await fixture.Admin.GetFromJsonAsync<ServerResponse>($"/api/v1/projects/{slug}/servers/production");
        Assert.False(server!.Cordoned);
        Assert.Equal(DeployStatus.AwaitingApproval, (await Deploys.GetAsync(fixture.Admin, requested.Id)).Status);
    }
}
