namespace Kaizen.Runner.Execution;

/// <summary>
/// An <see cref="IJobOutput"/> that masks a job's secrets in every byte before it reaches <paramref name="inner"/>.
/// Output arrives as one stream in order (checkout, then command after command), so one <see cref="SecretMasker.Filter"/>
/// serves it all: the bytes it holds back belong to the command that wrote them, and are sent before output of another
/// command, before any command event, and on <see cref="FlushAsync"/> (end of a command or of the job), so nothing is
/// attributed to the wrong command, reordered around its events, or lost.
/// </summary>
public sealed class MaskingJobOutput(IJobOutput inner, SecretMasker masker) : IJobOutput
{
    /// <summary>Large writes are masked in pieces of this size, which bounds the filter's buffers.</summary>
    private const int PieceSize = 64 * 1024;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SecretMasker.Filter _filter = masker.CreateFilter();
    private int? _pendingIndex;

    public SecretMasker Masker => masker;

    public async ValueTask WriteAsync(int? commandIndex, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_pendingIndex != commandIndex)
            {
                await FlushHeldAsync(cancellationToken).ConfigureAwait(false);
                _pendingIndex = commandIndex;
            }

            for (var offset = 0; offset < data.Length; offset += PieceSize)
            {
                var masked = _filter.Write(data.Span.Slice(offset, Math.Min(PieceSize, data.Length - offset)));
                if (!masked.IsEmpty)
                {
                    await inner.WriteAsync(commandIndex, masked, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends the bytes held back (the end of the current command's or the checkout's output).</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await FlushHeldAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void CommandStarted(int index, long atUnixMs)
    {
        FlushBeforeEvent();
        inner.CommandStarted(index, atUnixMs);
    }

    public void CommandFinished(int index, int exitCode, long durationMs, long atUnixMs)
    {
        FlushBeforeEvent();
        inner.CommandFinished(index, exitCode, durationMs, atUnixMs);
    }

    public void CommandSkipped(int index, long atUnixMs)
    {
        FlushBeforeEvent();
        inner.CommandSkipped(index, atUnixMs);
    }

    private async ValueTask FlushHeldAsync(CancellationToken cancellationToken)
    {
        if (_filter.Pending == 0)
        {
            return;
        }

        var held = _filter.Flush();
        await inner.WriteAsync(_pendingIndex, held, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Events are synchronous, so held-back bytes are sent here without awaiting. <see cref="JobExecutor"/> flushes
    /// before every event, which makes this a no-op; it only waits if a caller forgot to.
    /// </summary>
    private void FlushBeforeEvent()
    {
        _gate.Wait();
        try
        {
            if (_filter.Pending > 0)
            {
                FlushHeldAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
