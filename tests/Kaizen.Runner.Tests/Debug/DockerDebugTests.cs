using Kaizen.Runner.Checkout;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Docker;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>Debug sessions of jobs that run in an image, on a real Docker daemon (skipped without one, unless KAIZEN_REQUIRE_DOCKER=1).</summary>
public sealed class DockerDebugTests : ContainerDebugFixture
{
    private Task<(JobExecutor Executor, DebugSessions Sessions)> StartAsync() => StartAsync(NullLogger.Instance);

    private static JobAssignment Job(string gitUrl, string sha, long jobId, string main, DebugAssignment? debug) => new(
        JobId: jobId,
        BuildId: 3,
        ProjectSlug: "acme",
        JobName: "in busybox",
        GitUrl: gitUrl,
        Branch: "main",
        CommitSha: sha,
        Commands:
        [
            new JobCommand(0, CommandPhase.Setup, PrepareSteps.Image(DockerTestImages.Busybox)),
            new JobCommand(1, CommandPhase.Setup, "export FROM_SETUP=set-in-container"),
            new JobCommand(2, CommandPhase.Main, main),
        ],
        Environment: new Dictionary<string, string> { ["GREETING"] = "hello from the job" },
        LeaseSeconds: 60,
        Image: DockerTestImages.Busybox,
        Debug: debug);

    [SkippableFact]
    public async Task A_debug_session_of_a_container_job_opens_a_shell_in_its_container()
    {
        var (_, sessions) = await StartAsync();
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("hello.txt", "hello from the repo\n"));
        var job = Job(repo.FileUrl, sha, 51, "touch main-ran",
            new DebugAssignment(SessionId: 21, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds(), RunSetup: true));
        var workspace = new GitCheckout(_work.Path).DebugWorkspacePath(21);

        var running = sessions.RunAsync(job, CancellationToken.None);
        var terminal = await _portal.SessionAsync(21);
        await terminal.SendAsync(new TerminalControl(TerminalControl.Resize, Cols: 90, Rows: 20));
        await terminal.WaitForControlAsync(TerminalControl.Ready);
        var prompt = await terminal.Screen.WaitForAsync("kaizen-debug");
        await terminal.TypeAsync("test -d /www && echo \"[container|$GREETING|$FROM_SETUP]\"; cat hello.txt; cat /dev/null; echo \"size=${COLUMNS}x$LINES\"; printf '\\e[32m%s\\e[0m\\n' green\r");

        await terminal.Screen.WaitForAsync("[container|hello from the job|set-in-container]", prompt);
        await terminal.Screen.WaitForAsync("hello from the repo", prompt);
        await terminal.Screen.WaitForAsync("size=90x20", prompt);
        await terminal.Screen.WaitForAsync("\u001b[32mgreen", prompt);
        Assert.False(File.Exists(Path.Combine(workspace, "main-ran")));
        Assert.Contains("touch main-ran", await File.ReadAllTextAsync(Path.Combine(workspace, DebugAssignment.CommandsFile)));

        await terminal.TypeAsync("echo started-$((1+2)); sleep 637; echo after-sleep\r");
        var typed = await terminal.Screen.WaitForAsync("started-3");
        await ForegroundProcess.WaitAsync(["sleep", "637"]);
        await terminal.TypeAsync("\u0003echo still-$((2+2))\r");
        await terminal.Screen.WaitForAsync("still-4", typed);

        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await running.WaitAsync(TerminalScreen.Patience);
        Assert.Equal(TerminalSession.EndedFromPortal, (await terminal.WaitForControlAsync(TerminalControl.Ended)).Reason);
        Assert.False(Directory.Exists(workspace));
        var left = await DockerTestImages.RunAsync("docker", "ps", "-aq", "--filter", $"label=kaizen.runner={_runnerId}", "--filter", "label=kaizen.job");
        Assert.Equal("", left.Output.Trim());
    }

    [SkippableFact]
    public async Task An_attached_shell_joins_the_running_job_in_its_container_and_ends_with_it()
    {
        var (executor, sessions) = await StartAsync();
        var job = Job("", new string('a', 40), 52, "echo main-started; sleep 300", debug: null);
        using var cancel = new CancellationTokenSource();
        var output = new MemoryJobOutput();
        var run = executor.RunAsync(job, output, cancel.Token);
        await output.WaitForAsync(2, "main-started");

        var attach = sessions.AttachAsync(
            new AttachRequest(SessionId: 22, JobId: 52, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds()), CancellationToken.None);
        var terminal = await _portal.SessionAsync(22);
        var prompt = await terminal.Screen.WaitForAsync("kaizen-debug");
        await terminal.TypeAsync("test -d /www && echo \"[attached|$KAIZEN_JOB_NAME]\"\r");
        await terminal.Screen.WaitForAsync("[attached|in busybox]", prompt);

        await cancel.CancelAsync();

        Assert.Equal(JobOutcome.Canceled, (await run.WaitAsync(TerminalScreen.Patience)).Outcome);
        await attach.WaitAsync(TerminalScreen.Patience);
        Assert.Equal(TerminalSession.JobFinished, (await terminal.WaitForControlAsync(TerminalControl.Ended)).Reason);
    }

    [SkippableFact]
    public async Task Ending_an_attached_shell_leaves_the_job_running()
    {
        var (executor, sessions) = await StartAsync();
        var job = Job("", new string('a', 40), 53, "echo main-started; sleep 5; echo main-done", debug: null);
        var output = new MemoryJobOutput();
        var run = executor.RunAsync(job, output, CancellationToken.None);
        await output.WaitForAsync(2, "main-started");

        var attach = sessions.AttachAsync(
            new AttachRequest(SessionId: 23, JobId: 53, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds()), CancellationToken.None);
        var terminal = await _portal.SessionAsync(23);
        await terminal.Screen.WaitForAsync("kaizen-debug");
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await attach.WaitAsync(TerminalScreen.Patience);

        Assert.Equal(JobOutcome.Passed, (await run.WaitAsync(TerminalScreen.Patience)).Outcome);
        Assert.Contains("main-done", output.Log(2));
    }
}
