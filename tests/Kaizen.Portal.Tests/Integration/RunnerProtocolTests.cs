using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Builds;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>The runner protocol against the real portal: idempotent log uploads, ordering, and atomic claims.</summary>
public sealed class RunnerProtocolTests : OneCommitRepository
{
    [Fact]
    public async Task A_retried_log_upload_does_not_duplicate_lines()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Retry App", _repo.Path, OneJob("echo hi"));
        var buildId = await portal.StartBuildAsync(slug);
        using var runner = await RawRunner.RegisterAsync(portal, "raw");
        var job = await runner.ClaimJobAsync();

        using var first = await runner.StreamAsync(job.JobId, 1, "line one\n");
        using var retried = await runner.StreamAsync(job.JobId, 1, "line one\n");
        using var second = await runner.StreamAsync(job.JobId, 2, "line two\n");
        using var completed = await runner.CompleteAsync(job.JobId, JobOutcome.Passed, lastSeq: 2);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        var log = await portal.LogAsync(job.JobId);
        Assert.Equal(1, Occurrences(log, "line one"));
        Assert.Equal(1, Occurrences(log, "line two"));
        Assert.True(log.IndexOf("line one", StringComparison.Ordinal) < log.IndexOf("line two", StringComparison.Ordinal));
        var build = await portal.GetBuildAsync(buildId);
        Assert.Equal(Status.Passed, build.Status);
        Assert.Equal("line one\nline two\n".Length, build.Jobs[0].LogBytes);
    }

    [Fact]
    public async Task A_batch_that_skips_a_sequence_number_is_refused_and_nothing_of_it_is_kept()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Gap App", _repo.Path, OneJob("echo hi"));
        await portal.StartBuildAsync(slug);
        using var runner = await RawRunner.RegisterAsync(portal, "raw");
        var job = await runner.ClaimJobAsync();
        (await runner.StreamAsync(job.JobId, 1, "one\n")).Dispose();
        (await runner.StreamAsync(job.JobId, 2, "two\n")).Dispose();

        using var early = await runner.StreamAsync(job.JobId, 4, "four\n");
        using var third = await runner.StreamAsync(job.JobId, 3, "three\n");
        using var fourth = await runner.StreamAsync(job.JobId, 4, "four\n");
        await runner.CompleteAsync(job.JobId, JobOutcome.Passed, lastSeq: 4);

        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Contains("before an earlier one", await early.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
        Assert.Equal("one\ntwo\nthree\nfour\n", await portal.LogAsync(job.JobId));
    }

    [Fact]
    public async Task Completing_with_a_last_sequence_number_ahead_of_what_arrived_is_refused_until_the_rest_comes()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Complete App", _repo.Path, OneJob("echo hi"));
        var buildId = await portal.StartBuildAsync(slug);
        using var runner = await RawRunner.RegisterAsync(portal, "raw");
        var job = await runner.ClaimJobAsync();
        (await runner.StreamAsync(job.JobId, 1, "one\n")).Dispose();

        using var ahead = await runner.CompleteAsync(job.JobId, JobOutcome.Passed, lastSeq: 2);
        var stillRunning = await portal.GetBuildAsync(buildId);
        (await runner.StreamAsync(job.JobId, 2, "two\n")).Dispose();
        using var complete = await runner.CompleteAsync(job.JobId, JobOutcome.Passed, lastSeq: 2);
        using var again = await runner.CompleteAsync(job.JobId, JobOutcome.Passed, lastSeq: 2);
        using var late = await runner.StreamAsync(job.JobId, 3, "three\n");

        Assert.Equal(HttpStatusCode.Conflict, ahead.StatusCode);
        Assert.Contains("up to batch 1", await ahead.Content.ReadAsStringAsync());
        Assert.Equal(Status.Running, stillRunning.Jobs[0].Status);
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, again.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        Assert.Equal(Status.Passed, (await portal.GetBuildAsync(buildId)).Status);
        Assert.Equal("one\ntwo\n", await portal.LogAsync(job.JobId));
    }

    [Fact]
    public async Task A_runner_cannot_stream_into_or_complete_a_job_another_runner_claimed()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Foreign App", _repo.Path, OneJob("echo hi"));
        await portal.StartBuildAsync(slug);
        using var owner = await RawRunner.RegisterAsync(portal, "owner");
        using var intruder = await RawRunner.RegisterAsync(portal, "intruder");
        var job = await owner.ClaimJobAsync();

        // Even with the owner's lease token: the claim is the owner's.
        using var streamed = await intruder.StreamWithLeaseAsync(job.JobId, 1, "not mine\n", owner.LeaseOf(job.JobId));
        using var completed = await intruder.CompleteWithLeaseAsync(job.JobId, JobOutcome.Passed, 0, owner.LeaseOf(job.JobId));
        using var unleased = await intruder.CompleteAsync(job.JobId, JobOutcome.Failed, lastSeq: 0);

        Assert.Equal(HttpStatusCode.Forbidden, streamed.StatusCode);
        Assert.Contains($"Job {job.JobId} was not claimed by this runner.", await streamed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, completed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, unleased.StatusCode);
        Assert.DoesNotContain("not mine", await portal.LogAsync(job.JobId));
        Assert.Equal(Status.Running, (await portal.GetBuildAsync(job.BuildId)).Jobs[0].Status);
        using var ownStream = await owner.StreamAsync(job.JobId, 1, "mine\n");
        using var ownCompletion = await owner.CompleteAsync(job.JobId, JobOutcome.Passed, lastSeq: 1);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (ownStream.StatusCode, ownCompletion.StatusCode));
        Assert.Equal("mine\n", await portal.LogAsync(job.JobId));
    }

    [Fact]
    public async Task Many_concurrent_claims_from_two_runners_get_one_queued_job_exactly_once()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Race App", _repo.Path, OneJob("echo hi"));
        var buildId = await portal.StartBuildAsync(slug);
        using var a = await RawRunner.RegisterAsync(portal, "a");
        using var b = await RawRunner.RegisterAsync(portal, "b");

        using var go = new ManualResetEventSlim();
        var claims = Enumerable.Range(0, 24).Select(i => Task.Run(async () =>
        {
            go.Wait();
            return await (i % 2 == 0 ? a : b).ClaimAsync(waitSeconds: 0);
        })).ToList();
        go.Set();
        var responses = await Task.WhenAll(claims);

        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.NoContent }));
        var winner = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        var job = (await winner.Content.ReadFromJsonAsync<JobAssignment>(RunnerJson.Options))!;
        Assert.Equal(buildId, job.BuildId);
        Assert.Equal(Status.Running, (await portal.GetBuildAsync(buildId)).Jobs[0].Status);
        foreach (var r in responses) r.Dispose();
    }

    [Fact]
    public async Task Two_runners_racing_for_many_jobs_run_each_job_exactly_once()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var ledger = Path.Combine(portal.Exchange, "ran.txt");
        // Each job appends its id and the runner whose workspace it ran in; short appends are atomic.
        var slug = await portal.CreateProjectAsync("Busy App", _repo.Path,
            OneJob($"echo \"$KAIZEN_JOB_ID $(basename $(dirname $(dirname $KAIZEN_WORKSPACE)))\" >> {ledger}", "sleep 0.3"));
        using var workA = new TempDirectory();
        using var workB = new TempDirectory();
        portal.StartRunner("runner-a", workDirectory: Path.Combine(workA.Path, "runner-a"));
        portal.StartRunner("runner-b", workDirectory: Path.Combine(workB.Path, "runner-b"));

        var ids = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => portal.StartBuildAsync(slug)));
        var builds = new List<Kaizen.Portal.Api.BuildResponse>();
        foreach (var id in ids) builds.Add(await portal.WaitForBuildAsync(id, timeoutSeconds: 90));

        Assert.All(builds, b => Assert.Equal(Status.Passed, b.Status));
        var lines = (await File.ReadAllLinesAsync(ledger)).Where(l => l.Length > 0).ToList();
        var ran = lines.Select(l => long.Parse(l.Split(' ')[0])).ToList();
        Assert.Equal(12, ran.Count);
        Assert.Equal(builds.Select(b => b.Jobs[0].Id).Order(), ran.Order());
        Assert.Equal(ran.Count, ran.Distinct().Count());
        Assert.Equal(["runner-a", "runner-b"], lines.Select(l => l.Split(' ')[1]).Distinct().Order());
    }

    [Fact]
    public async Task Registering_with_a_wrong_registration_token_is_refused()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        using var http = new HttpClient { BaseAddress = portal.BaseUrl };

        using var wrong = await RawRunner.RegisterAsync(http, "kzt_not_the_token", "sneaky");
        using var empty = await RawRunner.RegisterAsync(http, "", "sneaky");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("registration token is wrong", await wrong.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, empty.StatusCode);
    }

    private static int Occurrences(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
