using Kaizen.Runner.Checkout;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Docker;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>SSH into sessions of container jobs: the runner's sshd, then <c>docker exec -it</c> into the job's container on a
/// real daemon (skipped without Docker or OpenSSH, unless KAIZEN_REQUIRE_DOCKER=1 / KAIZEN_REQUIRE_TOOLCHAINS=1).</summary>
public sealed class SshDockerDebugTests : ContainerDebugFixture
{
    private readonly TempDirectory _laptop = new();
    private readonly ListLogger _log = new();
    private readonly int _port = SshTestKit.FreePort();
    private SshServer? _ssh;

    protected override async Task DisposeMoreAsync()
    {
        if (_ssh is not null)
        {
            await _ssh.DisposeAsync();
        }

        _laptop.Dispose();
    }

    private async Task<(JobExecutor Executor, DebugSessions Sessions)> StartAsync()
    {
        SshTestKit.RequireSshd();
        await DockerTestImages.RequireAsync();
        _ssh = await SshServer.TryStartAsync(_work.Path, _port, "localhost", _log, CancellationToken.None);
        Assert.True(_ssh is not null, $"sshd did not start:\n{_log.Text}");
        return await StartAsync(_log, _ssh);
    }

    private static JobAssignment Job(long jobId, string main, DebugAssignment? debug) => new(
        JobId: jobId,
        BuildId: 3,
        ProjectSlug: "acme",
        JobName: "in busybox",
        GitUrl: "",
        Branch: "main",
        CommitSha: new string('a', 40),
        Commands:
        [
            new JobCommand(0, CommandPhase.Setup, PrepareSteps.Image(DockerTestImages.Busybox)),
            new JobCommand(1, CommandPhase.Main, main),
        ],
        Environment: new Dictionary<string, string> { ["GREETING"] = "hello from the job" },
        LeaseSeconds: 60,
        Image: DockerTestImages.Busybox,
        Debug: debug);

    [SkippableFact]
    public async Task Ssh_into_a_container_session_opens_a_shell_in_the_jobs_container()
    {
        var (_, sessions) = await StartAsync();
        var alice = await SshTestKit.MakeKeyAsync(_laptop.Path, "alice");
        var job = Job(54, "true", new DebugAssignment(31, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds(), RunSetup: false, [alice.PublicKey]));

        var running = sessions.RunAsync(job, CancellationToken.None);
        var terminal = await _portal.SessionAsync(31);
        await terminal.WaitForControlAsync(TerminalControl.Ready);
        using var login = SshTestKit.Login(alice.PrivateKey, _port, "31", "test -d /www && echo \"[container|$GREETING|$KAIZEN_JOB_NAME]\"; pwd; exit\n");

        Assert.Equal(0, await login.ExitAsync());
        Assert.Contains("[container|hello from the job|in busybox]", login.Output);
        Assert.Contains(new GitCheckout(_work.Path).DebugWorkspacePath(31), login.Output);
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await running.WaitAsync(TerminalScreen.Patience);
    }

    [SkippableFact]
    public async Task Ending_an_attached_session_kills_its_ssh_shells_in_the_container_and_the_job_goes_on()
    {
        var (executor, sessions) = await StartAsync();
        var alice = await SshTestKit.MakeKeyAsync(_laptop.Path, "alice");
        var job = Job(55, "echo main-started; until [ -e stop ]; do sleep 0.1; done; echo main-done", debug: null);
        var output = new MemoryJobOutput();
        var run = executor.RunAsync(job, output, CancellationToken.None);
        await output.WaitForAsync(1, "main-started");

        var attach = sessions.AttachAsync(
            new AttachRequest(32, 55, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds(), [alice.PublicKey]), CancellationToken.None);
        var terminal = await _portal.SessionAsync(32);
        await terminal.WaitForControlAsync(TerminalControl.Ready);
        using var login = SshTestKit.Login(alice.PrivateKey, _port, "32", "test -d /www && echo \"[in-container|$KAIZEN_JOB_ID]\"; sleep 600\n");
        await login.WaitForAsync("[in-container|55]");

        Assert.Contains("left:", await TaggedInContainerAsync());

        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await attach.WaitAsync(TerminalScreen.Patience);

        await login.ExitAsync();
        Assert.Empty(TaggedProcesses.Find("attach-32-ssh"));
        Assert.DoesNotContain("left:", await TaggedInContainerAsync());
        await File.WriteAllTextAsync(Path.Combine(new GitCheckout(_work.Path).WorkspacePath(55), "stop"), "");
        Assert.Equal(JobOutcome.Passed, (await run.WaitAsync(TerminalScreen.Patience)).Outcome);
        Assert.Contains("main-done", output.Log(1));
    }

    /// <summary>The processes of job 55's container tagged as the SSH shells of session 32 ("left: /proc/PID" lines).</summary>
    private async Task<string> TaggedInContainerAsync()
    {
        var container = (await DockerTestImages.RunAsync("docker", "ps", "-q", "--filter", $"label=kaizen.runner={_runnerId}", "--filter", "label=kaizen.job=55"))
            .Output.Trim();
        Assert.NotEqual("", container);
        var tagged = await DockerTestImages.RunAsync("docker", "exec", container, DockerOptions.ContainerBash, "-c",
            "for p in /proc/[0-9]*; do mapfile -d '' -t e < $p/environ 2>/dev/null; for v in \"${e[@]}\"; do " +
            "[[ $v == KAIZEN_TERMINAL=attach-32-ssh ]] && echo \"left: $p\"; done; done; true");
        return tagged.Output;
    }
}
