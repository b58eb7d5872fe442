using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Runners;
using Kaizen.Portal.Tests.Delivery;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// Runners are trusted per claim and per pool, against the real portal: a runner token alone (which job code on an
/// unsandboxed runner could read) cannot write into or finish a job, claims stop at the slot count, a revoked runner is
/// refused at once, and jobs go only to runners with the labels and sandbox they need.
/// </summary>
public sealed class RunnerTrustTests : OneCommitRepository
{
    [Fact]
    public async Task A_forged_stream_completion_or_report_with_only_the_runner_token_is_refused_and_changes_nothing()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Forged App", _repo.Path, OneJob("echo hi"));
        var buildId = await portal.StartBuildAsync(slug);
        using var runner = await RawRunner.RegisterAsync(portal, "raw");
        var job = await runner.ClaimJobAsync();
        (await runner.StreamAsync(job.JobId, 1, "real output\n")).Dispose();

        using var forgedStream = await runner.StreamWithLeaseAsync(job.JobId, 2, "made-up output\n", lease: null);
        using var forgedCompletion = await runner.CompleteWithLeaseAsync(job.JobId, JobOutcome.Passed, 1, lease: null);
        using var guessedCompletion = await runner.CompleteWithLeaseAsync(job.JobId, JobOutcome.Passed, 1, lease: "kzl_guessed");
        using var forgedReport = await runner.UploadReportWithLeaseAsync(job.JobId,
            "<testsuite name='s' tests='1'><testcase name='made-up' classname='x'/></testsuite>", lease: null);

        Assert.Equal(HttpStatusCode.Forbidden, forgedStream.StatusCode);
        Assert.Contains(RunnerRoutes.LeaseHeader, await forgedStream.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, forgedCompletion.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, guessedCompletion.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forgedReport.StatusCode);
        Assert.Equal("real output\n", await portal.LogAsync(job.JobId));
        var build = await portal.GetBuildAsync(buildId);
        Assert.Equal((Status.Running, Status.Running), (build.Status, build.Jobs[0].Status));
        // The claim's own lease still finishes it, and a retried completion is still idempotent.
        using var completed = await runner.CompleteAsync(job.JobId, JobOutcome.Failed, 1, "exit code 1");
        using var retried = await runner.CompleteAsync(job.JobId, JobOutcome.Failed, 1, "exit code 1");
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Gone), (completed.StatusCode, retried.StatusCode));
        Assert.Equal(Status.Failed, (await portal.GetBuildAsync(buildId)).Status);
    }

    [Fact]
    public async Task Claims_stop_at_the_slot_count_the_runner_registered_with()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Slots App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "a", commands = new[] { "true" } }, new { name = "b", commands = new[] { "true" } }, new { name = "c", commands = new[] { "true" } } },
            epilogue = Array.Empty<string>(),
        });
        await portal.StartBuildAsync(slug);
        using var runner = await RawRunner.RegisterAsync(portal, "two-slots", slots: 2);

        var first = await runner.ClaimJobAsync();
        var second = await runner.ClaimJobAsync();
        using var beyond = await runner.ClaimAsync(waitSeconds: 1);
        (await runner.CompleteAsync(first.JobId, JobOutcome.Passed, 0)).Dispose();
        var third = await runner.ClaimJobAsync();

        Assert.Equal(HttpStatusCode.NoContent, beyond.StatusCode);
        Assert.Equal(3, new[] { first.JobId, second.JobId, third.JobId }.Distinct().Count());
    }

    [Fact]
    public async Task A_revoked_runners_token_is_refused_at_once_and_its_running_job_fails_as_runner_revoked()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Revoked App", _repo.Path, OneJob("sleep 30"));
        var buildId = await portal.StartBuildAsync(slug);
        using var runner = await RawRunner.RegisterAsync(portal, "stolen");
        var job = await runner.ClaimJobAsync();
        (await runner.StreamAsync(job.JobId, 1, "started\n")).Dispose();
        using var member = await UserClientAsync(portal, "mia", "member");

        using var byMember = await member.PostAsync($"/api/v1/runners/{runner.Id}/revoke", null);
        using var revoke = await portal.Api.PostAsync($"/api/v1/runners/{runner.Id}/revoke", null);
        using var heartbeat = await runner.HeartbeatAsync(job.JobId);
        using var claim = await runner.ClaimAsync();
        using var stream = await runner.StreamAsync(job.JobId, 2, "after revoke\n");

        Assert.Equal(HttpStatusCode.Forbidden, byMember.StatusCode);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal([job.JobId], (await revoke.Content.ReadFromJsonAsync<RevokeResponse>())!.FailedJobIds);
        Assert.Equal(HttpStatusCode.Unauthorized, heartbeat.StatusCode);
        Assert.True(heartbeat.Headers.Contains(RunnerRoutes.RevokedHeader));
        Assert.Contains("revoked", await heartbeat.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, claim.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stream.StatusCode);
        var failed = (await portal.GetBuildAsync(buildId)).Jobs[0];
        Assert.Equal((Status.Failed, "runner revoked"), (failed.Status, failed.Error));
        var log = await portal.LogAsync(job.JobId);
        Assert.StartsWith("started\n", log);
        Assert.DoesNotContain("after revoke", log);
        var audit = await portal.Api.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit");
        Assert.Contains(audit!, e => e.Action == RunnerAdmin.RevokedAction && e.Target.Contains("stolen", StringComparison.Ordinal));
        var listed = await portal.Api.GetFromJsonAsync<List<RunnerResponse>>("/api/v1/runners");
        Assert.NotNull(Assert.Single(listed!, r => r.Id == runner.Id).RevokedAt);
    }

    [Fact]
    public async Task A_real_runner_stops_when_it_is_revoked_instead_of_registering_again()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Stopping App", _repo.Path, OneJob("sleep 60"), isPublic: false);
        var buildId = await portal.StartBuildAsync(slug);
        await using var own = OwnRunner.Start(portal.BaseUrl, "to-revoke", Path.Combine(portal.DataDirectory, "own"), docker: false);
        await portal.WaitForBuildAsync(buildId, b => b.Jobs[0].Status == Status.Running);
        var runnerId = (await portal.Api.GetFromJsonAsync<List<RunnerResponse>>("/api/v1/runners"))!.Single().Id;

        using var revoke = await portal.Api.DeleteAsync($"/api/v1/runners/{runnerId}");
        var build = await portal.WaitForBuildAsync(buildId);

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal("runner revoked", build.Jobs[0].Error);
        var stopped = await Assert.ThrowsAsync<Kaizen.Runner.Agent.RunnerRevokedException>(() => own.RunningTask.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("revoked", stopped.Message);
        Assert.Single((await portal.Api.GetFromJsonAsync<List<RunnerResponse>>("/api/v1/runners"))!);
    }

    [Fact]
    public async Task A_job_needing_labels_waits_for_a_labelled_runner_and_runs_there()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Gpu App", _repo.Path, OneJob("echo \"ran in $KAIZEN_WORKSPACE\""), isPublic: false);
        using (var member = await UserClientAsync(portal, "max", "member"))
        using (var byMember = await member.PutAsJsonAsync($"/api/v1/projects/{slug}/runner-labels", new { required = new[] { "gpu" } }))
            Assert.Equal(HttpStatusCode.Forbidden, byMember.StatusCode);
        using (var set = await portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/runner-labels", new { required = new[] { "gpu", "linux" } }))
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        portal.StartRunner("plain-box", labels: ["linux"]);
        var buildId = await portal.StartBuildAsync(slug);

        await Task.Delay(TimeSpan.FromSeconds(3));
        var waiting = await portal.GetBuildAsync(buildId);
        portal.StartRunner("gpu-box", labels: ["gpu", "linux"]);
        var build = await portal.WaitForBuildAsync(buildId);

        Assert.Equal(Status.Queued, waiting.Jobs[0].Status);
        Assert.Equal("waiting for a runner labelled gpu, linux", waiting.Jobs[0].Waiting);
        Assert.True(build.Status == Status.Passed, await portal.DescribeAsync(build));
        Assert.Contains(Path.Combine("runners", "gpu-box"), await portal.LogAsync(build.Jobs[0].Id));
    }

    [Fact]
    public async Task A_deploy_to_an_approvals_required_server_never_goes_to_an_unlabelled_runner()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Guarded App", _repo.Path, OneJob("true"), isPublic: false);
        using (var server = await portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name = "production", commands = new[] { "echo \"deployed from $KAIZEN_WORKSPACE\"" },
            trigger = new { mode = "manual", branch = "" }, approvals = 1, deployers = "members",
        }))
            Assert.Equal(HttpStatusCode.Created, server.StatusCode);
        portal.StartRunner("plain-box", slots: 2);
        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        Assert.True(build.Status == Status.Passed, await portal.DescribeAsync(build));
        using var approver = await UserClientAsync(portal, "omar", "member");

        var requested = await Deploys.RequestOkAsync(portal.Api, build.Id, "production");
        (await Deploys.ActAsync(approver, requested.Id, "approve")).Dispose();
        var started = await Deploys.WaitAsync(portal.Api, requested.Id, d => d.JobId is not null);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var stillWaiting = await Deploys.GetAsync(portal.Api, requested.Id);
        var deployJob = (await portal.Service<BuildStore>().FindJobAsync(started.JobId!.Value))!;
        var waitingFor = await portal.Service<RunnerStore>().WaitingReasonAsync(deployJob.Id, RunnerStore.SeenWithin);
        portal.StartRunner("vault-box", labels: [RunnerPools.Protected]);
        var deployed = await Deploys.WaitAsync(portal.Api, requested.Id);

        Assert.Equal(DeployStatus.Running, stillWaiting.Status);
        Assert.Equal((Status.Queued, "waiting for a runner labelled protected"), (deployJob.Status, waitingFor));
        Assert.Equal(DeployStatus.Passed, deployed.Status);
        var log = await portal.Api.GetStringAsync($"/api/v1/deploys/{requested.Id}/log");
        Assert.Contains(Path.Combine("runners", "vault-box"), log);
    }

    [Fact]
    public async Task A_runner_without_a_sandbox_gets_no_public_project_job_but_runs_private_ones()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var open = await portal.CreateProjectAsync("Open Lib", _repo.Path, OneJob("true"), isPublic: true);
        var closed = await portal.CreateProjectAsync("Closed App", _repo.Path, OneJob("true"), isPublic: false);
        portal.StartRunner("bare-box", slots: 2, sandbox: RunnerSandbox.None);

        var publicBuild = await portal.StartBuildAsync(open);
        var privateBuild = await portal.WaitForBuildAsync(await portal.StartBuildAsync(closed));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var publicWaiting = await portal.GetBuildAsync(publicBuild);
        portal.StartRunner("sandboxed-box");
        var publicDone = await portal.WaitForBuildAsync(publicBuild);

        Assert.Equal(Status.Passed, privateBuild.Status);
        Assert.Equal(Status.Queued, publicWaiting.Jobs[0].Status);
        Assert.Equal("waiting for a runner with a sandbox", publicWaiting.Jobs[0].Waiting);
        Assert.Equal(Status.Passed, publicDone.Status);
        var runners = (await portal.Api.GetFromJsonAsync<List<RunnerResponse>>("/api/v1/runners"))!;
        Assert.Equal(RunnerSandbox.None, runners.Single(r => r.Name == "bare-box").Sandbox);
        Assert.Equal("127.0.0.1", runners.Single(r => r.Name == "bare-box").LastAddress);
    }

    private static async Task<HttpClient> UserClientAsync(PortalHost portal, string name, string role)
    {
        using var created = await portal.Api.PostAsJsonAsync("/api/v1/users", new { name, role });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<CreatedUserResponse>())!.Token;
        var http = new HttpClient { BaseAddress = portal.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
