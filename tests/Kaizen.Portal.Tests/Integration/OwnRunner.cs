using Kaizen.Runner.Agent;
using Kaizen.Runner.Execution.Docker;
using Microsoft.Extensions.Logging;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// A runner a test starts and stops itself (<see cref="PortalHost.StartRunner"/>'s stop with their portal): one that
/// outlives a portal restart, or that stops in the middle of a test. Same library as kaizen-runner.
/// </summary>
public sealed class OwnRunner : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(100) };
    private readonly Kaizen.Runner.Tests.Debug.ListLogger _log = new();
    private readonly ILoggerFactory _loggers;
    private readonly Task _running;

    private OwnRunner(RunnerOptions options)
    {
        _loggers = new Kaizen.Runner.Tests.Debug.SingleLoggerFactory(_log);
        Agent = new RunnerAgent(options, _http, _loggers);
        _running = Task.Run(() => Agent.RunAsync(_stop.Token));
    }

    public RunnerAgent Agent { get; }

    /// <summary>What the runner logged so far, one line per entry (for a failing test's message).</summary>
    public string Log => _log.Text;

    /// <summary>The runner's run: it ends when the runner stops (by itself, e.g. when revoked, or by <see cref="StopAsync"/>).</summary>
    public Task RunningTask => _running;

    /// <param name="docker">Offer the Docker executor when a daemon answers.</param>
    public static OwnRunner Start(Uri portalUrl, string name, string workDirectory, bool docker = true,
        PullPolicy pullPolicy = PullPolicy.IfMissing) => new(new RunnerOptions
    {
        PortalUrl = portalUrl,
        RegistrationToken = PortalHost.RegistrationToken,
        Name = name,
        WorkDirectory = workDirectory,
        HeartbeatInterval = TimeSpan.FromMilliseconds(500),
        // Stands for a sandboxed runner, as PortalHost's runners do.
        DisableDocker = !docker,
        Docker = new DockerOptions { PullPolicy = pullPolicy },
    });

    /// <summary>Stops the runner and waits until it has (its warm containers are removed as it stops).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _running.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_running.IsCompleted) await StopAsync();
        _stop.Dispose();
        _http.Dispose();
        _loggers.Dispose();
    }
}
