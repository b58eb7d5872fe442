using Kaizen.Runner.Agent;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>A whole runner (claims, heartbeats) against a loopback portal: how it treats debug assignments and attach requests.</summary>
public sealed class RunnerAgentDebugTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private readonly FakeTerminalPortal _portal = new();
    private readonly HttpClient _http = new();
    private readonly CancellationTokenSource _stop = new();
    private RunnerAgent _agent = null!;
    private Task _running = Task.CompletedTask;

    public Task InitializeAsync()
    {
        // Registered already: the runner finds its token where it keeps it.
        File.WriteAllText(_work.Combine("runner.json"), $"{{\"runnerId\":1,\"token\":\"{FakeTerminalPortal.Token}\"}}");
        _agent = new RunnerAgent(new RunnerOptions
        {
            PortalUrl = _portal.Url,
            WorkDirectory = _work.Path,
            DisableDocker = true,
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        }, _http, NullLoggerFactory.Instance);
        _running = _agent.RunAsync(_stop.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running.WaitAsync(TerminalScreen.Patience);
        await _portal.DisposeAsync();
        _http.Dispose();
        _work.Dispose();
    }

    private static JobAssignment Job(long jobId, string main, DebugAssignment? debug = null) => new(
        jobId, 4, "acme", "agent job", "", "main", new string('a', 40),
        [new JobCommand(0, CommandPhase.Main, main)], new Dictionary<string, string>(), 60, Debug: debug);

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TerminalScreen.Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_claimed_debug_session_holds_the_slot_and_reports_nothing_to_the_job()
    {
        _portal.Assignments.Enqueue(Job(61, "touch ran", new DebugAssignment(41, DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds(), false)));
        _portal.Assignments.Enqueue(Job(62, "echo next-job"));

        var terminal = await _portal.SessionAsync(41);
        var prompt = await terminal.Screen.WaitForAsync("kaizen-debug");
        await terminal.TypeAsync("echo \"[$KAIZEN_JOB_ID]\"\r");
        await terminal.Screen.WaitForAsync("[61]", prompt);
        Assert.Single(_portal.Assignments); // the one slot is busy with the session
        await terminal.SendAsync(new TerminalControl(TerminalControl.End));

        await terminal.WaitForControlAsync(TerminalControl.Ended);
        await UntilAsync(() => _portal.JobCalls.Any(c => c.EndsWith("/jobs/62/complete")), "The next job did not run after the session.");
        Assert.DoesNotContain(_portal.JobCalls, c => c.Contains("/jobs/61/"));
    }

    [Fact]
    public async Task An_attach_request_in_a_heartbeat_opens_a_shell_in_the_running_job()
    {
        _portal.Assignments.Enqueue(Job(63, "echo started; sleep 300"));
        await UntilAsync(() => _agent.RunningJobs.Contains(63), "The job did not start.");

        _portal.Attaches.Enqueue(new AttachRequest(42, 63, DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds()));
        var terminal = await _portal.SessionAsync(42);
        var prompt = await terminal.Screen.WaitForAsync("kaizen-debug");
        await terminal.TypeAsync("echo \"[$KAIZEN_JOB_ID]\"\r");
        await terminal.Screen.WaitForAsync("[63]", prompt);
        _portal.Cancels.Enqueue(63);

        Assert.Equal(TerminalSession.JobFinished, (await terminal.WaitForControlAsync(TerminalControl.Ended)).Reason);
        await UntilAsync(() => _portal.JobCalls.Any(c => c.EndsWith("/jobs/63/complete")), "The job did not complete.");
    }
}
