using Kaizen.Runner.Checkout;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>Debug sessions and attach end to end: a real checkout, real bash behind a real PTY, a loopback portal.</summary>
public sealed class DebugSessionTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private readonly FakeTerminalPortal _portal = new();
    private readonly HttpClient _http = new();
    private readonly KaizenFunctions _functions;
    private readonly JobExecutor _executor;
    private readonly DebugSessions _sessions;

    public DebugSessionTests()
    {
        _functions = new KaizenFunctions(_work.Path);
        _executor = new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path), functions: _functions);
        _sessions = new DebugSessions(_executor, _functions,
            id => new TerminalConnection(_http, _portal.Url, () => FakeTerminalPortal.Token, id), NullLogger.Instance);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _http.Dispose();
        _work.Dispose();
    }

    private static long InMinutes(int minutes) => DateTimeOffset.UtcNow.AddMinutes(minutes).ToUnixTimeMilliseconds();

    private static JobAssignment Job(string gitUrl, string sha, DebugAssignment? debug, string main = "touch main-ran", long jobId = 31) => new(
        JobId: jobId,
        BuildId: 12,
        ProjectSlug: "acme",
        JobName: "unit tests",
        GitUrl: gitUrl,
        Branch: "main",
        CommitSha: sha,
        Commands:
        [
            new JobCommand(0, CommandPhase.Setup, "export FROM_SETUP=set-by-setup; echo setup-ran"),
            new JobCommand(1, CommandPhase.Main, main),
            new JobCommand(2, CommandPhase.Epilogue, "touch epilogue-ran"),
        ],
        Environment: new Dictionary<string, string> { ["GREETING"] = "hello from the job" },
        LeaseSeconds: 60,
        Debug: debug);

    [Fact]
    public async Task A_debug_session_sets_the_job_up_writes_its_commands_and_opens_a_shell_until_the_portal_ends_it()
    {
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("hello.txt", "hello from the repo\n"));
        var job = Job(repo.FileUrl, sha, new DebugAssignment(SessionId: 5, InMinutes(10), RunSetup: true));
        var workspace = new GitCheckout(_work.Path).DebugWorkspacePath(5);

        var running = _sessions.RunAsync(job, CancellationToken.None);
        var terminal = await _portal.SessionAsync(5);
        await terminal.SendAsync(new TerminalControl(TerminalControl.Resize, Cols: 100, Rows: 30));
        await terminal.Screen.WaitForAsync("setup-ran\r\n");
        await terminal.WaitForControlAsync(TerminalControl.Ready);
        var prompt = await terminal.Screen.WaitForAsync("kaizen-debug");
        await terminal.TypeAsync("echo \"[$KAIZEN_JOB_NAME|$GREETING|$FROM_SETUP]\"; cat hello.txt; stty size\r");

        await terminal.Screen.WaitForAsync("[unit tests|hello from the job|set-by-setup]", prompt);
        await terminal.Screen.WaitForAsync("hello from the repo", prompt);
        await terminal.Screen.WaitForAsync("30 100", prompt);
        var commands = await File.ReadAllTextAsync(Path.Combine(workspace, DebugAssignment.CommandsFile));
        Assert.Contains("touch main-ran", commands);
        Assert.Contains("# export FROM_SETUP=set-by-setup; echo setup-ran", commands);
        Assert.Contains("touch epilogue-ran", commands);
        Assert.False(File.Exists(Path.Combine(workspace, "main-ran")));
        Assert.False(File.Exists(Path.Combine(workspace, "epilogue-ran")));
        Assert.Empty(await GitRepo.RunGitAsync(workspace, "status", "--porcelain"));

        await terminal.SendAsync(new TerminalControl(TerminalControl.End, Reason: "the user ended it"));

        await running.WaitAsync(TerminalScreen.Patience);
        Assert.Equal(TerminalSession.EndedFromPortal, (await terminal.WaitForControlAsync(TerminalControl.Ended)).Reason);
        await terminal.Closed.WaitAsync(TerminalScreen.Patience);
        Assert.False(Directory.Exists(workspace));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_functions.LibraryPath)!, "debug-*"));
    }

    [Fact]
    public async Task Without_setup_nothing_of_the_job_runs_and_exit_ends_the_session()
    {
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("hello.txt", "hello\n"));
        var job = Job(repo.FileUrl, sha, new DebugAssignment(SessionId: 6, InMinutes(10), RunSetup: false));

        var running = _sessions.RunAsync(job, CancellationToken.None);
        var terminal = await _portal.SessionAsync(6);
        var prompt = await terminal.Screen.WaitForAsync("kaizen-debug");
        await terminal.TypeAsync("echo \"[${FROM_SETUP:-no setup}]\"; exit\r");

        await terminal.Screen.WaitForAsync("[no setup]", prompt);
        await running.WaitAsync(TerminalScreen.Patience);
        Assert.Equal(TerminalSession.ShellExited, (await terminal.WaitForControlAsync(TerminalControl.Ended)).Reason);
        Assert.DoesNotContain("setup-ran\r\n", terminal.Screen.Text);
    }

    [Fact]
    public async Task A_failing_setup_command_is_shown_and_the_shell_opens_anyway()
    {
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("hello.txt", "hello\n"));
        var job = Job(repo.FileUrl, sha, new DebugAssignment(SessionId: 8, InMinutes(10), RunSetup: true)) is var j
            ? j with { Commands = [new JobCommand(0, CommandPhase.Setup, "echo about-to-fail; false"), .. j.Commands.Skip(1)] }
            : null!;

        var running = _sessions.RunAsync(job, CancellationToken.None);
        var terminal = await _portal.SessionAsync(8);

        var failed = await terminal.Screen.WaitForAsync("exit 1");
        await terminal.Screen.WaitForAsync("The shell opens anyway", failed);
        await terminal.WaitForControlAsync(TerminalControl.Ready);
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await running.WaitAsync(TerminalScreen.Patience);
    }

    [Fact]
    public async Task The_session_ends_when_its_deadline_passes()
    {
        var job = Job("", new string('a', 40), new DebugAssignment(SessionId: 9, InMinutes(10), RunSetup: false));

        var running = _sessions.RunAsync(job, CancellationToken.None);
        var terminal = await _portal.SessionAsync(9);
        await terminal.WaitForControlAsync(TerminalControl.Ready);
        await terminal.SendAsync(new TerminalControl(TerminalControl.Expires, At: DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

        await running.WaitAsync(TerminalScreen.Patience);
        Assert.Equal(TerminalSession.TimedOut, (await terminal.WaitForControlAsync(TerminalControl.Ended)).Reason);
    }

    [Fact]
    public async Task A_dropped_connection_is_reconnected_and_the_shell_lives_on()
    {
        var job = Job("", new string('a', 40), new DebugAssignment(SessionId: 10, InMinutes(10), RunSetup: false));

        var running = _sessions.RunAsync(job, CancellationToken.None);
        var terminal = await _portal.SessionAsync(10);
        await terminal.Screen.WaitForAsync("kaizen-debug");
        await terminal.TypeAsync("x=before-drop\r");
        await terminal.Screen.WaitForAsync("x=before-drop");
        terminal.Drop();
        var deadline = DateTime.UtcNow + TerminalScreen.Patience;
        while (terminal.Connects < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "The runner did not reconnect.");
            await Task.Delay(20);
        }

        await terminal.TypeAsync("echo \"[$x]\"\r");

        await terminal.Screen.WaitForAsync("[before-drop]");
        Assert.Equal(2, terminal.Controls.Count(c => c.Type == TerminalControl.Ready));
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await running.WaitAsync(TerminalScreen.Patience);
    }

    [Fact]
    public async Task A_session_whose_portal_stays_away_ends_and_cleans_up()
    {
        var portal = new FakeTerminalPortal();
        var sessions = new DebugSessions(_executor, _functions,
            id => new TerminalConnection(_http, portal.Url, () => FakeTerminalPortal.Token, id) { ReconnectWindow = TimeSpan.FromSeconds(2) },
            NullLogger.Instance);
        var job = Job("", new string('a', 40), new DebugAssignment(SessionId: 15, InMinutes(10), RunSetup: false));
        var running = sessions.RunAsync(job, CancellationToken.None);
        var terminal = await portal.SessionAsync(15);
        await terminal.Screen.WaitForAsync("kaizen-debug");

        await portal.DisposeAsync();
        terminal.Drop();

        await running.WaitAsync(TerminalScreen.Patience);
        Assert.False(Directory.Exists(new GitCheckout(_work.Path).DebugWorkspacePath(15)));
    }

    [Fact]
    public async Task A_session_outlives_the_timeout_of_the_http_client_it_connects_through()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var sessions = new DebugSessions(_executor, _functions,
            id => new TerminalConnection(http, _portal.Url, () => FakeTerminalPortal.Token, id), NullLogger.Instance);
        var job = Job("", new string('a', 40), new DebugAssignment(SessionId: 13, InMinutes(10), RunSetup: false));

        var running = sessions.RunAsync(job, CancellationToken.None);
        var terminal = await _portal.SessionAsync(13);
        await terminal.Screen.WaitForAsync("kaizen-debug");
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await terminal.TypeAsync("echo $((40+2))\r");

        await terminal.Screen.WaitForAsync("42\r\n");
        Assert.Equal(1, terminal.Connects);
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await running.WaitAsync(TerminalScreen.Patience);
    }

    [Fact]
    public async Task A_wrong_token_ends_the_session_without_retrying_for_long()
    {
        var sessions = new DebugSessions(_executor, _functions,
            id => new TerminalConnection(_http, _portal.Url, () => "not-the-token", id), NullLogger.Instance);
        var job = Job("", new string('a', 40), new DebugAssignment(SessionId: 14, InMinutes(10), RunSetup: false));

        await sessions.RunAsync(job, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, _portal.Unauthorized);
        Assert.False(Directory.Exists(new GitCheckout(_work.Path).DebugWorkspacePath(14)));
    }

    [Fact]
    public async Task An_attached_shell_sees_the_running_job_and_ends_with_it()
    {
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("hello.txt", "hello\n"));
        var job = Job(repo.FileUrl, sha, debug: null, main: "echo main-started; sleep 300", jobId: 77);
        using var cancel = new CancellationTokenSource();
        var output = new MemoryJobOutput();
        var run = _executor.RunAsync(job, output, cancel.Token);
        await output.WaitForAsync(1, "main-started");

        var attach = _sessions.AttachAsync(new AttachRequest(SessionId: 11, JobId: 77, InMinutes(10)), CancellationToken.None);
        var terminal = await _portal.SessionAsync(11);
        await terminal.WaitForControlAsync(TerminalControl.Ready);
        var prompt = await terminal.Screen.WaitForAsync("kaizen-debug");
        await terminal.TypeAsync("echo \"[$KAIZEN_JOB_NAME|$FROM_SETUP]\"; pwd\r");
        await terminal.Screen.WaitForAsync("[unit tests|]", prompt);
        await terminal.Screen.WaitForAsync(new GitCheckout(_work.Path).WorkspacePath(77), prompt);

        await cancel.CancelAsync();

        Assert.Equal(JobOutcome.Canceled, (await run.WaitAsync(TerminalScreen.Patience)).Outcome);
        await attach.WaitAsync(TerminalScreen.Patience);
        Assert.Equal(TerminalSession.JobFinished, (await terminal.WaitForControlAsync(TerminalControl.Ended)).Reason);
        Assert.Null(_executor.AttachPointOf(77));
    }

    [Fact]
    public async Task Attaching_to_a_job_that_is_not_running_here_ends_at_once()
    {
        await _sessions.AttachAsync(new AttachRequest(SessionId: 12, JobId: 404, InMinutes(10)), CancellationToken.None)
            .WaitAsync(TerminalScreen.Patience);

        var terminal = await _portal.SessionAsync(12);
        Assert.Equal(TerminalSession.JobNotRunning, (await terminal.WaitForControlAsync(TerminalControl.Ended)).Reason);
        Assert.DoesNotContain(terminal.Controls, c => c.Type == TerminalControl.Ready);
    }
}
