using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Secrets;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>A push to develop whose build passes updates staging by itself, with staging's secret and only there.</summary>
public sealed class AutomaticDeployTests : OneCommitRepository
{
    [Fact]
    public async Task A_passed_build_of_develop_deploys_to_staging_which_alone_sees_the_staging_secret()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var marks = Path.Combine(portal.Exchange, $"marks-{Guid.NewGuid():N}");
        Directory.CreateDirectory(marks);
        await _repo.GitAsync("checkout", "-q", "-b", "develop");
        await _repo.CommitAsync("Ready for staging", ("app.txt", "v2\n"));
        var slug = await portal.CreateProjectAsync("Shop", _repo.Path, OneJob(
            "echo \"build sees [${STAGING_KEY:-nothing}]\""));
        var stagingKey = "stg-" + Guid.NewGuid().ToString("N");

        var created = await portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name = "staging",
            commands = new[]
            {
                "echo \"deploying with $STAGING_KEY\"",
                "printf '%s' \"$STAGING_KEY\" | sha256sum | cut -c1-16 > " + marks + "/key",
                "git rev-parse HEAD > " + marks + "/commit",
            },
            trigger = new { mode = "automatic", branch = "develop" },
            approvals = 0,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True((await portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/staging/secrets/STAGING_KEY",
            new { value = stagingKey })).IsSuccessStatusCode);

        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug, "develop"));
        Assert.Equal(Status.Passed, build.Status);
        var deploy = await Deploys.WaitForNewestAsync(portal.Api, slug, "staging", d => DeployStatus.IsFinished(d.Status));

        Assert.Equal(DeployStatus.Passed, deploy.Status);
        Assert.Equal(build.Id, deploy.BuildId);
        Assert.Equal("automatic", deploy.Trigger);
        Assert.Equal(Deploys.Hash(stagingKey), File.ReadAllText(Path.Combine(marks, "key")).Trim());
        Assert.Equal(build.CommitSha, File.ReadAllText(Path.Combine(marks, "commit")).Trim());
        var deployLog = await portal.Api.GetStringAsync($"/api/v1/deploys/{deploy.Id}/log");
        Assert.Contains("deploying with ***", deployLog);
        Assert.DoesNotContain(stagingKey, deployLog);
        Assert.Contains("build sees [nothing]", await portal.LogAsync(build.Jobs[0].Id));
        var files = Directory.GetFiles(portal.DataDirectory, "*", SearchOption.AllDirectories);
        Assert.DoesNotContain(files, f => SecretsApiTests.Holds(f, stagingKey));
        // The deploy's job is not one of the build's jobs.
        Assert.Single((await portal.GetBuildAsync(build.Id)).Jobs);
        Directory.Delete(marks, recursive: true);
    }
}
