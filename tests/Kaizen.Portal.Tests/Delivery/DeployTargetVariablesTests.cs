using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>A deploy's commands can name their target: KAIZEN_SERVER and KAIZEN_DEPLOY_ID are set in deploys only.</summary>
public sealed class DeployTargetVariablesTests : OneCommitRepository
{
    [Fact]
    public async Task A_deploy_knows_its_server_and_deploy_id_and_a_build_does_not()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Target", _repo.Path, OneJob("echo \"build target=[${KAIZEN_SERVER:-none}]\""));
        var created = await portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name = "eu-staging",
            commands = new[] { "echo \"deploying to $KAIZEN_SERVER as deploy $KAIZEN_DEPLOY_ID\"" },
            trigger = new { mode = "manual", branch = "" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        Assert.Equal(Status.Passed, build.Status);

        var requested = await portal.Api.PostAsJsonAsync($"/api/v1/builds/{build.Id}/deploys", new { server = "eu-staging" });
        Assert.Equal(HttpStatusCode.Created, requested.StatusCode);
        var deploy = (await requested.Content.ReadFromJsonAsync<DeployResponse>())!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!DeployStatus.IsFinished(deploy.Status) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            deploy = (await portal.Api.GetFromJsonAsync<DeployResponse>($"/api/v1/deploys/{deploy.Id}"))!;
        }

        Assert.Equal(DeployStatus.Passed, deploy.Status);
        Assert.Contains($"deploying to eu-staging as deploy {deploy.Id}", await portal.Api.GetStringAsync($"/api/v1/deploys/{deploy.Id}/log"));
        Assert.Contains("build target=[none]", await portal.LogAsync(build.Jobs[0].Id));
    }
}
