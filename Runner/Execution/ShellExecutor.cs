namespace Kaizen.Runner.Execution;

/// <summary>Runs jobs in a persistent bash on the runner's host.</summary>
public sealed class ShellExecutor : IExecutor, Debug.ITerminalHost
{
    public string Name => "shell";

    public Task<IShellSession> StartSessionAsync(string workspace, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IShellSession>(BashSession.Start(workspace, environment));
    }

    public Task<Debug.ITerminal> StartTerminalAsync(
        string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, Debug.TerminalSize size, string tag,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var tagged = new Dictionary<string, string>(environment, StringComparer.Ordinal) { [Debug.ITerminalHost.TagVariable] = tag };
        return Task.FromResult<Debug.ITerminal>(Debug.HostTerminal.Start(workspace, tagged, rcFile, size));
    }

    public Task<string> EntryScriptAsync(
        string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, string tag, CancellationToken cancellationToken) =>
        Task.FromResult(Debug.EntryScripts.Host(workspace, environment, rcFile, tag));

    public Task KillTaggedAsync(string tag) => Debug.TaggedProcesses.KillAsync(tag);
}
