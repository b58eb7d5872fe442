using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Debug;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Debug;

/// <summary>
/// Debug sessions through the real portal, the real runner (embedded, one slot), real git, bash and a real PTY, driven
/// over the terminal's WebSocket as the browser does: set-up again without running the commands, secrets only for
/// admins and never for forks, attach to a running job, time-outs that free the slot, who may start what.
/// </summary>
public sealed class DebugSessionTests : OneCommitRepository
{
    private static async Task<PortalHost> PortalAsync(double? defaultMinutes = null) =>
        await PortalHost.StartAsync(embeddedSlots: 1, settings: defaultMinutes is { } minutes
            ? new Dictionary<string, string> { ["Kaizen:Debug:DefaultMinutes"] = minutes.ToString(System.Globalization.CultureInfo.InvariantCulture) }
            : null);

    /// <summary>A project whose one job fails after writing a file; returns the finished job's id.</summary>
    private async Task<(string Slug, long JobId)> FailedJobAsync(PortalHost portal)
    {
        var slug = await portal.CreateProjectAsync("Debug " + Guid.NewGuid().ToString("N")[..6], _repo.Path, new
        {
            setup = new[] { "echo set-up-ran > setup.txt" },
            jobs = new[] { new { name = "test", commands = new[] { "echo main-ran > main.txt", "exit 3" } } },
            epilogue = new[] { "echo epilogue-ran" },
        });
        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        Assert.Equal(Status.Failed, build.Status);
        return (slug, build.Jobs[0].Id);
    }

    private static async Task<DebugSessionResponse> StartAsync(HttpClient http, long jobId, string kind = "debug", object? body = null)
    {
        using var response = await http.PostAsJsonAsync($"/api/v1/jobs/{jobId}/{kind}", body ?? new { minutes = 10 });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<DebugSessionResponse>())!;
    }

    private static async Task<CreatedUserResponse> UserAsync(PortalHost portal, string role)
    {
        using var response = await portal.Api.PostAsJsonAsync("/api/v1/users", new { name = $"{role}-{Guid.NewGuid().ToString("N")[..6]}", role });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreatedUserResponse>())!;
    }

    private static HttpClient Client(PortalHost portal, string token)
    {
        var http = new HttpClient { BaseAddress = portal.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task<DebugSessionResponse> SessionAsync(HttpClient http, long id) =>
        (await http.GetFromJsonAsync<DebugSessionResponse>($"/api/v1/debug-sessions/{id}"))!;

    [Fact]
    public async Task A_debug_session_sets_the_failed_job_up_again_writes_its_commands_to_a_file_and_opens_a_shell_there()
    {
        // Arrange
        await using var portal = await PortalAsync();
        var (slug, jobId) = await FailedJobAsync(portal);
        await portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/variables/GREETING", new { value = "hello-from-a-variable" });

        // Act
        var session = await StartAsync(portal.Api, jobId);
        await using var terminal = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, PortalHost.AdminToken);
        await terminal.WaitForStateAsync(DebugStates.Open);
        await terminal.TypeAsync("echo \"[$GREETING]\"; cat setup.txt; test -e main.txt || echo main-not-run; echo \"sum=$((6*7))\"\r");
        var after = await terminal.WaitForAsync("sum=42");
        await terminal.TypeAsync("cat kaizen-commands.sh\r");
        await terminal.WaitForAsync("exit 3", after);

        // Assert
        var screen = terminal.Screen;
        Assert.Contains("[hello-from-a-variable]", screen);
        Assert.Contains("set-up-ran", screen);
        Assert.Contains("main-not-run", screen);
        Assert.Contains("echo main-ran > main.txt", screen);
        var open = await SessionAsync(portal.Api, session.Id);
        Assert.Equal(DebugStates.Open, open.Status);
        Assert.Equal(jobId, open.JobId);
        var log = await portal.LogAsync(jobId);
        Assert.DoesNotContain("sum=42", log);
    }

    [Fact]
    public async Task A_sessions_shell_pulls_the_builds_artifacts_and_restores_its_caches_but_stores_neither()
    {
        // Arrange: the job published an artifact and a cache before it failed.
        await using var portal = await PortalAsync();
        var slug = await portal.CreateProjectAsync("Artifacts " + Guid.NewGuid().ToString("N")[..6], _repo.Path, OneJob(
            "echo from-the-build > report.txt && kaizen artifact push report.txt",
            "mkdir -p deps && echo cached > deps/x && kaizen cache store --key deps-1 -- deps",
            "exit 5"));
        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        Assert.Equal(Status.Failed, build.Status);

        // Act
        var session = await StartAsync(portal.Api, build.Jobs[0].Id);
        await using var terminal = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, PortalHost.AdminToken);
        await terminal.WaitForStateAsync(DebugStates.Open);
        await terminal.TypeAsync("kaizen artifact pull report.txt pulled.txt && cat pulled.txt; kaizen cache restore --key deps-1 -- deps && cat deps/x\r");
        var restored = await terminal.WaitForAsync("cached\r\n");
        await terminal.TypeAsync("kaizen artifact push pulled.txt; echo \"push=$?\"; echo more > deps/y; kaizen cache store --key deps-2 -- deps; echo \"stored-$((1+1))-done\"\r");
        await terminal.WaitForAsync("stored-2-done", restored);

        // Assert
        var screen = terminal.Screen;
        Assert.Contains("from-the-build", screen);
        Assert.Matches(@"push=[1-9]", screen);
        Assert.Contains("does not store any", screen);
        Assert.Contains("cache: not storing deps-2: a debug session restores caches but does not store them", screen);
        var artifacts = await portal.Api.GetStringAsync($"/api/v1/builds/{build.Id}/artifacts");
        Assert.DoesNotContain("pulled.txt", artifacts);
    }

    [Fact]
    public async Task Ending_a_session_stops_the_shell_frees_the_runner_slot_and_is_audited_with_its_user()
    {
        // Arrange: one runner slot, held by the session.
        await using var portal = await PortalAsync();
        var (slug, jobId) = await FailedJobAsync(portal);
        var member = await UserAsync(portal, "member");
        using var http = Client(portal, member.Token);
        var session = await StartAsync(http, jobId);
        await using var terminal = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, member.Token);
        await terminal.WaitForStateAsync(DebugStates.Open);
        await terminal.TypeAsync("echo \"before-the-$((2*3))-end\"\r");
        await terminal.WaitForAsync("before-the-6-end");
        var waiting = await portal.StartBuildAsync(slug);
        await Task.Delay(1500);
        Assert.Equal(Status.Queued, (await portal.GetBuildAsync(waiting)).Status);

        // Act
        using var ended = await http.DeleteAsync($"/api/v1/debug-sessions/{session.Id}");
        var build = await portal.WaitForBuildAsync(waiting);

        // Assert
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Equal(Status.Failed, build.Status);
        var after = await SessionAsync(http, session.Id);
        Assert.Equal(DebugStates.Ended, after.Status);
        Assert.Equal($"ended by {member.Name}", after.EndReason);
        var audit = await portal.Service<AuditLog>().NewestAsync(50);
        Assert.Contains(audit, e => e.Action == AuditActions.DebugStarted && e.Actor == member.Name && e.Target == $"project:{slug}/job:{jobId}");
        Assert.Contains(audit, e => e.Action == AuditActions.DebugEnded && e.Actor == member.Name && e.Details!.Contains($"ended by {member.Name}"));
        await PortalHost.PollAsync(() => Task.FromResult(terminal.Closed), c => c, _ => "the terminal stayed open", 30);
        await using var reloaded = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, member.Token);
        await reloaded.WaitForStateAsync(DebugStates.Ended);
        await reloaded.WaitForAsync("before-the-6-end");
    }

    [Fact]
    public async Task A_session_whose_runner_took_it_and_never_connected_goes_to_the_next_runner_and_ends_after_too_many_tries()
    {
        // Arrange: a runner fails the job and stops; a "runner" that takes sessions and vanishes, as one does that stops
        // (or loses the reply) at the moment it takes one. Handoffs time out after 2 s; one retry.
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0, settings: new Dictionary<string, string>
        {
            ["Kaizen:Debug:HandoffSeconds"] = "2",
            ["Kaizen:Debug:MaxHandoffs"] = "1",
        });
        portal.StartRunner("first");
        var (_, jobId) = await FailedJobAsync(portal);
        await portal.StopRunnersAsync();
        using var vanishing = await RawRunner.RegisterAsync(portal, "vanishing");
        var session = await StartAsync(portal.Api, jobId);
        await using var terminal = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, PortalHost.AdminToken);

        // Act: it takes the session and never opens its terminal; a real runner starts.
        using var claimed = await vanishing.ClaimAsync(10);
        var assignment = (await claimed.Content.ReadFromJsonAsync<Kaizen.Runner.Protocol.JobAssignment>(Kaizen.Runner.Protocol.RunnerJson.Options))!;
        var taken = await SessionAsync(portal.Api, session.Id);
        var tokenWhileTaken = await PullWithAsync(portal, assignment.JobToken!);
        var requeued = await PortalHost.PollAsync(() => SessionAsync(portal.Api, session.Id), s => s.Status != DebugStates.Starting,
            s => s.Status, timeoutSeconds: 30);
        // The vanished runner's copy of the session's job token reads nothing once the session is no longer its.
        var tokenAfterwards = await PullWithAsync(portal, assignment.JobToken!);
        portal.StartRunner("second");
        await terminal.WaitForStateAsync(DebugStates.Open, timeoutSeconds: 60);
        await terminal.TypeAsync("echo \"opened-on-$((1+1))nd\"\r");
        await terminal.WaitForAsync("opened-on-2nd");

        // Assert: taken, back in the queue (the browser was told), then opened by the runner that connects.
        Assert.Equal(HttpStatusCode.OK, claimed.StatusCode);
        Assert.Equal("vanishing", taken.Runner);
        Assert.Equal(DebugStates.Starting, taken.Status);
        Assert.Equal(DebugStates.Queued, requeued.Status);
        Assert.Null(requeued.Runner);
        Assert.Equal(HttpStatusCode.NotFound, tokenWhileTaken);
        Assert.Equal(HttpStatusCode.Unauthorized, tokenAfterwards);
        Assert.Equal("second", (await SessionAsync(portal.Api, session.Id)).Runner);
        var states = terminal.Controls.Where(c => c.Type == Kaizen.Runner.Protocol.TerminalControl.Status).Select(c => c.State);
        Assert.Equal([DebugStates.Queued, DebugStates.Starting, DebugStates.Queued, DebugStates.Starting, DebugStates.Open], Changes(states));
        await portal.Api.DeleteAsync($"/api/v1/debug-sessions/{session.Id}");

        // Act: with no runner that connects, the second vanishing ends the session with why.
        await portal.StopRunnersAsync();
        var next = await StartAsync(portal.Api, jobId);
        (await vanishing.ClaimAsync(10)).Dispose();
        await PortalHost.PollAsync(() => SessionAsync(portal.Api, next.Id), s => s.Status == DebugStates.Queued, s => s.Status, timeoutSeconds: 30);
        (await vanishing.ClaimAsync(10)).Dispose();
        var ended = await PortalHost.PollAsync(() => SessionAsync(portal.Api, next.Id), s => s.Status == DebugStates.Ended, s => s.Status,
            timeoutSeconds: 30);

        // Assert
        Assert.Equal("runners took it 2 times and none opened its terminal (can they reach the portal's WebSockets?)", ended.EndReason);
    }

    /// <summary>What pulling an artifact the build does not have answers to a job token.</summary>
    private static async Task<HttpStatusCode> PullWithAsync(PortalHost portal, string jobToken)
    {
        using var http = Client(portal, jobToken);
        using var response = await http.GetAsync("/api/jobs/artifacts/build/nothing-here.txt");
        return response.StatusCode;
    }

    /// <summary>The states in order, each repeat dropped.</summary>
    private static List<string?> Changes(IEnumerable<string?> states) =>
        states.Aggregate(new List<string?>(), (list, state) =>
        {
            if (list.Count == 0 || list[^1] != state) list.Add(state);
            return list;
        });

    [Fact]
    public async Task A_session_ends_on_time_out_and_its_slot_runs_the_next_job()
    {
        // Arrange: sessions last three seconds unless extended.
        await using var portal = await PortalAsync(defaultMinutes: 0.05);
        var (slug, jobId) = await FailedJobAsync(portal);
        using var start = await portal.Api.PostAsJsonAsync($"/api/v1/jobs/{jobId}/debug", new { });
        var session = (await start.Content.ReadFromJsonAsync<DebugSessionResponse>())!;
        await using var terminal = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, PortalHost.AdminToken);
        await terminal.WaitForStateAsync(DebugStates.Open);

        // Act
        var ended = await terminal.WaitForStateAsync(DebugStates.Ended, timeoutSeconds: 60);
        var next = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));

        // Assert
        Assert.Equal("timed out", ended.Reason);
        Assert.Equal(Status.Failed, next.Status);
        Assert.Contains("exit 3", string.Join("\n", next.Jobs[0].Commands.Select(c => c.Text)));
        var audit = await portal.Service<AuditLog>().NewestAsync(50);
        Assert.Contains(audit, e => e.Action == AuditActions.DebugEnded && e.Actor == AuditLog.System && e.Details!.Contains("timed out"));
    }

    [Fact]
    public async Task Secrets_reach_an_admins_session_but_not_a_members_and_never_a_forks()
    {
        // Arrange
        await using var portal = await PortalAsync();
        var (slug, jobId) = await FailedJobAsync(portal);
        await portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/secrets/DEPLOY_TOKEN", new { value = "s3cret-value" });
        var project = (await portal.Service<ProjectStore>().FindBySlugAsync(slug))!;
        var fork = await portal.Service<BuildService>().StartAsync(project, "main", Trigger.PullRequest, "outsider", CancellationToken.None, fromFork: true);
        var forkJob = (await portal.WaitForBuildAsync(fork.Value)).Jobs[0].Id;
        var member = await UserAsync(portal, "member");
        using var memberHttp = Client(portal, member.Token);

        // Act
        async Task<string> SecretSeenAsync(HttpClient http, string token, long job)
        {
            var session = await StartAsync(http, job);
            await using var terminal = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, token);
            await terminal.WaitForStateAsync(DebugStates.Open);
            await terminal.TypeAsync("echo \"token=[${DEPLOY_TOKEN:-none}]\"\r");
            var end = await terminal.WaitForAsync("]\r\n", await terminal.WaitForAsync("token=[", await terminal.WaitForAsync("echo")));
            var screen = terminal.Screen;
            var at = screen.LastIndexOf("token=[", end, StringComparison.Ordinal);
            await http.DeleteAsync($"/api/v1/debug-sessions/{session.Id}");
            return screen[at..end].Trim();
        }

        var admin = await SecretSeenAsync(portal.Api, PortalHost.AdminToken, jobId);
        var ofMember = await SecretSeenAsync(memberHttp, member.Token, jobId);
        var ofFork = await SecretSeenAsync(portal.Api, PortalHost.AdminToken, forkJob);

        // Assert
        Assert.Equal("token=[s3cret-value]", admin);
        Assert.Equal("token=[none]", ofMember);
        Assert.Equal("token=[none]", ofFork);
    }

    [Fact]
    public async Task Attaching_to_a_running_job_opens_a_shell_in_its_workspace_with_its_variables_until_the_job_ends()
    {
        // Arrange: a job that leaves a mark and then waits.
        await using var portal = await PortalAsync();
        var slug = await portal.CreateProjectAsync("Attach " + Guid.NewGuid().ToString("N")[..6], _repo.Path,
            OneJob("echo \"pid $$\" > mark.txt", "sleep 120"));
        var buildId = await portal.StartBuildAsync(slug);
        var running = await portal.WaitForBuildAsync(buildId, b => b.Jobs[0].Commands.Any(c => c.Text == "sleep 120" && c.Status == Status.Running));

        // Act
        var session = await StartAsync(portal.Api, running.Jobs[0].Id, "attach");
        await using var terminal = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, PortalHost.AdminToken);
        await terminal.WaitForStateAsync(DebugStates.Open);
        await terminal.TypeAsync("cat mark.txt; echo \"job=$KAIZEN_JOB_NAME\"\r");
        await terminal.WaitForAsync("job=test");
        await portal.Api.PostAsync($"/api/v1/builds/{buildId}/cancel", null);
        var ended = await terminal.WaitForStateAsync(DebugStates.Ended);

        // Assert
        Assert.Contains("pid ", terminal.Screen);
        Assert.Equal(DebugKinds.Attach, session.Kind);
        Assert.Contains("job", ended.Reason);
        Assert.Equal(Status.Canceled, (await portal.WaitForBuildAsync(buildId)).Status);
    }

    [Fact]
    public async Task Viewers_cannot_start_sessions_members_cannot_attach_and_running_or_finished_jobs_say_what_to_do_instead()
    {
        // Arrange
        await using var portal = await PortalAsync();
        var (slug, jobId) = await FailedJobAsync(portal);
        var viewer = await UserAsync(portal, "viewer");
        var member = await UserAsync(portal, "member");
        using var viewerHttp = Client(portal, viewer.Token);
        using var memberHttp = Client(portal, member.Token);

        // Act
        using var byViewer = await viewerHttp.PostAsJsonAsync($"/api/v1/jobs/{jobId}/debug", new { });
        using var attachFinished = await portal.Api.PostAsJsonAsync($"/api/v1/jobs/{jobId}/attach", new { });
        using var memberAttach = await memberHttp.PostAsJsonAsync($"/api/v1/jobs/{jobId}/attach", new { });
        using var tooLong = await memberHttp.PostAsJsonAsync($"/api/v1/jobs/{jobId}/debug", new { minutes = 100000 });
        using var missing = await memberHttp.PostAsJsonAsync("/api/v1/jobs/999999/debug", new { });
        var session = await StartAsync(memberHttp, jobId);
        using var othersSession = await viewerHttp.GetAsync($"/api/v1/debug-sessions/{session.Id}");
        using var othersEnd = await viewerHttp.DeleteAsync($"/api/v1/debug-sessions/{session.Id}");
        using var anonymous = await new HttpClient { BaseAddress = portal.BaseUrl }.PostAsJsonAsync($"/api/v1/jobs/{jobId}/debug", new { });

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Contains("Viewers cannot start debug sessions", await byViewer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, attachFinished.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, memberAttach.StatusCode);
        Assert.Contains("Only admins can attach", await memberAttach.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, othersSession.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, othersEnd.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.False(session.WithSecrets);
        Assert.Equal(10, (session.ExpiresAt - session.CreatedAt) / 60_000.0, 3);
        var audit = await portal.Service<AuditLog>().NewestAsync(50);
        Assert.Single(audit, e => e.Action == AuditActions.DebugStarted);
    }

    [Fact]
    public async Task A_portal_restart_keeps_an_open_session_its_shell_and_its_end()
    {
        // Arrange: a separate runner, so the session lives outside the portal process.
        using var data = new TempDirectory();
        using var work = new TempDirectory();
        var port = PortalHost.FreePort();
        var portal = await PortalHost.StartAsync(embeddedSlots: 0, dataDirectory: data.Path, port: port);
        await using var runner = OwnRunner.Start(portal.BaseUrl, "outside", work.Path);
        try
        {
            var (_, jobId) = await FailedJobAsync(portal);
            var session = await StartAsync(portal.Api, jobId);
            long expiresAt;
            await using (var before = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, PortalHost.AdminToken))
            {
                await before.WaitForStateAsync(DebugStates.Open);
                await before.TypeAsync("export KEPT=across-the-restart\r");
                await before.WaitForAsync("kaizen-debug", await before.WaitForAsync("KEPT=across-the-restart\r\n"));
                expiresAt = (await SessionAsync(portal.Api, session.Id)).ExpiresAt;
            }

            // Act
            await portal.DisposeAsync();
            portal = await PortalHost.StartAsync(embeddedSlots: 0, dataDirectory: data.Path, port: port);
            await PortalHost.PollAsync(() => SessionAsync(portal.Api, session.Id), s => s.Status == DebugStates.Open && portal.Service<TerminalHub>().RunnerConnected(s.Id),
                s => $"session {s.Id} is {s.Status}, runner connected: {portal.Service<TerminalHub>().RunnerConnected(s.Id)}", 60);
            await using var after = await TerminalClient.ConnectAsync(portal.BaseUrl, session.Id, PortalHost.AdminToken);
            await after.TypeAsync("echo \"kept=$KEPT\"\r");
            await after.WaitForAsync("kept=across-the-restart");

            // Assert
            Assert.Equal(expiresAt, (await SessionAsync(portal.Api, session.Id)).ExpiresAt);
        }
        finally
        {
            await runner.StopAsync();
            await portal.DisposeAsync();
        }
    }
}
