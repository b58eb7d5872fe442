using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Data;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>The deploy store on both databases: which deploy starts, and how decisions are counted.</summary>
public sealed class DeployStoreTests
{
    private const int Lease = 30;

    private sealed class Scenario(TestDatabase test, DeployStore store, long buildId, long serverId)
    {
        public TestDatabase Test { get; } = test;
        public DeployStore Store { get; } = store;
        public long BuildId { get; } = buildId;
        public long ServerId { get; } = serverId;

        public Task<long> DeployAsync(string status = DeployStatus.Queued, int approvals = 0, string requestedBy = "mia") =>
            Store.InsertDeployAsync(ServerId, BuildId, status, DeployTrigger.Manual, requestedBy, approvals);

        public Task<DeployRow?> StartNextAsync() => Store.StartNextAsync(ServerId, (_, server) =>
            new NewJob($"deploy to {server.Name}", [new JobCommand(0, CommandPhase.Main, "./deploy.sh")]));

        public async Task<string> StatusAsync(long deployId) => (await Store.FindDeployAsync(deployId))!.Status;
    }

    /// <summary>A project with a passed build (its job claimed and completed by a runner) and a server "staging".</summary>
    private static async Task<Scenario> ArrangeAsync(TestDatabase test, int approvals = 0)
    {
        var store = new DeployStore(test.Database, test.Clock);
        var projectId = await test.CreateProjectAsync("shop", TestDatabase.OneJob());
        var buildId = await test.CreateBuildAsync(projectId, TestDatabase.OneJob());
        var runnerId = await test.RegisterRunnerAsync("runner-1");
        var job = await test.Runners.ClaimAsync(runnerId, Lease);
        await test.Runners.CompleteAsync(runnerId, job!.JobId, job.LeaseToken, JobOutcome.Passed, 0, null);
        Assert.Equal(Status.Passed, (await test.Builds.FindAsync(buildId))!.Status);
        var serverId = await store.CreateServerAsync(projectId,
            new ServerSpec("staging", ["./deploy.sh"], TriggerMode.Manual, "", approvals, Deployers.Members), "admin");
        return new Scenario(test, store, buildId, serverId!.Value);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task StartNext_starts_only_the_oldest_queued_deploy_as_a_job_of_its_build_and_none_while_one_runs(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var s = await ArrangeAsync(test);
        var awaiting = await s.DeployAsync(DeployStatus.AwaitingApproval, approvals: 1);
        var first = await s.DeployAsync();
        var second = await s.DeployAsync();

        // Act
        var started = await s.StartNextAsync();
        var whileRunning = await s.StartNextAsync();

        // Assert
        Assert.NotNull(started);
        Assert.Equal((first, DeployStatus.Running), (started.Id, started.Status));
        Assert.Equal(test.Clock.GetUtcNow().ToUnixTimeMilliseconds(), started.StartedAt);
        Assert.Null(whileRunning);
        Assert.Equal(DeployStatus.AwaitingApproval, await s.StatusAsync(awaiting));
        Assert.Equal(DeployStatus.Queued, await s.StatusAsync(second));
        var job = await test.Builds.FindJobAsync(started.JobId!.Value);
        Assert.Equal((s.BuildId, "deploy to staging", Status.Queued, (long?)first), (job!.BuildId, job.Name, job.Status, job.DeployId));
        Assert.Equal(["./deploy.sh"], (await test.Builds.CommandsOfJobAsync(job.Id)).Select(c => c.Text));
        // The deploy's job is not one of its build's jobs, and does not change the build's status.
        Assert.DoesNotContain(await test.Builds.JobsAsync(s.BuildId), j => j.Id == job.Id);
        Assert.Equal(Status.Passed, (await test.Builds.FindAsync(s.BuildId))!.Status);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_deploy_whose_job_a_runner_completes_finishes_with_its_result_and_the_next_one_may_start(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var s = await ArrangeAsync(test);
        var first = await s.DeployAsync();
        var second = await s.DeployAsync();
        var started = await s.StartNextAsync();
        var runnerId = await test.RegisterRunnerAsync("runner-2");
        var buildBefore = await test.Builds.FindAsync(s.BuildId);
        test.Clock.Advance(TimeSpan.FromSeconds(5));
        var claimed = await test.Runners.ClaimAsync(runnerId, Lease);
        Assert.Equal(started!.JobId, claimed!.JobId);

        // Act
        await test.Runners.CompleteAsync(runnerId, claimed.JobId, claimed.LeaseToken, JobOutcome.Failed, 0, "exit code 1");
        var next = await s.StartNextAsync();

        // Assert
        var finished = await s.Store.FindDeployAsync(first);
        Assert.Equal((DeployStatus.Failed, test.Clock.GetUtcNow().ToUnixTimeMilliseconds()), (finished!.Status, finished.FinishedAt));
        Assert.Equal(second, next?.Id);
        Assert.Equal(first, (await s.Store.DeployOfJobAsync(claimed.JobId))?.Id);
        // A deploy's job, failed or not, leaves its build as it was.
        var buildAfter = await test.Builds.FindAsync(s.BuildId);
        Assert.Equal((Status.Passed, buildBefore!.StartedAt, buildBefore.FinishedAt), (buildAfter!.Status, buildAfter.StartedAt, buildAfter.FinishedAt));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task StartNext_starts_nothing_on_a_cordoned_server_and_the_oldest_once_uncordoned(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var s = await ArrangeAsync(test);
        await s.Store.SetCordonAsync(s.ServerId, true, "incident", "mia");
        var first = await s.DeployAsync();
        var second = await s.DeployAsync();

        // Act
        var whileCordoned = await s.StartNextAsync();
        var statuses = (await s.StatusAsync(first), await s.StatusAsync(second));
        var waiting = await s.Store.ServersWithWaitingDeploysAsync();
        await s.Store.SetCordonAsync(s.ServerId, false, null, "mia");
        var waitingAfter = await s.Store.ServersWithWaitingDeploysAsync();
        var afterUncordon = await s.StartNextAsync();

        // Assert
        Assert.Null(whileCordoned);
        Assert.Equal((DeployStatus.Queued, DeployStatus.Queued), statuses);
        Assert.DoesNotContain(s.ServerId, waiting);
        Assert.Contains(s.ServerId, waitingAfter);
        Assert.Equal(first, afterUncordon?.Id);
        var server = await s.Store.ServerAsync(s.ServerId);
        Assert.False(server!.Cordoned);
        Assert.Null(server.CordonReason);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Canceling_a_deploy_whose_job_no_runner_took_cancels_both_and_lets_the_next_start(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var s = await ArrangeAsync(test);
        var first = await s.DeployAsync();
        var second = await s.DeployAsync();
        var started = await s.StartNextAsync();

        // Act
        var canceled = await s.Store.CancelAsync(first, "canceled by mia");
        var again = await s.Store.CancelAsync(first, "canceled twice");
        var next = await s.StartNextAsync();

        // Assert
        Assert.Equal((CancelResult.Canceled, CancelResult.AlreadyFinished), (canceled, again));
        var deploy = await s.Store.FindDeployAsync(first);
        Assert.Equal((DeployStatus.Canceled, "canceled by mia"), (deploy!.Status, deploy.Note));
        Assert.Equal(Status.Canceled, (await test.Builds.FindJobAsync(started!.JobId!.Value))!.Status);
        Assert.All(await test.Builds.CommandsOfJobAsync(started.JobId!.Value), c => Assert.Equal("skipped", c.Status));
        Assert.Equal(second, next?.Id);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Decide_counts_approvals_until_enough_and_refuses_a_second_decision_by_the_same_person(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var s = await ArrangeAsync(test, approvals: 2);
        var deploy = await s.DeployAsync(DeployStatus.AwaitingApproval, approvals: 2);

        // Act
        var firstApproval = await s.Store.DecideAsync(deploy, "omar", ApprovalDecision.Approved, "fine by me");
        test.Clock.Advance(TimeSpan.FromSeconds(1));
        var sameAgain = await s.Store.DecideAsync(deploy, "omar", ApprovalDecision.Approved, null);
        var sameOtherCase = await s.Store.DecideAsync(deploy, "OMAR", ApprovalDecision.Rejected, null);
        var secondApproval = await s.Store.DecideAsync(deploy, "ada", ApprovalDecision.Approved, null);
        var afterQueued = await s.Store.DecideAsync(deploy, "lin", ApprovalDecision.Approved, null);

        // Assert
        Assert.Equal(DeployStatus.AwaitingApproval, firstApproval);
        Assert.Null(sameAgain);
        Assert.Null(sameOtherCase);
        Assert.Equal(DeployStatus.Queued, secondApproval);
        Assert.Null(afterQueued);
        Assert.Equal(DeployStatus.Queued, await s.StatusAsync(deploy));
        var decisions = await s.Store.DecisionsAsync(deploy);
        Assert.Equal([("omar", ApprovalDecision.Approved, "fine by me"), ("ada", ApprovalDecision.Approved, null)],
            decisions.Select(d => (d.UserName, d.Decision, d.Comment)));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_rejection_ends_a_deploy_awaiting_approval_with_its_comment_and_no_decision_follows(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var s = await ArrangeAsync(test, approvals: 2);
        var deploy = await s.DeployAsync(DeployStatus.AwaitingApproval, approvals: 2);
        await s.Store.DecideAsync(deploy, "omar", ApprovalDecision.Approved, null);

        // Act
        var rejected = await s.Store.DecideAsync(deploy, "ada", ApprovalDecision.Rejected, "not today");
        var later = await s.Store.DecideAsync(deploy, "lin", ApprovalDecision.Approved, null);
        var started = await s.StartNextAsync();

        // Assert
        Assert.Equal(DeployStatus.Rejected, rejected);
        Assert.Null(later);
        Assert.Null(started);
        var row = await s.Store.FindDeployAsync(deploy);
        Assert.Equal((DeployStatus.Rejected, "not today", (long?)null), (row!.Status, row.Note, row.JobId));
        Assert.NotNull(row.FinishedAt);
        Assert.Equal(2, (await s.Store.DecisionsAsync(deploy)).Count);
    }
}
