using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Secrets;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>
/// What jobs receive of secrets on the real portal and runner: a deploy gets its server's, a build never does, a fork's
/// pull request gets none and is never deployed, and the narrowest scope wins. Commands write hashes of what they see,
/// so no value is ever printed unmasked, and the portal's data folder never holds a value in plain text.
/// </summary>
public sealed class DeploySecretsTests(DeliveryPortal fixture) : IClassFixture<DeliveryPortal>
{
    private async Task PutAsync(string url, object body)
    {
        using var response = await fixture.Admin.PutAsJsonAsync(url, body);
        Assert.True(response.IsSuccessStatusCode, $"{url}: {await response.Content.ReadAsStringAsync()}");
    }

    private static string Read(string marks, string name) => File.ReadAllText(Path.Combine(marks, name)).Trim();

    [Fact]
    public async Task A_fork_build_gets_plain_variables_but_no_secrets_and_is_never_deployed_while_no_build_gets_a_server_secret()
    {
        // Arrange
        var marks = fixture.NewMarks();
        var orgToken = "org-" + Guid.NewGuid().ToString("N");
        var projectToken = "prj-" + Guid.NewGuid().ToString("N");
        var serverToken = "srv-" + Guid.NewGuid().ToString("N");
        var slug = await fixture.CreateProjectAsync(await fixture.NewRepositoryAsync(),
            Deploys.HashOf("FORK_ORG_TOKEN", $"{marks}/$KAIZEN_BUILD_ID-org"),
            Deploys.HashOf("FORK_PROJECT_TOKEN", $"{marks}/$KAIZEN_BUILD_ID-project"),
            Deploys.HashOf("FORK_SERVER_TOKEN", $"{marks}/$KAIZEN_BUILD_ID-server"),
            "echo \"greeting=$FORK_GREETING\"");
        await fixture.CreateServerAsync(slug, "staging", [Deploys.HashOf("FORK_SERVER_TOKEN", $"{marks}/deploy-server")],
            mode: "automatic", branch: "main");
        await PutAsync("/api/v1/secrets/FORK_ORG_TOKEN", new { value = orgToken });
        await PutAsync($"/api/v1/projects/{slug}/secrets/FORK_PROJECT_TOKEN", new { value = projectToken });
        await PutAsync($"/api/v1/projects/{slug}/variables/FORK_GREETING", new { value = "hello-from-a-variable" });
        await PutAsync($"/api/v1/projects/{slug}/servers/staging/secrets/FORK_SERVER_TOKEN", new { value = serverToken });
        using (var byMember = await fixture.Member.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/staging/secrets/FORK_SERVER_TOKEN",
                   new { value = "member-" + Guid.NewGuid().ToString("N") }))
            Assert.Equal(HttpStatusCode.Forbidden, byMember.StatusCode);
        var project = await fixture.Portal.Service<ProjectStore>().FindBySlugAsync(slug);

        // Act: a fork's pull request, then an ordinary build of the same commit
        var started = await fixture.Portal.Service<BuildService>().StartAsync(project!, "main", Trigger.PullRequest, "someone",
            CancellationToken.None, fromFork: true);
        Assert.True(started.Ok, started.Message);
        var fork = await fixture.Portal.WaitForBuildAsync(started.Value);
        var ordinary = await fixture.PassedBuildAsync(slug);

        // Assert: the fork build ran without secrets but with the plain variable
        Assert.True(fork.Status == Status.Passed, await fixture.Portal.DescribeAsync(fork));
        Assert.Equal(Deploys.Hash(""), Read(marks, $"{fork.Id}-org"));
        Assert.Equal(Deploys.Hash(""), Read(marks, $"{fork.Id}-project"));
        Assert.Equal(Deploys.Hash(""), Read(marks, $"{fork.Id}-server"));
        Assert.Contains("greeting=hello-from-a-variable", await fixture.Portal.LogAsync(fork.Jobs[0].Id));
        // An ordinary build gets the organization's and project's secrets, never the server's
        Assert.Equal(Deploys.Hash(orgToken), Read(marks, $"{ordinary.Id}-org"));
        Assert.Equal(Deploys.Hash(projectToken), Read(marks, $"{ordinary.Id}-project"));
        Assert.Equal(Deploys.Hash(""), Read(marks, $"{ordinary.Id}-server"));

        // A fork's build is never deployed, not even by an admin
        using var forkDeploy = await Deploys.RequestAsync(fixture.Admin, fork.Id, "staging");
        Assert.Equal(HttpStatusCode.Conflict, forkDeploy.StatusCode);
        Assert.Contains("A build of a pull request from a fork is never deployed.", await Deploys.ProblemAsync(forkDeploy));
        Assert.Empty((await fixture.Admin.GetFromJsonAsync<List<DeployResponse>>($"/api/v1/builds/{fork.Id}/deploys"))!);

        // The ordinary build goes to staging by itself, and that deploy gets the server's secret; the fork's never went
        var deploy = await Deploys.WaitForNewestAsync(fixture.Admin, slug, "staging", d => DeployStatus.IsFinished(d.Status));
        Assert.Equal((ordinary.Id, DeployTrigger.Automatic, DeployStatus.Passed), (deploy.BuildId, deploy.Trigger, deploy.Status));
        Assert.Equal(Deploys.Hash(serverToken), Read(marks, "deploy-server"));
        var server = await fixture.Admin.GetFromJsonAsync<ServerResponse>($"/api/v1/projects/{slug}/servers/staging");
        Assert.Equal([ordinary.Id], server!.Deploys!.Select(d => d.BuildId));
    }

    [Fact]
    public async Task The_narrowest_scope_wins_a_deploy_sees_the_server_value_a_build_the_project_value_and_no_file_or_log_holds_any()
    {
        // Arrange: one name at three scopes
        var marks = fixture.NewMarks();
        var values = new[] { "org-", "prj-", "srv-" }.Select(p => p + Guid.NewGuid().ToString("N")).ToArray();
        var (orgValue, projectValue, serverValue) = (values[0], values[1], values[2]);
        var slug = await fixture.CreateProjectAsync(await fixture.NewRepositoryAsync(),
            "echo \"build sees $SCOPED_KEY\"", Deploys.HashOf("SCOPED_KEY", $"{marks}/build"));
        await fixture.CreateServerAsync(slug, "production",
            ["echo \"deploy sees $SCOPED_KEY\"", Deploys.HashOf("SCOPED_KEY", $"{marks}/deploy"),
                $"sha256sum < \"$SERVER_KEY_FILE\" | cut -c1-16 > {marks}/key-file"]);
        await PutAsync("/api/v1/secrets/SCOPED_KEY", new { value = orgValue });
        await PutAsync($"/api/v1/projects/{slug}/secrets/SCOPED_KEY", new { value = projectValue });
        await PutAsync($"/api/v1/projects/{slug}/servers/production/secrets/SCOPED_KEY", new { value = serverValue });
        var keyFile = $"-----BEGIN KEY-----\n{Guid.NewGuid():N}\n-----END KEY-----\n";
        await PutAsync($"/api/v1/projects/{slug}/servers/production/secrets/SERVER_KEY_FILE", new { value = keyFile, file = "keys/server.pem" });

        // Act
        var build = await fixture.PassedBuildAsync(slug);
        var deploy = await Deploys.WaitAsync(fixture.Admin, (await Deploys.RequestOkAsync(fixture.Member, build.Id, "production")).Id);

        // Assert
        Assert.Equal(DeployStatus.Passed, deploy.Status);
        Assert.Equal(Deploys.Hash(projectValue), Read(marks, "build"));
        Assert.Equal(Deploys.Hash(serverValue), Read(marks, "deploy"));
        Assert.Equal(Deploys.Hash(keyFile), Read(marks, "key-file"));
        var buildLog = await fixture.Portal.LogAsync(build.Jobs[0].Id);
        var deployLog = await fixture.Admin.GetStringAsync($"/api/v1/deploys/{deploy.Id}/log");
        Assert.Contains("build sees ***", buildLog);
        Assert.Contains("deploy sees ***", deployLog);
        var files = Directory.GetFiles(fixture.Portal.DataDirectory, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith(".db", StringComparison.Ordinal));
        foreach (var value in values.Append(keyFile.Split('\n')[1]))
        {
            Assert.DoesNotContain(value, buildLog);
            Assert.DoesNotContain(value, deployLog);
            Assert.DoesNotContain(files, f => SecretsApiTests.Holds(f, value));
        }
    }
}
