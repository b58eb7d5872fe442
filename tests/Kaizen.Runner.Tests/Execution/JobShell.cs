using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

/// <summary>
/// A job's shell as <see cref="JobExecutor"/> prepares it, without git: a real bash with the runner's cache and tool
/// variables, the <c>kaizen</c> library sourced, in a fresh workspace holding the given files.
/// </summary>
internal sealed class JobShell : IAsyncDisposable
{
    private readonly BashSession _session;

    private JobShell(BashSession session, string workspace)
    {
        _session = session;
        Workspace = workspace;
    }

    public string Workspace { get; }

    public string Combine(params string[] parts) => Path.Combine([Workspace, .. parts]);

    public static async Task<JobShell> StartAsync(KaizenFunctions functions, string workspace, params (string Path, string Content)[] files)
    {
        Directory.CreateDirectory(workspace);
        foreach (var (path, content) in files)
        {
            File.WriteAllText(Path.Combine(workspace, path), content);
        }

        var environment = new Dictionary<string, string> { ["KAIZEN_WORKSPACE"] = workspace };
        functions.AddTo(environment);
        functions.EnsureWritten();
        var shell = new JobShell(BashSession.Start(workspace, environment), workspace);
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

    public ValueTask DisposeAsync() => _session.DisposeAsync();
}
