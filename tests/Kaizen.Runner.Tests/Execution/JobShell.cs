using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

/// <summary>
/// A job's shell as <see cref="JobExecutor"/> prepares it for a job without a sandbox, without git: a real bash with
/// the runner's cache and tool variables, the <c>kaizen</c> library sourced, its calls answered by a real
/// <see cref="Kaizen.Runner.Execution.Docker.KaizenForwarder"/>, in a fresh workspace holding the given files.
/// </summary>
internal sealed class JobShell : IAsyncDisposable
{
    private readonly BashSession _session;
    private readonly Kaizen.Runner.Execution.Docker.KaizenForwarder _forwarder;

    private JobShell(BashSession session, Kaizen.Runner.Execution.Docker.KaizenForwarder forwarder, string workspace)
    {
        _session = session;
        _forwarder = forwarder;
        Workspace = workspace;
    }

    public string Workspace { get; }

    public string Combine(params string[] parts) => Path.Combine([Workspace, .. parts]);

    public static Task<JobShell> StartAsync(KaizenFunctions functions, string workspace, params (string Path, string Content)[] files) =>
        StartAsync(functions, workspace, token: null, files);

    /// <param name="token">The job's token for the portal (held by the runner's side of the calls).</param>
    public static async Task<JobShell> StartAsync(KaizenFunctions functions, string workspace, string? token, params (string Path, string Content)[] files)
    {
        Directory.CreateDirectory(workspace);
        foreach (var (path, content) in files)
        {
            File.WriteAllText(Path.Combine(workspace, path), content);
        }

        var environment = new Dictionary<string, string> { ["KAIZEN_WORKSPACE"] = workspace };
        functions.AddTo(environment);
        functions.EnsureWritten();
        var control = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(functions.LibraryPath)!)!, "control", Guid.NewGuid().ToString("N"));
        var forwarder = Kaizen.Runner.Execution.Docker.KaizenForwarder.Start(
            control, token is null ? environment : new Dictionary<string, string>(environment) { [KaizenFunctions.JobTokenVariable] = token });
        environment["KAIZEN_CONTROL_DIR"] = control;
        var shell = new JobShell(BashSession.Start(workspace, environment), forwarder, workspace);
        var sourced = await shell.RunAsync(functions.SourceCommand);
        Assert.Equal((0, ""), sourced);
        return shell;
    }

    public async Task<(int ExitCode, string Output)> RunAsync(string command)
    {
        var output = new OutputCollector();
        var result = await _session.RunAsync(command, output.Write, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        return (result.ExitCode, output.Text);
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        await _forwarder.DisposeAsync();
    }
}
