using Kaizen.Portal.Builds;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Tests.Data;

public sealed class BuildStoreTests
{
    [Fact]
    public void A_plan_numbers_commands_across_setup_main_and_epilogue()
    {
        // Arrange
        var settings = TestDatabase.TwoJobs;

        // Act
        var plan = BuildStore.Plan(7, settings, "main", "abc", "msg", "Dev", Trigger.Api, null);

        // Assert
        Assert.Equal(["test", "lint"], plan.Jobs.Select(j => j.Name));
        Assert.Equal(
            [(0, CommandPhase.Setup, "restore"), (1, CommandPhase.Main, "unit"), (2, CommandPhase.Main, "integration"), (3, CommandPhase.Epilogue, "upload")],
            plan.Jobs[0].Commands.Select(c => (c.Index, c.Phase, c.Text)));
        Assert.Equal(
            [(0, CommandPhase.Setup, "restore"), (1, CommandPhase.Main, "format"), (2, CommandPhase.Epilogue, "upload")],
            plan.Jobs[1].Commands.Select(c => (c.Index, c.Phase, c.Text)));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_created_build_has_queued_jobs_with_pending_numbered_commands(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var plan = BuildStore.Plan(projectId, TestDatabase.TwoJobs, "feature/x", "0123abcd", "Fix the cart", "Dev", Trigger.Manual, "admin");

        // Act
        var buildId = await test.Builds.CreateAsync(plan);

        // Assert
        var build = await test.Builds.FindAsync(buildId);
        Assert.NotNull(build);
        Assert.Equal((projectId, "shop", "feature/x", "0123abcd", "Fix the cart", "Dev", Trigger.Manual, "admin", Status.Queued),
            (build.ProjectId, build.ProjectSlug, build.Branch, build.CommitSha, build.CommitMessage, build.CommitAuthor,
                build.TriggerKind, build.TriggeredBy, build.Status));
        Assert.Equal(test.Clock.GetUtcNow().ToUnixTimeMilliseconds(), build.QueuedAt);
        Assert.Null(build.StartedAt);
        Assert.Null(build.FinishedAt);

        var jobs = await test.Builds.JobsAsync(buildId);
        Assert.Equal([("test", 0), ("lint", 1)], jobs.Select(j => (j.Name, j.Position)));
        Assert.All(jobs, j => Assert.Equal(Status.Queued, j.Status));
        Assert.All(jobs, j => Assert.False(j.CancelRequested));

        var commands = await test.Builds.CommandsOfJobAsync(jobs[0].Id);
        Assert.Equal(
            [(0, "setup", "restore"), (1, "main", "unit"), (2, "main", "integration"), (3, "epilogue", "upload")],
            commands.Select(c => (c.Idx, c.Phase, c.Text)));
        Assert.All(commands, c => Assert.Equal(Status.Pending, c.Status));
        Assert.Equal(7, (await test.Builds.CommandsOfBuildAsync(buildId)).Count);
        Assert.Equal(jobs[1].Id, (await test.Builds.FindJobAsync(jobs[1].Id))!.Id);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Builds_are_listed_newest_first_in_pages_with_the_total(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var otherProject = await test.CreateProjectAsync("other");
        var ids = new List<long>();
        for (var i = 0; i < 5; i++) ids.Add(await test.CreateBuildAsync(projectId, TestDatabase.OneJob()));
        await test.CreateBuildAsync(otherProject, TestDatabase.OneJob());

        // Act
        var first = await test.Builds.ListAsync(projectId, skip: 0, take: 2, branch: null, status: null);
        var last = await test.Builds.ListAsync(projectId, skip: 4, take: 2, branch: null, status: null);

        // Assert
        Assert.Equal([ids[4], ids[3]], first.Items.Select(b => b.Id));
        Assert.Equal(5, first.Total);
        Assert.Equal([ids[0]], last.Items.Select(b => b.Id));
        Assert.Equal(5, last.Total);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Builds_are_filtered_by_branch_and_status(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var mainOld = await test.CreateBuildAsync(projectId, TestDatabase.OneJob(), "main");
        var feature = await test.CreateBuildAsync(projectId, TestDatabase.OneJob(), "feature");
        var mainNew = await test.CreateBuildAsync(projectId, TestDatabase.OneJob(), "main");
        await test.Builds.CancelAsync(mainOld);

        // Act
        var onMain = await test.Builds.ListAsync(projectId, 0, 10, branch: "main", status: null);
        var canceled = await test.Builds.ListAsync(projectId, 0, 10, branch: null, status: Status.Canceled);
        var queuedOnMain = await test.Builds.ListAsync(projectId, 0, 10, branch: "main", status: Status.Queued);
        var none = await test.Builds.ListAsync(projectId, 0, 10, branch: "gone", status: null);

        // Assert
        Assert.Equal($"2: {mainNew},{mainOld}", Page(onMain));
        Assert.Equal($"1: {mainOld}", Page(canceled));
        Assert.Equal($"1: {mainNew}", Page(queuedOnMain));
        Assert.Equal("0: ", Page(none));
        Assert.DoesNotContain(feature, onMain.Items.Select(b => b.Id));
    }

    /// <summary>"total: id,id,..." of a page, so a whole page is compared in one assertion.</summary>
    private static string Page(BuildPage page) => $"{page.Total}: {string.Join(",", page.Items.Select(b => b.Id))}";

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Canceling_a_queued_build_cancels_its_jobs_and_skips_their_commands(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var buildId = await test.CreateBuildAsync(projectId, TestDatabase.TwoJobs);
        test.Clock.Advance(TimeSpan.FromSeconds(5));

        // Act
        var canceled = await test.Builds.CancelAsync(buildId);

        // Assert
        Assert.True(canceled);
        var build = (await test.Builds.FindAsync(buildId))!;
        Assert.Equal(Status.Canceled, build.Status);
        Assert.Equal(test.Clock.GetUtcNow().ToUnixTimeMilliseconds(), build.FinishedAt);
        Assert.All(await test.Builds.JobsAsync(buildId), j => Assert.Equal(Status.Canceled, j.Status));
        Assert.All(await test.Builds.CommandsOfBuildAsync(buildId), c => Assert.Equal(Status.Skipped, c.Status));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Canceling_a_running_build_asks_the_runner_to_stop_its_running_job(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var buildId = await test.CreateBuildAsync(projectId, TestDatabase.TwoJobs);
        var runnerId = await test.RegisterRunnerAsync("r1");
        var claimed = (await test.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds))!;

        // Act
        var canceled = await test.Builds.CancelAsync(buildId);

        // Assert
        Assert.True(canceled);
        var jobs = await test.Builds.JobsAsync(buildId);
        var running = jobs.Single(j => j.Id == claimed.JobId);
        var queued = jobs.Single(j => j.Id != claimed.JobId);
        Assert.Equal((Status.Running, true), (running.Status, running.CancelRequested));
        Assert.Equal(Status.Canceled, queued.Status);
        Assert.All(await test.Builds.CommandsOfJobAsync(queued.Id), c => Assert.Equal(Status.Skipped, c.Status));
        Assert.All(await test.Builds.CommandsOfJobAsync(running.Id), c => Assert.Equal(Status.Pending, c.Status));
        Assert.Equal(Status.Running, (await test.Builds.FindAsync(buildId))!.Status);
        var heartbeat = await test.Runners.HeartbeatAsync(runnerId, new([], [new(claimed.JobId, claimed.LeaseToken!)]), TestDatabase.LeaseSeconds);
        Assert.Equal([claimed.JobId], heartbeat.Cancel);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_finished_build_cannot_be_canceled(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var passedBuild = await test.CreateBuildAsync(projectId, TestDatabase.OneJob());
        var runnerId = await test.RegisterRunnerAsync("r1");
        var job = (await test.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds))!;
        await test.Runners.CompleteAsync(runnerId, job.JobId, job.LeaseToken, JobOutcome.Passed, lastSeq: 0, error: null);
        var canceledBuild = await test.CreateBuildAsync(projectId, TestDatabase.OneJob());
        await test.Builds.CancelAsync(canceledBuild);

        // Act
        var cancelPassed = await test.Builds.CancelAsync(passedBuild);
        var cancelAgain = await test.Builds.CancelAsync(canceledBuild);
        var cancelUnknown = await test.Builds.CancelAsync(987654);

        // Assert
        Assert.Equal((false, false, false), (cancelPassed, cancelAgain, cancelUnknown));
        Assert.Equal(Status.Passed, (await test.Builds.FindAsync(passedBuild))!.Status);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_build_left_behind_its_jobs_by_a_crash_is_repaired(string provider)
    {
        // Arrange: a job is claimed, then the build row is put back as if the portal died before updating it.
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var buildId = await test.CreateBuildAsync(projectId, TestDatabase.TwoJobs);
        var runnerId = await test.RegisterRunnerAsync("r1");
        await test.Runners.ClaimAsync(runnerId, 30);
        await using (var c = await test.Database.OpenAsync())
            await Dapper.SqlMapper.ExecuteAsync(c, "UPDATE builds SET status = 'queued', started_at = NULL WHERE id = @Id", new { Id = buildId });

        // Act
        var repaired = await test.Builds.RepairStaleAsync();
        var again = await test.Builds.RepairStaleAsync();

        // Assert
        Assert.Equal([buildId], repaired);
        Assert.Empty(again);
        var build = await test.Builds.FindAsync(buildId);
        Assert.Equal(Status.Running, build!.Status);
        Assert.NotNull(build.StartedAt);
    }
}
