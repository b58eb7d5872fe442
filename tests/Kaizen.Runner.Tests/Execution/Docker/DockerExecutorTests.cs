using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Docker;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution.Docker;

/// <summary>Jobs in containers on a real Docker daemon, through the same <see cref="JobExecutor"/> as shell jobs.</summary>
public sealed class DockerExecutorTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private readonly string _runnerId = "test-" + Guid.NewGuid().ToString("N")[..12];
    private DockerEngine? _engine;

    public async Task InitializeAsync()
    {
        if ((await DockerEngine.TryConnectAsync(new DockerOptions(), _runnerId, _work.Path)).Engine is { } engine)
        {
            _engine = engine;
        }
    }

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.ReapLeftoversAsync();
            _engine.Dispose();
        }

        _work.Dispose();
    }

    private async Task<DockerEngine> EngineAsync(DockerOptions? options = null)
    {
        await DockerTestImages.RequireAsync();
        if (options is null)
        {
            return _engine!;
        }

        var (engine, problem) = await DockerEngine.TryConnectAsync(options, _runnerId, _work.Path);
        Assert.True(engine is not null, problem);
        return engine;
    }

    private JobExecutor Executor(DockerEngine engine) =>
        new(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path)) { Docker = engine };

    private static JobAssignment Job(string gitUrl, string sha, IReadOnlyList<ServiceSpec>? services, params string[] commands) => new(
        JobId: 4242,
        BuildId: 7,
        ProjectSlug: "acme",
        JobName: "test",
        GitUrl: gitUrl,
        Branch: "main",
        CommitSha: sha,
        Commands: [.. commands.Select((c, i) => new JobCommand(i, CommandPhase.Main, c))],
        Environment: new Dictionary<string, string> { ["GREETING"] = "hello from the job" },
        LeaseSeconds: 60,
        Secrets: [new JobSecret("API_TOKEN", "s3cr3t-value-42")],
        Image: DockerTestImages.Busybox,
        Services: services);

    private async Task<int> ContainersOfThisRunnerAsync() =>
        (await DockerTestImages.RunAsync("docker", "ps", "-aq", "--filter", $"label=kaizen.runner={_runnerId}", "--filter", "label=kaizen.job")).Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    private async Task<int> NetworksOfThisRunnerAsync() =>
        (await DockerTestImages.RunAsync("docker", "network", "ls", "-q", "--filter", $"label=kaizen.runner={_runnerId}")).Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    [SkippableFact]
    public async Task A_job_runs_in_its_image_with_the_workspace_env_and_masked_secrets_and_reaches_a_service_by_alias()
    {
        var engine = await EngineAsync();
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("hello.txt", "hello from the repo\n"));
        var web = new ServiceSpec(DockerTestImages.Httpd, "web", new Dictionary<string, string> { ["MESSAGE"] = "served by web" }, Ready: "8080");
        var output = new MemoryJobOutput();
        var job = Job(repo.Path, sha, [web],
            "cat hello.txt && test \"$PWD\" = \"$KAIZEN_WORKSPACE\" && test ! -e /bin/bash",
            "echo \"$GREETING\"; echo \"token=$API_TOKEN\"",
            "wget -q -O - http://web:8080/",
            "(exit 3)");

        var result = await Executor(engine).RunAsync(job, output, CancellationToken.None);

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal(["0:Finished:0", "1:Finished:0", "2:Finished:0", "3:Finished:3"], output.Summary());
        Assert.Equal("hello from the repo\n", output.Log(0));
        Assert.Equal("hello from the job\ntoken=***\n", output.Log(1));
        Assert.Contains("served by web", output.Log(2));
        Assert.All(output.Events.Where(e => e.Kind == CommandEventKind.Finished), e => Assert.NotNull(e.DurationMs));
        var jobLog = output.Log(null);
        Assert.Contains("image kaizen-test/busybox:1 present, no pull", jobLog);
        Assert.Contains("service web (kaizen-test/httpd:1) ready in", jobLog);
        Assert.Contains("service web (kaizen-test/httpd:1) log:\nhttpd starting", jobLog);
        Assert.DoesNotContain("s3cr3t-value-42", jobLog + output.Log(1));
        Assert.Equal(0, await ContainersOfThisRunnerAsync());
        Assert.Equal(0, await NetworksOfThisRunnerAsync());
    }

    [SkippableFact]
    public async Task A_service_that_never_becomes_ready_fails_the_job_naming_it()
    {
        var engine = await EngineAsync(new DockerOptions { ServiceReadyTimeout = TimeSpan.FromSeconds(2) });
        var output = new MemoryJobOutput();
        var job = Job("", "", [new ServiceSpec(DockerTestImages.Httpd, "db", Ready: "5432")], "echo never");

        var result = await Executor(engine).RunAsync(job, output, CancellationToken.None);

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.StartsWith("The service 'db' (kaizen-test/httpd:1) did not become ready within 2.0 s: port 5432 did not accept connections", result.Error);
        Assert.Equal(["0:Skipped"], output.Summary());
        Assert.Equal(0, await ContainersOfThisRunnerAsync());
        Assert.Equal(0, await NetworksOfThisRunnerAsync());
    }

    [SkippableFact]
    public async Task A_ready_command_runs_in_the_service_until_it_succeeds()
    {
        var engine = await EngineAsync();
        var output = new MemoryJobOutput();
        var service = new ServiceSpec(DockerTestImages.Httpd, "slow", new Dictionary<string, string> { ["DELAY"] = "1", ["MESSAGE"] = "late" },
            Ready: "wget -q -O - http://127.0.0.1:8080/ | grep -q late");
        var job = Job("", "", [service], "wget -q -O - http://slow:8080/");

        var result = await Executor(engine).RunAsync(job, output, CancellationToken.None);

        Assert.Equal(JobOutcome.Passed, result.Outcome);
        Assert.Equal("late\n", output.Log(0));
    }

    [SkippableFact]
    public async Task Cancel_kills_the_job_and_removes_its_containers_and_network()
    {
        var engine = await EngineAsync();
        using var cancel = new CancellationTokenSource();
        var output = new MemoryJobOutput
        {
            OnWrite = o =>
            {
                if (o.Log(0).Contains("started"))
                {
                    cancel.Cancel();
                }
            },
        };
        var job = Job("", "", [new ServiceSpec(DockerTestImages.Httpd, "web", Ready: "8080")], "echo started; sleep 300", "echo never");
        var started = System.Diagnostics.Stopwatch.StartNew();

        var result = await Executor(engine).RunAsync(job, output, cancel.Token);

        Assert.Equal(JobOutcome.Canceled, result.Outcome);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"took {started.Elapsed}");
        Assert.Equal(["0:Finished:130", "1:Skipped"], output.Summary());
        Assert.Equal(0, await ContainersOfThisRunnerAsync());
        Assert.Equal(0, await NetworksOfThisRunnerAsync());
    }

    [SkippableFact]
    public async Task Leftovers_of_a_crashed_runner_are_reaped_when_it_starts_again()
    {
        await EngineAsync();
        var label = $"kaizen.runner={_runnerId}";
        Assert.Equal(0, (await DockerTestImages.RunAsync("docker", "network", "create", "--label", label, "--label", "kaizen.job=1", $"kaizen-job-1-{_runnerId}")).ExitCode);
        Assert.Equal(0, (await DockerTestImages.RunAsync("docker", "run", "-d", "--label", label, "--label", "kaizen.job=1",
            DockerTestImages.Busybox, "sleep", "300")).ExitCode);
        Assert.Equal(0, (await DockerTestImages.RunAsync("docker", "volume", "create", "--label", label, $"kaizen-{_runnerId}")).ExitCode);
        Assert.Equal(1, await ContainersOfThisRunnerAsync());

        var (engine, _) = await DockerEngine.TryConnectAsync(new DockerOptions(), _runnerId, _work.Path);
        using (engine)
        {
            Assert.Equal(3, await engine!.ReapLeftoversAsync());
        }

        Assert.Equal(0, await ContainersOfThisRunnerAsync());
        Assert.Equal(0, await NetworksOfThisRunnerAsync());
        Assert.DoesNotContain($"kaizen-{_runnerId}", (await DockerTestImages.RunAsync("docker", "volume", "ls", "-q")).Output);
    }

    [SkippableFact]
    public async Task Kaizen_helpers_run_on_the_host_so_an_image_without_tools_installs_a_tool_once_and_uses_it()
    {
        var engine = await EngineAsync();
        const string use = "kaizen tool use greeter 1.0 -- 'mkdir -p bin && printf \"#!/bin/sh\\necho hi from greeter\\n\" > bin/greet && chmod +x bin/greet'";
        var first = new MemoryJobOutput();
        var second = new MemoryJobOutput();

        var one = await Executor(engine).RunAsync(Job("", "", null, use, "greet", "kaizen checksum missing.txt"), first, CancellationToken.None);
        var two = await Executor(engine).RunAsync(Job("", "", null, use, "greet") with { JobId = 4243 }, second, CancellationToken.None);

        Assert.Equal(JobOutcome.Passed, one.Outcome);
        Assert.Equal(JobOutcome.Passed, two.Outcome);
        Assert.Contains("tool: installing greeter 1.0", first.Log(0));
        Assert.Equal("hi from greeter\n", first.Log(1));
        Assert.Matches("^[0-9a-f]{16}\n$", first.Log(2));
        Assert.Equal("tool: greeter 1.0 already installed, reusing it\n", second.Log(0));
        Assert.Equal("hi from greeter\n", second.Log(1));
    }

    [SkippableFact]
    public async Task A_job_whose_image_is_missing_under_the_never_policy_fails_saying_so()
    {
        var engine = await EngineAsync(new DockerOptions { PullPolicy = PullPolicy.Never });
        var output = new MemoryJobOutput();

        var result = await Executor(engine).RunAsync(Job("", "", null, "true") with { Image = "kaizen-test/absent:1" }, output, CancellationToken.None);

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal("The image kaizen-test/absent:1 is not on this runner and its pull policy is 'never'.", result.Error);
    }

    [SkippableFact]
    public async Task A_cache_stored_by_a_container_job_is_restored_by_the_next_though_the_image_has_no_tar()
    {
        var engine = await EngineAsync();
        var first = new MemoryJobOutput();
        var second = new MemoryJobOutput();

        var one = await Executor(engine).RunAsync(Job("", "", null,
            "echo v1 > deps.lock && mkdir -p deps && echo cached > deps/file && ! command -v tar",
            "kaizen cache store deps deps.lock -- deps"), first, CancellationToken.None);
        var two = await Executor(engine).RunAsync(Job("", "", null,
            "echo v1 > deps.lock && kaizen cache restore deps deps.lock -- deps",
            "cat deps/file") with { JobId = 4244 }, second, CancellationToken.None);

        Assert.True(one.Outcome == JobOutcome.Passed, one.Error + first.Log(null) + first.Log(0) + first.Log(1));
        Assert.Contains("cache: stored deps-", first.Log(1));
        Assert.True(two.Outcome == JobOutcome.Passed, two.Error + second.Log(0));
        Assert.Contains("cache: restored deps-", second.Log(0));
        Assert.Equal("cached\n", second.Log(1));
    }
}
