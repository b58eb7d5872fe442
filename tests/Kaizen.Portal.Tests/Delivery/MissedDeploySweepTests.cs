using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Data;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>
/// A build that passed while nothing asked for its automatic deploy (the portal stopped between the two) still gets
/// it from the lease reaper's sweep, once, and only where the server would have deployed it.
/// </summary>
public sealed class MissedDeploySweepTests
{
    private static DeployService Service(TestDatabase test)
    {
        var audit = new AuditLog(test.Database, test.Clock);
        var scripts = new Kaizen.Portal.Scripts.ScriptStore(test.Database, test.Clock);
        return new(new DeployStore(test.Database, test.Clock), test.Projects, test.Builds, audit,
            new LiveUpdates(NullLogger<LiveUpdates>.Instance), new WorkSignal(), test.Clock, NullLogger<DeployService>.Instance,
            new Kaizen.Portal.Scripts.ScriptPlanner(scripts), new Kaizen.Portal.Scripts.ScriptLibrary(scripts, test.Projects, audit));
    }

    /// <summary>Runs a build of <paramref name="branch"/> to passed through the runner store alone: no delivery hook.</summary>
    private static async Task<long> PassedBuildAsync(TestDatabase test, long projectId, string branch)
    {
        var buildId = await test.CreateBuildAsync(projectId, TestDatabase.OneJob(), branch);
        var runnerId = await test.RegisterRunnerAsync($"runner-{buildId}");
        var job = await test.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds);
        await test.Runners.CompleteAsync(runnerId, job!.JobId, job.LeaseToken, JobOutcome.Passed, 0, null);
        return buildId;
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_passed_build_without_its_automatic_deploy_gets_it_from_the_sweep_once(string provider)
    {
        await using var test = await TestDatabase.CreateAsync(provider);
        var service = Service(test);
        var store = new DeployStore(test.Database, test.Clock);
        var projectId = await test.CreateProjectAsync("shop", TestDatabase.OneJob());
        var project = (await test.Projects.FindBySlugAsync("shop"))!;
        var before = await PassedBuildAsync(test, projectId, "develop");
        test.Clock.Advance(TimeSpan.FromSeconds(1));
        var staging = (await service.CreateServerAsync(project,
            new ServerSpec("staging", ["./deploy.sh"], TriggerMode.Automatic, "develop", 0, Deployers.Members), Actor.System)).Value!;
        test.Clock.Advance(TimeSpan.FromSeconds(1));
        var missed = await PassedBuildAsync(test, projectId, "develop");
        var otherBranch = await PassedBuildAsync(test, projectId, "feature/x");

        await service.SweepAsync();
        await service.SweepAsync();

        var deploys = await store.DeploysOfServerAsync(staging.Id, 10);
        var deploy = Assert.Single(deploys);
        Assert.Equal(missed, deploy.BuildId);
        Assert.Equal(DeployTrigger.Automatic, deploy.TriggerKind);
        Assert.Equal(DeployStatus.Running, deploy.Status);
        Assert.DoesNotContain(deploys, d => d.BuildId == before || d.BuildId == otherBranch);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_build_that_passed_longer_ago_than_the_window_is_left_alone(string provider)
    {
        await using var test = await TestDatabase.CreateAsync(provider);
        var service = Service(test);
        var projectId = await test.CreateProjectAsync("shop", TestDatabase.OneJob());
        var project = (await test.Projects.FindBySlugAsync("shop"))!;
        var staging = (await service.CreateServerAsync(project,
            new ServerSpec("staging", ["./deploy.sh"], TriggerMode.Automatic, "develop", 0, Deployers.Members), Actor.System)).Value!;
        test.Clock.Advance(TimeSpan.FromSeconds(1));
        await PassedBuildAsync(test, projectId, "develop");
        test.Clock.Advance(DeployService.MissedWindow + TimeSpan.FromMinutes(1));

        await service.SweepAsync();

        Assert.Empty(await new DeployStore(test.Database, test.Clock).DeploysOfServerAsync(staging.Id, 10));
    }
}
