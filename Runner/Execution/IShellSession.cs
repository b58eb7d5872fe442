namespace Kaizen.Runner.Execution;

/// <summary>How one command ended.</summary>
/// <param name="ExitCode">The command's exit status; when <paramref name="SessionEnded"/>, the shell's own exit status.</param>
/// <param name="Duration">From sending the command to seeing its end.</param>
/// <param name="SessionEnded">The shell is gone (the command ran <c>exit</c>, or <c>set -e</c> tripped): later commands need a new session.</param>
public sealed record CommandResult(int ExitCode, TimeSpan Duration, bool SessionEnded = false);

/// <summary>
/// One long-lived shell for a job: working directory, exported variables, shell variables and functions carry over
/// from one command to the next as in a terminal. Commands run one at a time.
/// </summary>
public interface IShellSession : IAsyncDisposable
{
    /// <summary>False once the shell has exited or was killed.</summary>
    bool IsAlive { get; }

    /// <summary>
    /// Runs <paramref name="command"/> (any text, multi-line allowed) with stdin from /dev/null. Output (stdout and
    /// stderr interleaved, raw bytes) goes to <paramref name="onOutput"/> as slices of a reused buffer: copy what you
    /// keep; awaiting slows the command down (back-pressure). Cancellation kills the shell and everything it started,
    /// then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<CommandResult> RunAsync(string command, Func<ReadOnlyMemory<byte>, ValueTask> onOutput, CancellationToken cancellationToken);
}
