using Kaizen.Runner.Checkout;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Docker;
using Kaizen.Runner.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>
/// What debug tests of container jobs share: a work folder, a Docker engine labelled for this test class (its leftovers
/// reaped at the end), and a fake portal whose terminal WebSocket the sessions connect to.
/// </summary>
public abstract class ContainerDebugFixture : IAsyncLifetime
{
    protected readonly TempDirectory _work = new();
    protected readonly FakeTerminalPortal _portal = new();
    protected readonly string _runnerId = "test-" + Guid.NewGuid().ToString("N")[..12];
    private readonly HttpClient _http = new();
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
        await DisposeMoreAsync();
        if (_engine is not null)
        {
            await _engine.ReapLeftoversAsync();
            _engine.Dispose();
        }

        await _portal.DisposeAsync();
        _http.Dispose();
        _work.Dispose();
    }

    /// <summary>What a test class adds to clean up, before the containers go.</summary>
    protected virtual Task DisposeMoreAsync() => Task.CompletedTask;

    /// <summary>A job executor with this Docker engine and the debug sessions that use it (SSH when <paramref name="ssh"/> is given).</summary>
    protected async Task<(JobExecutor Executor, DebugSessions Sessions)> StartAsync(ILogger log, SshServer? ssh = null)
    {
        await DockerTestImages.RequireAsync();
        var functions = new KaizenFunctions(_work.Path);
        var executor = new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path), functions: functions) { Docker = _engine };
        var sessions = new DebugSessions(executor, functions,
            id => new TerminalConnection(_http, _portal.Url, () => FakeTerminalPortal.Token, id), log) { Ssh = ssh };
        return (executor, sessions);
    }
}
