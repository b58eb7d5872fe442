namespace Kaizen.Runner.Execution;

/// <summary>Where a job's commands run: a shell on the host, or (later) a container. One step path for all of them.</summary>
public interface IExecutor
{
    /// <summary>The name runners register with (<c>shell</c>, <c>docker</c>).</summary>
    string Name { get; }

    /// <summary>Starts a session in <paramref name="workspace"/> with <paramref name="environment"/> merged over the runner's own.</summary>
    Task<IShellSession> StartSessionAsync(string workspace, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken);
}
