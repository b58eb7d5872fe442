using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>
/// How deploys of one server follow each other on the real portal with a two-slot runner: one at a time in request
/// order, held while the server is cordoned, skipped when canceled, stopped when canceled while running; and a redeploy
/// of an older build is a rollback to its commit. Deploy commands take a lock directory with <c>mkdir</c> (which fails
/// when it exists), so two deploys running at once would fail, whatever the timing.
/// </summary>
public sealed class DeployQueueTests(DeliveryPortal fixture) : IClassFixture<DeliveryPortal>
{
    private static string[] Exclusive(string marks, params string[] work) =>
        [$"mkdir {marks}/lock", .. work, $"echo $KAIZEN_JOB_ID >> {marks}/order", $"rmdir {marks}/lock"];

    private static IReadOnlyList<long> Order(string marks) =>
        File.ReadAllLines(Path.Combine(marks, "order")).Select(long.Parse).ToList();

    [Fact]
    public async Task A_cordoned_server_holds_queued_deploys_until_uncordoned_then_runs_them_one_at_a_time_in_request_order()
    {
        // Arrange
        var marks = fixture.NewMarks();
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", Exclusive(marks));
        var build = await fixture.PassedBuildAsync(slug);
        using (var cordoned = await fixture.Member.PostAsJsonAsync($"/api/v1/projects/{slug}/servers/staging/cordon", new { reason = "incident 42" }))
        {
            Assert.Equal(HttpStatusCode.OK, cordoned.StatusCode);
            var server = (await cordoned.Content.ReadFromJsonAsync<ServerResponse>())!;
            Assert.True(server.Cordoned);
            Assert.Equal("incident 42", server.CordonReason);
        }

        // Act: two deploys while cordoned, with runners free and the portal looking for work to start
        var first = await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging");
        var second = await Deploys.RequestOkAsync(fixture.OtherMember, build.Id, "staging");
        await fixture.Portal.Service<DeployService>().SweepAsync();
        await Task.Delay(500);

        // Assert: both are held, without a job
        foreach (var held in new[] { first, second })
        {
            var deploy = await Deploys.GetAsync(fixture.Admin, held.Id);
            Assert.Equal(DeployStatus.Queued, deploy.Status);
            Assert.Null(deploy.JobId);
        }
        Assert.False(File.Exists(Path.Combine(marks, "order")));

        // Act: uncordon
        using (var uncordoned = await fixture.Member.PostAsync($"/api/v1/projects/{slug}/servers/staging/uncordon", null))
            Assert.Equal(HttpStatusCode.OK, uncordoned.StatusCode);
        var firstDone = await Deploys.WaitAsync(fixture.Admin, first.Id);
        var secondDone = await Deploys.WaitAsync(fixture.Admin, second.Id);

        // Assert: both ran, the first first, never together
        Assert.Equal(DeployStatus.Passed, firstDone.Status);
        Assert.Equal(DeployStatus.Passed, secondDone.Status);
        Assert.True(secondDone.StartedAt >= firstDone.FinishedAt, $"second started {secondDone.StartedAt:O}, first finished {firstDone.FinishedAt:O}");
        Assert.Equal([firstDone.JobId!.Value, secondDone.JobId!.Value], Order(marks));
        var audit = await fixture.Admin.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=1000");
        Assert.Contains(audit!, e => e.Action == AuditActions.ServerCordoned && e.Target == $"project:{slug}/server:staging"
                                     && e.Actor == DeliveryPortal.MemberName && e.Details == "incident 42");
        Assert.Contains(audit!, e => e.Action == AuditActions.ServerUncordoned && e.Target == $"project:{slug}/server:staging");
    }

    [Fact]
    public async Task Two_deploys_requested_back_to_back_to_one_server_run_one_after_the_other_although_two_runner_slots_are_free()
    {
        // Arrange
        var marks = fixture.NewMarks();
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", Exclusive(marks, "sleep 1"));
        var build = await fixture.PassedBuildAsync(slug);

        // Act
        var first = await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging");
        var second = await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging");
        var firstDone = await Deploys.WaitAsync(fixture.Admin, first.Id);
        var secondDone = await Deploys.WaitAsync(fixture.Admin, second.Id);

        // Assert
        Assert.Equal(DeployStatus.Running, first.Status);
        Assert.Equal(DeployStatus.Passed, firstDone.Status);
        Assert.Equal(DeployStatus.Passed, secondDone.Status);
        Assert.True(secondDone.StartedAt >= firstDone.FinishedAt, $"second started {secondDone.StartedAt:O}, first finished {firstDone.FinishedAt:O}");
        Assert.Equal([firstDone.JobId!.Value, secondDone.JobId!.Value], Order(marks));
    }

    [Fact]
    public async Task Redeploying_an_older_passed_build_is_a_rollback_that_checks_out_its_commit()
    {
        // Arrange: builds B1 and B2 of two commits
        var marks = fixture.NewMarks();
        var repo = await fixture.NewRepositoryAsync();
        var slug = await fixture.CreateProjectAsync(repo);
        await fixture.CreateServerAsync(slug, "production", [$"git rev-parse HEAD > {marks}/commit"]);
        var b1 = await fixture.PassedBuildAsync(slug);
        await repo.CommitAsync("Second", ("app.txt", "v2\n"));
        var b2 = await fixture.PassedBuildAsync(slug);
        Assert.NotEqual(b1.CommitSha, b2.CommitSha);
        var newer = await Deploys.WaitAsync(fixture.Admin, (await Deploys.RequestOkAsync(fixture.Member, b2.Id, "production")).Id);
        Assert.Equal((DeployStatus.Passed, DeployTrigger.Manual), (newer.Status, newer.Trigger));
        Assert.Equal(b2.CommitSha, File.ReadAllText(Path.Combine(marks, "commit")).Trim());

        // Act
        var requested = await Deploys.RequestOkAsync(fixture.Member, b1.Id, "production");
        var rollback = await Deploys.WaitAsync(fixture.Admin, requested.Id);

        // Assert
        Assert.Equal(DeployTrigger.Rollback, requested.Trigger);
        Assert.Equal((DeployStatus.Passed, DeployTrigger.Rollback, b1.CommitSha), (rollback.Status, rollback.Trigger, rollback.CommitSha));
        Assert.Equal(b1.CommitSha, File.ReadAllText(Path.Combine(marks, "commit")).Trim());
        var server = await fixture.Admin.GetFromJsonAsync<ServerResponse>($"/api/v1/projects/{slug}/servers/production");
        Assert.Equal(rollback.Id, server!.Current!.Id);
        // Going forward again is an ordinary deploy.
        var forward = await Deploys.RequestOkAsync(fixture.Member, b2.Id, "production");
        Assert.Equal(DeployTrigger.Manual, forward.Trigger);
        Assert.Equal(DeployStatus.Passed, (await Deploys.WaitAsync(fixture.Admin, forward.Id)).Status);
    }

    [Fact]
    public async Task Canceling_a_deploy_awaiting_approval_means_it_never_runs()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "production", ["echo should never run"], approvals: 1);
        var build = await fixture.PassedBuildAsync(slug);
        var requested = await Deploys.RequestOkAsync(fixture.Member, build.Id, "production");

        // Act: its requester changes their mind
        using var canceled = await Deploys.ActAsync(fixture.Member, requested.Id, "cancel");

        // Assert
        Assert.Equal(HttpStatusCode.OK, canceled.StatusCode);
        var deploy = await Deploys.GetAsync(fixture.Admin, requested.Id);
        Assert.Equal((DeployStatus.Canceled, $"canceled by {DeliveryPortal.MemberName}"), (deploy.Status, deploy.Note));
        Assert.Null(deploy.JobId);
        using var approve = await Deploys.ActAsync(fixture.OtherMember, requested.Id, "approve");
        Assert.Equal(HttpStatusCode.Conflict, approve.StatusCode);
        var inbox = await fixture.OtherMember.GetFromJsonAsync<List<DeployResponse>>("/api/v1/approvals");
        Assert.DoesNotContain(inbox!, d => d.Id == requested.Id);
    }

    [Fact]
    public async Task Canceling_a_queued_deploy_skips_it_and_the_next_queued_deploy_runs_after_the_current_one()
    {
        // Arrange: the first deploy runs until the test lets it go on; two more wait behind it
        var marks = fixture.NewMarks();
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", Exclusive(marks, Deploys.WaitFor($"{marks}/go")));
        var build = await fixture.PassedBuildAsync(slug);
        var first = await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging");
        var second = await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging");
        var third = await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging");
        Assert.Equal((DeployStatus.Running, DeployStatus.Queued, DeployStatus.Queued), (first.Status, second.Status, third.Status));

        // Act
        using var canceled = await Deploys.ActAsync(fixture.OtherMember, second.Id, "cancel");
        await File.WriteAllTextAsync(Path.Combine(marks, "go"), "");

        // Assert
        Assert.Equal(HttpStatusCode.OK, canceled.StatusCode);
        Assert.Equal(DeployStatus.Canceled, (await canceled.Content.ReadFromJsonAsync<DeployResponse>())!.Status);
        var firstDone = await Deploys.WaitAsync(fixture.Admin, first.Id);
        var thirdDone = await Deploys.WaitAsync(fixture.Admin, third.Id);
        Assert.Equal(DeployStatus.Passed, firstDone.Status);
        Assert.Equal(DeployStatus.Passed, thirdDone.Status);
        var secondAfter = await Deploys.GetAsync(fixture.Admin, second.Id);
        Assert.Equal((DeployStatus.Canceled, $"canceled by {DeliveryPortal.OtherMemberName}"), (secondAfter.Status, secondAfter.Note));
        Assert.Null(secondAfter.JobId);
        Assert.Equal([firstDone.JobId!.Value, thirdDone.JobId!.Value], Order(marks));
    }

    [Fact]
    public async Task Canceling_a_running_deploy_stops_its_job_and_the_next_queued_deploy_runs()
    {
        // Arrange: the first deploy sleeps for long; the one behind it finds the mark and finishes at once
        var marks = fixture.NewMarks();
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging",
            [$"if [ ! -e {marks}/running ]; then touch {marks}/running; sleep 300; fi", $"echo $KAIZEN_JOB_ID >> {marks}/order"]);
        var build = await fixture.PassedBuildAsync(slug);
        var running = await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging");
        var next = await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging");
        await Deploys.WaitForFileAsync(Path.Combine(marks, "running"));

        // Act
        using var canceled = await Deploys.ActAsync(fixture.Member, running.Id, "cancel");

        // Assert
        Assert.Equal(HttpStatusCode.OK, canceled.StatusCode);
        var stopped = await Deploys.WaitAsync(fixture.Admin, running.Id);
        Assert.Equal((DeployStatus.Canceled, $"canceled by {DeliveryPortal.MemberName}"), (stopped.Status, stopped.Note));
        Assert.NotNull(stopped.FinishedAt);
        var job = await fixture.Portal.Service<BuildStore>().FindJobAsync(stopped.JobId!.Value);
        Assert.Equal((Status.Canceled, (long?)running.Id), (job!.Status, job.DeployId));
        var nextDone = await Deploys.WaitAsync(fixture.Admin, next.Id);
        Assert.Equal(DeployStatus.Passed, nextDone.Status);
        Assert.True(nextDone.StartedAt >= stopped.FinishedAt);
        Assert.Equal([nextDone.JobId!.Value], Order(marks));
        var audit = await fixture.Admin.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=1000");
        Assert.Contains(audit!, e => e.Action == AuditActions.DeployCanceled && e.Target.EndsWith($"/deploy:{running.Id}", StringComparison.Ordinal)
                                     && e.Details == "stopping its running job");
    }

    [Fact]
    public async Task A_failing_deploy_command_fails_the_deploy_not_its_build_and_the_next_deploy_still_runs()
    {
        // Arrange: the deploy fails until the test creates the file it checks
        var marks = fixture.NewMarks();
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", [$"echo checking; test -e {marks}/ready"]);
        var build = await fixture.PassedBuildAsync(slug);

        // Act
        var failed = await Deploys.WaitAsync(fixture.Admin, (await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging")).Id);
        await File.WriteAllTextAsync(Path.Combine(marks, "ready"), "");
        var passed = await Deploys.WaitAsync(fixture.Admin, (await Deploys.RequestOkAsync(fixture.Member, build.Id, "staging")).Id);

        // Assert
        Assert.Equal(DeployStatus.Failed, failed.Status);
        Assert.Contains("checking", await fixture.Admin.GetStringAsync($"/api/v1/deploys/{failed.Id}/log"));
        Assert.Equal(DeployStatus.Passed, passed.Status);
        var after = await fixture.Portal.GetBuildAsync(build.Id);
        Assert.Equal((Status.Passed, build.FinishedAt), (after.Status, after.FinishedAt));
        Assert.Equal(build.Jobs.Select(j => j.Id), after.Jobs.Select(j => j.Id));
        var server = await fixture.Admin.GetFromJsonAsync<ServerResponse>($"/api/v1/projects/{slug}/servers/staging");
        Assert.Equal((passed.Id, passed.Id), (server!.Current!.Id, server.Latest!.Id));
        var audit = await fixture.Admin.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=1000");
        Assert.Contains(audit!, e => e.Action == AuditActions.DeployFinished && e.Target.EndsWith($"/deploy:{failed.Id}", StringComparison.Ordinal)
                                     && e.Details == DeployStatus.Failed);
    }
}
