namespace Kaizen.Runner.Execution;

/// <summary>
/// Runs jobs in a persistent bash on the runner's host: inside a job sandbox when the runner has one
/// (<see cref="ForJob"/> gives the executor of one job, with what its sandbox shows), else as the runner's user.
/// </summary>
public sealed class ShellExecutor : IExecutor, Debug.ITerminalHost
{
    private readonly Sandbox.JobSandbox? _sandbox;
    private readonly Sandbox.SandboxMounts? _mounts;

    public ShellExecutor()
    {
    }

    private ShellExecutor(Sandbox.JobSandbox sandbox, Sandbox.SandboxMounts mounts)
    {
        _sandbox = sandbox;
        _mounts = mounts;
    }

    public string Name => "shell";

    /// <summary>Whether this executor's shells run in a sandbox.</summary>
    public bool IsSandboxed => _sandbox is not null;

    /// <summary>The executor of one job whose shells run in <paramref name="sandbox"/> showing <paramref name="mounts"/>.</summary>
    public static ShellExecutor ForJob(Sandbox.JobSandbox sandbox, Sandbox.SandboxMounts mounts)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        ArgumentNullException.ThrowIfNull(mounts);
        return new ShellExecutor(sandbox, mounts);
    }

    public Task<IShellSession> StartSessionAsync(string workspace, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IShellSession>(BashSession.Start(workspace, environment, Wrapper()));
    }

    public Task<Debug.ITerminal> StartTerminalAsync(
        string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, Debug.TerminalSize size, string tag,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var tagged = new Dictionary<string, string>(environment, StringComparer.Ordinal) { [Debug.ITerminalHost.TagVariable] = tag };
        return Task.FromResult<Debug.ITerminal>(Debug.HostTerminal.Start(workspace, tagged, rcFile, size, Wrapper(rcFile)));
    }

    public Task<string> EntryScriptAsync(
        string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, string tag, CancellationToken cancellationToken) =>
        Task.FromResult(Debug.EntryScripts.Host(workspace, environment, rcFile, tag, Wrapper(rcFile)));

    public Task KillTaggedAsync(string tag) => Debug.TaggedProcesses.KillAsync(tag);

    /// <summary>How a command line is put in this job's sandbox (null: it runs as it is); <paramref name="extra"/> is a
    /// file the command needs to read besides what the job's sandbox shows (a debug shell's rc file).</summary>
    private Func<IReadOnlyList<string>, IReadOnlyList<string>>? Wrapper(string? extra = null)
    {
        if (_sandbox is not { } sandbox || _mounts is not { } mounts)
        {
            return null;
        }

        var shown = extra is null || mounts.ReadOnly.Contains(extra) ? mounts : mounts with { ReadOnly = [.. mounts.ReadOnly, extra] };
        return command => sandbox.Wrap(shown, command);
    }
}
