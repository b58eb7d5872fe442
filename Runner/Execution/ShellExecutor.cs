namespace Kaizen.Runner.Execution;

/// <summary>Runs jobs in a persistent bash on the runner's host.</summary>
public sealed class ShellExecutor : IExecutor
{
    public string Name => "shell";

    public Task<IShellSession> StartSessionAsync(string workspace, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IShellSession>(BashSession.Start(workspace, environment));
    }
}
