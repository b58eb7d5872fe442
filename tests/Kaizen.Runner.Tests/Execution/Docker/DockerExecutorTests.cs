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
        (await DockerTestImages.RunAsync("docker", "ps", "-aq", "--filter", $"label=kaizen.runner={_runnerId}")).Output
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
}
