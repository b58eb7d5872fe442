namespace Kaizen.Runner.Debug;

/// <summary>A terminal's size in character cells.</summary>
public readonly record struct TerminalSize(int Cols, int Rows)
{
    /// <summary>What programs see until the browser says otherwise.</summary>
    public static TerminalSize Default { get; } = new(80, 24);

    /// <summary>Sizes from the browser are clamped to what a PTY can hold and a person can use.</summary>
    public TerminalSize Clamped() => new(Math.Clamp(Cols, 2, 1000), Math.Clamp(Rows, 2, 500));
}

/// <summary>
/// An interactive shell behind a real terminal (a PTY on the host, or a TTY <c>docker exec</c> in a job's container):
/// raw bytes out and in, a size, an end. Output carries the shell's colours and control sequences untouched, and
/// input goes through the terminal's line discipline, so Ctrl-C (0x03) interrupts the foreground program.
/// </summary>
public interface ITerminal : IAsyncDisposable
{
    /// <summary>Reads what the terminal printed into <paramref name="buffer"/>; 0 once the shell and everything
    /// holding the terminal have exited.</summary>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Types <paramref name="data"/>; ignored once the shell has exited.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    Task ResizeAsync(TerminalSize size, CancellationToken cancellationToken);

    /// <summary>Completes with the shell's exit status when it exits.</summary>
    Task<int> Exited { get; }

    /// <summary>Hangs up the shell and kills what it started (never the job's own processes); safe to call twice.</summary>
    Task KillAsync();
}

/// <summary>An executor that can open an interactive shell in a job's environment, next to (not instead of) the
/// job's own shell: the host for the shell executor, the job's container for the Docker one.</summary>
public interface ITerminalHost
{
    /// <summary>Starts <c>bash --rcfile <paramref name="rcFile"/> -i</c> in <paramref name="workspace"/> with
    /// <paramref name="environment"/> (the job's) plus <c>TERM</c>, at <paramref name="size"/>.
    /// <paramref name="tag"/> is set in the shell's environment as <see cref="TagVariable"/> (it finds the shell's processes).</summary>
    Task<ITerminal> StartTerminalAsync(
        string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, TerminalSize size, string tag, CancellationToken cancellationToken);

    /// <summary>
    /// A bash script that, run on the runner's host by a login with a terminal (an SSH login), opens another
    /// <c>bash --rcfile <paramref name="rcFile"/> -i</c> in the same environment as <see cref="StartTerminalAsync"/> would
    /// (on the host, or a <c>docker exec -it</c> into the job's container), tagged with <paramref name="tag"/>.
    /// It holds the job's variables: keep it private to the runner's user.
    /// </summary>
    Task<string> EntryScriptAsync(
        string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, string tag, CancellationToken cancellationToken);

    /// <summary>Hangs up, then kills, every process tagged with <paramref name="tag"/> (and what it started), wherever
    /// this host runs shells; for shells the runner did not start itself (<see cref="EntryScriptAsync"/>).</summary>
    Task KillTaggedAsync(string tag);

    /// <summary>The variable naming the terminal a process belongs to.</summary>
    public const string TagVariable = "KAIZEN_TERMINAL";

    /// <summary>A folder the terminal's shell can read, for its rc file (a container's control folder, mounted in it);
    /// null: the runner's own debug folder, which a host shell (or its sandbox) is shown the file from.</summary>
    string? RcDirectory => null;
}
