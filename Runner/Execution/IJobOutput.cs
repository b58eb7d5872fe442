namespace Kaizen.Runner.Execution;

/// <summary>
/// Where a running job reports what happens: raw output bytes per command and command lifecycle events.
/// The network implementation batches these into ordered stream uploads; tests use an in-memory one.
/// </summary>
public interface IJobOutput
{
    /// <summary>Raw output of command <paramref name="commandIndex"/> (null: job-level output such as checkout).
    /// May wait when the consumer is behind, which in turn slows the producing process (back-pressure).</summary>
    ValueTask WriteAsync(int? commandIndex, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    void CommandStarted(int index, long atUnixMs);

    void CommandFinished(int index, int exitCode, long durationMs, long atUnixMs);

    void CommandSkipped(int index, long atUnixMs);
}
