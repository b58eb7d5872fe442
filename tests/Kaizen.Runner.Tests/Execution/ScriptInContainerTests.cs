using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Docker;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

/// <summary>A shared script in a job that runs in a container (a busybox image without bash) on a real Docker daemon.</summary>
public sealed class ScriptInContainerTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private readonly string _runnerId = "test-" + Guid.NewGuid().ToString("N")[..12];
    private DockerEngine? _engine;

    public async Task InitializeAsync() =>
        _engine = (await DockerEngine.TryConnectAsync(new DockerOptions(), _runnerId, _work.Path)).Engine;

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.ReapLeftoversAsync();
            _engine.Dispose();
        }

        _work.Dispose();
    }

    [SkippableFact]
    public async Task A_script_runs_in_the_jobs_container_with_its_steps_timed()
    {
        // Arrange
        await DockerTestImages.RequireAsync();
        const string body = "echo \"in $(cat /etc/hostname | wc -c) chars of hostname, arg=$1\"\ntest -f /.dockerenv && echo container\nexit 5\necho never\n";
        var spans = BashSplitter.Split(body);
        var script = new ScriptCall("in-box", 1, "'one arg'", body, [.. spans.Select((s, k) => new ScriptStep(1 + k, s.Start))]);
        var job = new JobAssignment(
            JobId: 4343, BuildId: 8, ProjectSlug: "acme", JobName: "test", GitUrl: "", Branch: "main", CommitSha: "",
            Commands: [new JobCommand(0, CommandPhase.Main, "run-script in-box 'one arg'", script)],
            Environment: new Dictionary<string, string>(), LeaseSeconds: 60, Image: DockerTestImages.Busybox);
        var output = new MemoryJobOutput();

        // Act
        var result = await new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path)) { Docker = _engine }
            .RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal(["0:Finished:5", "1:Finished:0", "2:Finished:0", "3:Finished:5", "4:Skipped"], output.Summary());
        Assert.EndsWith("arg=one arg\n", output.Log(1));
        Assert.Equal("container\n", output.Log(2));
    }
}
