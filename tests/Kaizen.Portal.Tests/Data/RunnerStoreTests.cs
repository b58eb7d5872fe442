using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Runners;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Tests.Data;

public sealed class RunnerStoreTests
{
    private const int Lease = TestDatabase.LeaseSeconds;

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_registered_runner_is_found_by_its_token_hash(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);

        // Act
        var id = await test.RegisterRunnerAsync("builder-1");
        var found = await test.Runners.FindByTokenHashAsync("hash-builder-1");

        // Assert
        Assert.NotNull(found);
        Assert.Equal((id, "builder-1", 2, "0.1.0", "shell,docker", "linux,x64"),
            (found.Id, found.Name, found.Slots, found.Version, found.Executors, found.Labels));
        Assert.Null(await test.Runners.FindByTokenHashAsync("hash-unknown"));
        Assert.Equal(["builder-1"], (await test.Runners.ListAsync()).Select(r => r.Name));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Claims_hand_out_the_oldest_job_first_with_its_commands(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var firstBuild = await test.CreateBuildAsync(projectId, TestDatabase.TwoJobs, "feature");
        var secondBuild = await test.CreateBuildAsync(projectId, TestDatabase.OneJob("later"));
        var runnerId = await test.RegisterRunnerAsync("r1", slots: 4);
        var jobs = await test.Builds.JobsAsync(firstBuild);

        // Act
        var first = await test.Runners.ClaimAsync(runnerId, Lease);
        var second = await test.Runners.ClaimAsync(runnerId, Lease);
        var third = await test.Runners.ClaimAsync(runnerId, Lease);
        var none = await test.Runners.ClaimAsync(runnerId, Lease);

        // Assert
        Assert.NotNull(first);
        Assert.Equal((jobs[0].Id, firstBuild, "shop", "test", "https://git.example/shop.git", "feature", Lease),
            (first.JobId, first.BuildId, first.ProjectSlug, first.JobName, first.GitUrl, first.Branch, first.LeaseSeconds));
        Assert.Equal(
            [(0, CommandPhase.Setup, "restore"), (1, CommandPhase.Main, "unit"), (2, CommandPhase.Main, "integration"), (3, CommandPhase.Epilogue, "upload")],
            first.Commands.Select(c => (c.Index, c.Phase, c.Text)));
        Assert.Equal(jobs[1].Id, second?.JobId);
        Assert.Equal(secondBuild, third?.BuildId);
        Assert.Null(none);

        var job = (await test.Builds.FindJobAsync(first.JobId))!;
        var now = test.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        Assert.Equal((Status.Running, runnerId, now + Lease * 1000L, now), (job.Status, job.RunnerId, job.LeaseExpiresAt, job.StartedAt));
        var build = (await test.Builds.FindAsync(firstBuild))!;
        Assert.Equal((Status.Running, now), (build.Status, build.StartedAt));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_job_with_an_image_goes_only_to_a_runner_that_offers_docker(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var settings = new BuildSettings([], [
            new JobSettings("in-docker", ["pytest"], Services: [new ServiceSettings("redis:7", "cache", Ready: "6379")]),
            new JobSettings("on-shell", ["make"], Image: null),
        ], [], Image: "python:3.12");
        settings = settings with { Jobs = [settings.Jobs[0], settings.Jobs[1]] };
        var buildId = await test.CreateBuildAsync(projectId, settings with { Jobs = [settings.Jobs[0]] });
        var shellBuild = await test.CreateBuildAsync(projectId, TestDatabase.OneJob("on-shell"));
        var runnerId = await test.RegisterRunnerAsync("r1");

        // Act
        var shellOnly = await test.Runners.ClaimAsync(runnerId, Lease, executors: ["shell"]);
        var nothingForShell = await test.Runners.ClaimAsync(runnerId, Lease, executors: ["shell"]);
        var withDocker = await test.Runners.ClaimAsync(runnerId, Lease, executors: ["shell", "docker"]);

        // Assert
        Assert.Equal(shellBuild, shellOnly?.BuildId);
        Assert.Null(shellOnly!.Image);
        Assert.Null(nothingForShell);
        Assert.NotNull(withDocker);
        Assert.Equal((buildId, "python:3.12"), (withDocker.BuildId, withDocker.Image));
        var service = Assert.Single(withDocker.Services!);
        Assert.Equal(("redis:7", "cache", "6379"), (service.Image, service.Alias, service.Ready));
        Assert.Equal("python:3.12", (await test.Builds.JobsAsync(buildId))[0].Image);
        Assert.Equal("shell,docker", (await test.Runners.ListAsync())[0].Executors);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Two_runners_never_claim_the_same_job(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var buildId = await test.CreateBuildAsync(projectId, new BuildSettings([],
            [new JobSettings("a", ["1"]), new JobSettings("b", ["2"]), new JobSettings("c", ["3"])], []));
        var runners = new List<long>();
        for (var i = 0; i < 4; i++) runners.Add(await test.RegisterRunnerAsync($"r{i}"));

        // Act: eight claims at once, two per runner, against three queued jobs.
        var claims = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(i => Task.Run(() => test.Runners.ClaimAsync(runners[i % runners.Count], Lease))));

        // Assert
        var claimed = claims.Where(c => c is not null).Select(c => c!.JobId).ToList();
        Assert.Equal(3, claimed.Count);
        Assert.Equal(3, claimed.Distinct().Count());
        Assert.Equal((await test.Builds.JobsAsync(buildId)).Select(j => j.Id).Order(), claimed.Order());
        Assert.All(await test.Builds.JobsAsync(buildId), j => Assert.Equal(Status.Running, j.Status));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_stream_batch_is_applied_once_and_in_order(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var (runnerId, jobId, lease) = await RunningJobAsync(test);
        var batch = new StreamBatch([new LogChunk(1, Encoding.UTF8.GetBytes("hello\n"))],
            [new CommandEvent(0, CommandEventKind.Started, 1_000)]);

        // Act
        var applied = await test.Runners.ApplyStreamAsync(runnerId, jobId, lease, 1, batch, Lease);
        var retried = await test.Runners.ApplyStreamAsync(runnerId, jobId, lease, 1, batch, Lease);
        var skipped = await test.Runners.ApplyStreamAsync(runnerId, jobId, lease, 3, TestDatabase.Output("later\n"), Lease);

        // Assert
        Assert.Equal((StreamResult.Applied, StreamResult.Duplicate, StreamResult.Gap), (applied, retried, skipped));
        Assert.Equal("hello\n", await test.LogTextAsync(jobId));
        var job = (await test.Builds.FindJobAsync(jobId))!;
        Assert.Equal((1L, 6L), (job.LastSeq, job.LogBytes));
        var chunks = await test.Logs.ChunksAfterAsync(jobId, 0, CancellationToken.None);
        Assert.Equal([(1L, 0, (int?)1)], chunks.Select(c => (c.Seq, c.Part, c.CommandIdx)));
        Assert.Equal(Status.Running, (await test.Builds.CommandsOfJobAsync(jobId))[0].Status);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_stream_from_another_runner_is_refused_and_one_for_a_finished_job_is_gone(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var (runnerId, jobId, lease) = await RunningJobAsync(test);
        var otherRunner = await test.RegisterRunnerAsync("intruder");

        // Act
        var fromOther = await test.Runners.ApplyStreamAsync(otherRunner, jobId, lease, 1, TestDatabase.Output("x"), Lease);
        var unknownJob = await test.Runners.ApplyStreamAsync(runnerId, 424242, lease, 1, TestDatabase.Output("x"), Lease);
        await test.Runners.CompleteAsync(runnerId, jobId, lease, JobOutcome.Passed, 0, null);
        var afterFinish = await test.Runners.ApplyStreamAsync(runnerId, jobId, lease, 1, TestDatabase.Output("x"), Lease);

        // Assert
        Assert.Equal((StreamResult.NotClaimed, StreamResult.Gone, StreamResult.Gone), (fromOther, unknownJob, afterFinish));
        Assert.Equal("", await test.LogTextAsync(jobId));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Completing_before_the_whole_stream_arrived_is_refused(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var (runnerId, jobId, lease) = await RunningJobAsync(test);
        await test.Runners.ApplyStreamAsync(runnerId, jobId, lease, 1, TestDatabase.Output("one\n"), Lease);

        // Act
        var error = await Assert.ThrowsAsync<StreamIncompleteException>(
            () => test.Runners.CompleteAsync(runnerId, jobId, lease, JobOutcome.Passed, lastSeq: 2, error: null));

        // Assert
        Assert.Equal(1, error.LastApplied);
        Assert.Equal(Status.Running, (await test.Builds.FindJobAsync(jobId))!.Status);
    }

    [SkippableTheory]
    [InlineData("Sqlite", JobOutcome.Passed, Status.Passed)]
    [InlineData("Sqlite", JobOutcome.Failed, Status.Failed)]
    [InlineData("SqlServer", JobOutcome.Passed, Status.Passed)]
    [InlineData("SqlServer", JobOutcome.Failed, Status.Failed)]
    public async Task Completing_a_job_finishes_it_and_its_build(string provider, JobOutcome outcome, string expected)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var (runnerId, jobId, lease) = await RunningJobAsync(test);
        await test.Runners.ApplyStreamAsync(runnerId, jobId, lease, 1, new StreamBatch([],
        [
            new CommandEvent(0, CommandEventKind.Started, 1_000),
            new CommandEvent(0, CommandEventKind.Finished, 1_250, outcome == JobOutcome.Passed ? 0 : 3, 250),
        ]), Lease);
        await test.Runners.ApplyStreamAsync(runnerId, jobId, lease, 2, TestDatabase.Output("done\n"), Lease);
        await Assert.ThrowsAsync<StreamIncompleteException>(
            () => test.Runners.CompleteAsync(runnerId, jobId, lease, outcome, lastSeq: 3, error: null));
        test.Clock.Advance(TimeSpan.FromSeconds(3));

        // Act
        var buildId = await test.Runners.CompleteAsync(runnerId, jobId, lease, outcome, lastSeq: 2,
            error: outcome == JobOutcome.Failed ? "exit code 3" : null);

        // Assert
        var job = (await test.Builds.FindJobAsync(jobId))!;
        Assert.Equal(job.BuildId, buildId);
        var now = test.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        Assert.Equal((expected, now, (long?)null), (job.Status, job.FinishedAt, job.LeaseExpiresAt));
        var build = (await test.Builds.FindAsync(job.BuildId))!;
        Assert.Equal((expected, now), (build.Status, build.FinishedAt));
        var command = (await test.Builds.CommandsOfJobAsync(jobId)).Single();
        Assert.Equal((expected, outcome == JobOutcome.Passed ? 0 : 3, 250L, 1_000L),
            (command.Status, command.ExitCode, command.DurationMs, command.StartedAt));
        Assert.Null(await test.Runners.CompleteAsync(runnerId, jobId, lease, outcome, 2, null));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_job_whose_lease_ran_out_fails_as_runner_lost_and_keeps_its_log(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        var buildId = await test.CreateBuildAsync(projectId, new BuildSettings([],
            [new JobSettings("lost", ["one", "two"]), new JobSettings("alive", ["x"])], []));
        var lostRunner = await test.RegisterRunnerAsync("lost");
        var aliveRunner = await test.RegisterRunnerAsync("alive");
        var lostClaim = (await test.Runners.ClaimAsync(lostRunner, Lease))!;
        var lostJob = lostClaim.JobId;
        await test.Runners.ApplyStreamAsync(lostRunner, lostJob, lostClaim.LeaseToken, 1, new StreamBatch(
            [new LogChunk(0, Encoding.UTF8.GetBytes("working...\n"))],
            [new CommandEvent(0, CommandEventKind.Started, 1_000)]), Lease);
        test.Clock.Advance(TimeSpan.FromSeconds(20));
        var aliveJob = (await test.Runners.ClaimAsync(aliveRunner, Lease))!.JobId;
        test.Clock.Advance(TimeSpan.FromSeconds(Lease - 20 - 1));
        Assert.Empty(await test.Runners.ReapExpiredLeasesAsync());
        test.Clock.Advance(TimeSpan.FromSeconds(2));

        // Act
        var affected = await test.Runners.ReapExpiredLeasesAsync();

        // Assert
        Assert.Equal([buildId], affected);
        var lost = (await test.Builds.FindJobAsync(lostJob))!;
        Assert.Equal((Status.Failed, "runner lost", 2L), (lost.Status, lost.Error, lost.LastSeq));
        var log = await test.LogTextAsync(lostJob);
        Assert.StartsWith("working...\n", log);
        Assert.Contains("Runner lost", log);
        Assert.Equal([Status.Failed, Status.Skipped], (await test.Builds.CommandsOfJobAsync(lostJob)).Select(c => c.Status));
        Assert.Equal(Status.Running, (await test.Builds.FindJobAsync(aliveJob))!.Status);
        Assert.Equal(Status.Running, (await test.Builds.FindAsync(buildId))!.Status);
        Assert.Equal(StreamResult.Gone, await test.Runners.ApplyStreamAsync(lostRunner, lostJob, lostClaim.LeaseToken, 3, TestDatabase.Output("late"), Lease));
        Assert.Empty(await test.Runners.ReapExpiredLeasesAsync());
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_heartbeat_renews_the_lease_and_reports_jobs_the_runner_no_longer_holds(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var (runnerId, jobId, lease) = await RunningJobAsync(test);
        test.Clock.Advance(TimeSpan.FromSeconds(Lease - 1));

        // Act
        var heartbeat = await test.Runners.HeartbeatAsync(runnerId, new([31337], [new(jobId, lease)]), Lease);
        test.Clock.Advance(TimeSpan.FromSeconds(Lease - 1));
        var reaped = await test.Runners.ReapExpiredLeasesAsync();

        // Assert
        Assert.Empty(heartbeat.Cancel);
        Assert.Equal([31337L], heartbeat.Unknown);
        Assert.Empty(reaped);
        Assert.Equal(Status.Running, (await test.Builds.FindJobAsync(jobId))!.Status);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Claims_stop_at_the_runners_slot_count_until_a_job_finishes(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        await test.CreateBuildAsync(projectId, new BuildSettings([], [new JobSettings("a", ["1"]), new JobSettings("b", ["2"]), new JobSettings("c", ["3"])], []));
        var runnerId = await test.RegisterRunnerAsync("r1", slots: 2);

        // Act
        var first = (await test.Runners.ClaimAsync(runnerId, Lease))!;
        var second = await test.Runners.ClaimAsync(runnerId, Lease);
        var beyond = await test.Runners.ClaimAsync(runnerId, Lease);
        await test.Runners.CompleteAsync(runnerId, first.JobId, first.LeaseToken, JobOutcome.Passed, 0, null);
        var afterOneFinished = await test.Runners.ClaimAsync(runnerId, Lease);

        // Assert
        Assert.NotNull(second);
        Assert.Null(beyond);
        Assert.NotNull(afterOneFinished);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_claims_lease_token_is_needed_to_stream_complete_or_renew_and_a_wrong_one_changes_nothing(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var (runnerId, jobId, _) = await RunningJobAsync(test);
        test.Clock.Advance(TimeSpan.FromSeconds(Lease - 1));

        // Act
        var withoutLease = await test.Runners.ApplyStreamAsync(runnerId, jobId, null, 1, TestDatabase.Output("forged\n"), Lease);
        var wrongLease = await test.Runners.ApplyStreamAsync(runnerId, jobId, "kzl_guess", 1, TestDatabase.Output("forged\n"), Lease);
        var completion = await Assert.ThrowsAsync<LeaseRefusedException>(
            () => test.Runners.CompleteAsync(runnerId, jobId, "kzl_guess", JobOutcome.Passed, 0, null));
        var heartbeat = await test.Runners.HeartbeatAsync(runnerId, new([jobId]), Lease);
        test.Clock.Advance(TimeSpan.FromSeconds(2));
        var reaped = await test.Runners.ReapExpiredLeasesAsync();

        // Assert
        Assert.Equal((StreamResult.WrongLease, StreamResult.WrongLease, LeaseCheck.WrongLease), (withoutLease, wrongLease, completion.Check));
        Assert.Equal([jobId], heartbeat.Unknown);
        Assert.NotEmpty(reaped);
        Assert.DoesNotContain("forged", await test.LogTextAsync(jobId));
        var job = (await test.Builds.FindJobAsync(jobId))!;
        Assert.Equal((Status.Failed, "runner lost"), (job.Status, job.Error));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_revoked_runner_claims_nothing_and_its_running_jobs_fail_as_runner_revoked(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var (runnerId, jobId, lease) = await RunningJobAsync(test);
        Assert.NotNull(await test.Runners.FindByTokenHashAsync("hash-r1"));

        // Act
        var revoked = await test.Runners.RevokeAsync(runnerId, "admin");

        // Assert
        Assert.Equal([jobId], revoked!.FailedJobIds);
        var job = (await test.Builds.FindJobAsync(jobId))!;
        Assert.Equal((Status.Failed, "runner revoked"), (job.Status, job.Error));
        Assert.Contains("Runner revoked by admin", await test.LogTextAsync(jobId));
        Assert.NotNull((await test.Runners.FindByTokenHashAsync("hash-r1"))!.RevokedAt);
        await Assert.ThrowsAsync<RunnerRevokedException>(() => test.Runners.ClaimAsync(runnerId, Lease));
        await Assert.ThrowsAsync<RunnerRevokedException>(() => test.Runners.HeartbeatAsync(runnerId, new([], [new(jobId, lease)]), Lease));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Jobs_go_only_to_runners_with_every_required_label_and_public_ones_only_to_sandboxed_runners(string provider)
    {
        // Arrange: the test database's projects are public.
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop");
        await new RunnerLabelSettings(test.Database).SetProjectAsync(projectId, "gpu,eu", "", CancellationToken.None);
        var buildId = await test.CreateBuildAsync(projectId, TestDatabase.OneJob());
        var unlabelled = await test.RegisterRunnerAsync("plain");
        var halfLabelled = await test.RegisterRunnerAsync("gpu-only", labels: ["gpu"]);
        var unsandboxed = await test.RegisterRunnerAsync("bare", sandbox: RunnerSandbox.None, labels: ["gpu", "eu"]);

        // Act
        var claims = new[]
        {
            await test.Runners.ClaimAsync(unlabelled, Lease), await test.Runners.ClaimAsync(halfLabelled, Lease),
            await test.Runners.ClaimAsync(unsandboxed, Lease),
        };
        var queuedJob = (await test.Builds.JobsAsync(buildId))[0].Id;
        var reason = await test.Runners.WaitingReasonAsync(queuedJob, TimeSpan.FromMinutes(1));
        var labelled = await test.RegisterRunnerAsync("gpu-eu", labels: ["GPU", "eu"]);
        var reasonOnceOneFits = await test.Runners.WaitingReasonAsync(queuedJob, TimeSpan.FromMinutes(1));
        var fits = await test.Runners.ClaimAsync(labelled, Lease);

        // Assert
        Assert.All(claims, Assert.Null);
        Assert.Equal("waiting for a runner labelled gpu, eu and with a sandbox", reason);
        Assert.Null(reasonOnceOneFits);
        Assert.Equal(buildId, fits?.BuildId);
    }

    private static async Task<(long RunnerId, long JobId, string Lease)> RunningJobAsync(TestDatabase test)
    {
        var projectId = await test.CreateProjectAsync("shop");
        await test.CreateBuildAsync(projectId, TestDatabase.OneJob());
        var runnerId = await test.RegisterRunnerAsync("r1");
        var job = await test.Runners.ClaimAsync(runnerId, Lease);
        return (runnerId, job!.JobId, job.LeaseToken!);
    }
}
