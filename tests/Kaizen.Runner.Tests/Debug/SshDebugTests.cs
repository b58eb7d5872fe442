using Kaizen.Runner.Checkout;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>SSH into debug sessions: the runner's real sshd, the real ssh client, real keys from ssh-keygen, a loopback portal.</summary>
public sealed class SshDebugTests : IAsyncLifetime
{
    private const string SshHost = "ci-runner.example";

    private readonly TempDirectory _work = new();
    private readonly TempDirectory _laptop = new();
    private readonly FakeTerminalPortal _portal = new();
    private readonly HttpClient _http = new();
    private readonly ListLogger _log = new();
    private readonly int _port = SshTestKit.FreePort();
    private SshServer? _ssh;
    private DebugSessions _sessions = null!;
    private JobExecutor _executor = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_ssh is not null)
        {
            await _ssh.DisposeAsync();
        }

        await _portal.DisposeAsync();
        _http.Dispose();
        _laptop.Dispose();
        _work.Dispose();
    }

    private async Task StartAsync()
    {
        SshTestKit.RequireSshd();
        _ssh = await SshServer.TryStartAsync(_work.Path, _port, SshHost, _log, CancellationToken.None);
        Assert.True(_ssh is not null, $"sshd did not start:\n{_log.Text}");
        var functions = new KaizenFunctions(_work.Path);
        _executor = new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path), functions: functions);
        _sessions = new DebugSessions(_executor, functions,
            id => new TerminalConnection(_http, _portal.Url, () => FakeTerminalPortal.Token, id), _log) { Ssh = _ssh };
    }

    private static JobAssignment Job(long sessionId, params string[] keys) => new(
        JobId: 40 + sessionId,
        BuildId: 12,
        ProjectSlug: "acme",
        JobName: "unit tests",
        GitUrl: "",
        Branch: "main",
        CommitSha: new string('a', 40),
        Commands: [new JobCommand(0, CommandPhase.Main, "make test")],
        Environment: new Dictionary<string, string> { ["GREETING"] = "hello from the job" },
        LeaseSeconds: 60,
        Debug: new DebugAssignment(sessionId, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds(), RunSetup: false, keys));

    private string Workspace(long sessionId) => new GitCheckout(_work.Path).DebugWorkspacePath(sessionId);

    [SkippableFact]
    public async Task A_users_key_opens_a_shell_in_the_sessions_environment_with_the_command_the_page_shows()
    {
        await StartAsync();
        var alice = await SshTestKit.MakeKeyAsync(_laptop.Path, "alice");

        var running = _sessions.RunAsync(Job(21, alice.PublicKey), CancellationToken.None);
        var terminal = await _portal.SessionAsync(21);
        var ready = await terminal.WaitForControlAsync(TerminalControl.Ready);
        using var login = SshTestKit.Login(alice.PrivateKey, _port, "21", "echo \"name=$KAIZEN_JOB_NAME|$GREETING\"; pwd; exit\n");

        Assert.Equal(0, await login.ExitAsync());
        Assert.Equal($"ssh -t -p {_port} {SshServer.User}@{SshHost} 21", ready.Ssh);
        Assert.Contains("name=unit tests|hello from the job", login.Output);
        Assert.Contains(Workspace(21), login.Output);
        Assert.Contains("kaizen debug session", login.Output);
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await running.WaitAsync(TerminalScreen.Patience);
    }

    [SkippableFact]
    public async Task Without_a_session_id_a_key_enters_its_only_open_session()
    {
        await StartAsync();
        var alice = await SshTestKit.MakeKeyAsync(_laptop.Path, "alice");
        var running = _sessions.RunAsync(Job(23, alice.PublicKey), CancellationToken.None);
        var terminal = await _portal.SessionAsync(23);
        await terminal.WaitForControlAsync(TerminalControl.Ready);

        using var login = SshTestKit.Login(alice.PrivateKey, _port, null, "echo \"job=$KAIZEN_JOB_ID\"; exit\n");

        Assert.Equal(0, await login.ExitAsync());
        Assert.Contains("job=63", login.Output);
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await running.WaitAsync(TerminalScreen.Patience);
    }

    [SkippableFact]
    public async Task Another_users_key_is_refused()
    {
        await StartAsync();
        var alice = await SshTestKit.MakeKeyAsync(_laptop.Path, "alice");
        var bob = await SshTestKit.MakeKeyAsync(_laptop.Path, "bob");
        var mallory = await SshTestKit.MakeKeyAsync(_laptop.Path, "mallory");
        var alices = _sessions.RunAsync(Job(24, alice.PublicKey), CancellationToken.None);
        var bobs = _sessions.RunAsync(Job(25, bob.PublicKey), CancellationToken.None);
        var aliceTerminal = await _portal.SessionAsync(24);
        var bobTerminal = await _portal.SessionAsync(25);
        await aliceTerminal.WaitForControlAsync(TerminalControl.Ready);
        await bobTerminal.WaitForControlAsync(TerminalControl.Ready);

        // Bob's key gets past sshd (his own session lists it) but not into Alice's session; Mallory's not even past sshd.
        using var bobIntoAlices = SshTestKit.Login(bob.PrivateKey, _port, "24", "echo \"in=$KAIZEN_JOB_ID\"; exit\n");
        using var malloryIntoAlices = SshTestKit.Login(mallory.PrivateKey, _port, "24", "echo \"in=$KAIZEN_JOB_ID\"; exit\n");

        Assert.NotEqual(0, await bobIntoAlices.ExitAsync());
        Assert.Contains("refused", bobIntoAlices.Output);
        Assert.DoesNotContain("in=64", bobIntoAlices.Output);
        Assert.NotEqual(0, await malloryIntoAlices.ExitAsync());
        Assert.Contains("Permission denied", malloryIntoAlices.Output);
        await aliceTerminal.SendAsync(new TerminalControl(TerminalControl.End));
        await bobTerminal.SendAsync(new TerminalControl(TerminalControl.End));
        await Task.WhenAll(alices, bobs).WaitAsync(TerminalScreen.Patience);
    }

    [SkippableFact]
    public async Task When_the_session_ends_its_ssh_shells_are_killed_and_the_key_no_longer_gets_in()
    {
        await StartAsync();
        var alice = await SshTestKit.MakeKeyAsync(_laptop.Path, "alice");
        var running = _sessions.RunAsync(Job(26, alice.PublicKey), CancellationToken.None);
        var terminal = await _portal.SessionAsync(26);
        await terminal.WaitForControlAsync(TerminalControl.Ready);
        using var staying = SshTestKit.Login(alice.PrivateKey, _port, "26", "echo \"in=$KAIZEN_JOB_ID\"; sleep 600 & wait\n");
        await staying.WaitForAsync("in=66");
        Assert.NotEmpty(TaggedProcesses.Find("debug-26-ssh"));

        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await running.WaitAsync(TerminalScreen.Patience);

        await staying.ExitAsync();
        Assert.Empty(TaggedProcesses.Find("debug-26-ssh"));
        using var again = SshTestKit.Login(alice.PrivateKey, _port, "26", "echo \"in=$KAIZEN_JOB_ID\"; exit\n");
        Assert.NotEqual(0, await again.ExitAsync());
        Assert.DoesNotContain("in=66", again.Output);
        Assert.False(Directory.Exists(Path.Combine(_work.Path, "ssh", "sessions", "26")));
        Assert.Equal("", await File.ReadAllTextAsync(Path.Combine(_work.Path, "ssh", "authorized_keys")));
    }

    [SkippableFact]
    public async Task A_shell_attached_to_a_running_job_is_reachable_over_ssh_until_the_job_ends()
    {
        await StartAsync();
        var alice = await SshTestKit.MakeKeyAsync(_laptop.Path, "alice");
        var job = Job(28, alice.PublicKey) with { JobId = 78, Debug = null, Commands = [new JobCommand(0, CommandPhase.Main, "echo main-started; sleep 300")] };
        using var cancel = new CancellationTokenSource();
        var output = new MemoryJobOutput();
        var run = _executor.RunAsync(job, output, cancel.Token);
        await output.WaitForAsync(0, "main-started");

        var attach = _sessions.AttachAsync(
            new AttachRequest(SessionId: 28, JobId: 78, DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeMilliseconds(), [alice.PublicKey]),
            CancellationToken.None);
        var terminal = await _portal.SessionAsync(28);
        Assert.Equal($"ssh -t -p {_port} {SshServer.User}@{SshHost} 28", (await terminal.WaitForControlAsync(TerminalControl.Ready)).Ssh);
        using var login = SshTestKit.Login(alice.PrivateKey, _port, "28", "echo \"attached=$KAIZEN_JOB_ID\"; pwd; sleep 600 & wait\n");
        await login.WaitForAsync("attached=78");
        await login.WaitForAsync(new GitCheckout(_work.Path).WorkspacePath(78));

        await cancel.CancelAsync();

        Assert.Equal(JobOutcome.Canceled, (await run.WaitAsync(TerminalScreen.Patience)).Outcome);
        await attach.WaitAsync(TerminalScreen.Patience);
        await login.ExitAsync();
        Assert.Empty(TaggedProcesses.Find("attach-28-ssh"));
    }

    [SkippableFact]
    public async Task Authorized_keys_has_one_forced_line_per_distinct_key_of_the_open_sessions()
    {
        await StartAsync();
        var alice = await SshTestKit.MakeKeyAsync(_laptop.Path, "alice");
        var bob = await SshTestKit.MakeKeyAsync(_laptop.Path, "bob");
        var first = _sessions.RunAsync(Job(29, alice.PublicKey, bob.PublicKey), CancellationToken.None);
        var second = _sessions.RunAsync(Job(30, alice.PublicKey), CancellationToken.None);
        var firstTerminal = await _portal.SessionAsync(29);
        var secondTerminal = await _portal.SessionAsync(30);
        await firstTerminal.WaitForControlAsync(TerminalControl.Ready);
        await secondTerminal.WaitForControlAsync(TerminalControl.Ready);

        var lines = (await File.ReadAllLinesAsync(Path.Combine(_work.Path, "ssh", "authorized_keys"))).Order().ToList();

        var enter = Path.Combine(_work.Path, "ssh", "enter");
        Assert.Equal(
            new[] { alice.PublicKey, bob.PublicKey }.Select(k => $"command=\"{enter}\",no-port-forwarding,no-agent-forwarding,no-X11-forwarding {SshServer.KeyOf(k)}").Order(),
            lines);
        await firstTerminal.SendAsync(new TerminalControl(TerminalControl.End));
        await first.WaitAsync(TerminalScreen.Patience);
        Assert.Single(await File.ReadAllLinesAsync(Path.Combine(_work.Path, "ssh", "authorized_keys")), l => l.EndsWith(SshServer.KeyOf(alice.PublicKey)!));
        await secondTerminal.SendAsync(new TerminalControl(TerminalControl.End));
        await second.WaitAsync(TerminalScreen.Patience);
    }

    [SkippableFact]
    public async Task A_session_without_keys_offers_no_ssh()
    {
        await StartAsync();

        var running = _sessions.RunAsync(Job(27), CancellationToken.None);
        var terminal = await _portal.SessionAsync(27);

        Assert.Null((await terminal.WaitForControlAsync(TerminalControl.Ready)).Ssh);
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await running.WaitAsync(TerminalScreen.Patience);
    }
}

/// <summary>A whole runner with and without <c>--ssh-port</c>, against a loopback portal.</summary>
public sealed class RunnerAgentSshTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private readonly TempDirectory _laptop = new();
    private readonly FakeTerminalPortal _portal = new();
    private readonly HttpClient _http = new();
    private readonly ListLogger _log = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    public Task InitializeAsync()
    {
        File.WriteAllText(_work.Combine("runner.json"), $"{{\"runnerId\":1,\"token\":\"{FakeTerminalPortal.Token}\"}}");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running.WaitAsync(TerminalScreen.Patience);
        await _portal.DisposeAsync();
        _http.Dispose();
        _laptop.Dispose();
        _work.Dispose();
    }

    private void StartRunner(int? sshPort) =>
        _running = new Runner.Agent.RunnerAgent(new Runner.Agent.RunnerOptions
        {
            PortalUrl = _portal.Url,
            WorkDirectory = _work.Path,
            DisableDocker = true,
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
            SshPort = sshPort,
            SshHost = "runner-7.example",
        }, _http, new SingleLoggerFactory(_log)).RunAsync(_stop.Token);

    private static JobAssignment Job(long sessionId, string key) => new(
        90 + sessionId, 4, "acme", "agent job", "", "main", new string('a', 40),
        [new JobCommand(0, CommandPhase.Main, "true")], new Dictionary<string, string>(), 60,
        Debug: new DebugAssignment(sessionId, DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds(), false, [key]));

    [SkippableFact]
    public async Task A_runner_with_an_ssh_port_sends_the_command_and_stops_its_sshd_when_it_stops()
    {
        SshTestKit.RequireSshd();
        var port = SshTestKit.FreePort();
        var alice = await SshTestKit.MakeKeyAsync(_laptop.Path, "alice");
        StartRunner(port);
        _portal.Assignments.Enqueue(Job(51, alice.PublicKey));

        var terminal = await _portal.SessionAsync(51);
        var ready = await terminal.WaitForControlAsync(TerminalControl.Ready);
        using var login = SshTestKit.Login(alice.PrivateKey, port, "51", "echo \"job=$KAIZEN_JOB_ID\"; exit\n");

        Assert.Equal($"ssh -t -p {port} {SshServer.User}@runner-7.example 51", ready.Ssh);
        Assert.Equal(0, await login.ExitAsync());
        Assert.Contains("job=141", login.Output);
        var pid = int.Parse(await File.ReadAllTextAsync(_work.Combine("ssh", "sshd.pid")));
        await _stop.CancelAsync();
        await _running.WaitAsync(TerminalScreen.Patience);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"sshd {pid} outlived the runner");
    }

    [Fact]
    public async Task A_runner_without_an_ssh_port_sends_no_command()
    {
        StartRunner(sshPort: null);
        _portal.Assignments.Enqueue(Job(52, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMw2ZhXJ0LtcCkJ2ZnCK7lU9sUNj1V1HcZxI1mH0S7y5 alice@laptop"));

        var terminal = await _portal.SessionAsync(52);

        Assert.Null((await terminal.WaitForControlAsync(TerminalControl.Ready)).Ssh);
        Assert.False(Directory.Exists(_work.Combine("ssh")));
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await terminal.WaitForControlAsync(TerminalControl.Ended);
    }

    [SkippableFact]
    public async Task A_runner_whose_sshd_cannot_start_says_so_once_and_runs_sessions_without_ssh()
    {
        SshTestKit.RequireSshd();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.IPv6Any, 0);
        taken.Server.DualMode = true;
        taken.Start();
        StartRunner(((System.Net.IPEndPoint)taken.LocalEndpoint).Port);
        _portal.Assignments.Enqueue(Job(53, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMw2ZhXJ0LtcCkJ2ZnCK7lU9sUNj1V1HcZxI1mH0S7y5 alice@laptop"));

        var terminal = await _portal.SessionAsync(53);

        Assert.Null((await terminal.WaitForControlAsync(TerminalControl.Ready)).Ssh);
        Assert.Single(_log.Text.Split('\n'), line => line.Contains("SSH for debug sessions is off: sshd exited at start") && line.Contains("Cannot bind any address"));
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));
        await terminal.WaitForControlAsync(TerminalControl.Ended);
    }
}
