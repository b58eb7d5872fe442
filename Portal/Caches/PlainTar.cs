using System.IO.Pipelines;
using Kaizen.Portal.Storage;
using ZstdSharp;

namespace Kaizen.Portal.Caches;

/// <summary>
/// For jobs without the <c>zstd</c> program (minimal container images): <c>kaizen cache</c> then sends and receives a
/// plain tar (<c>?format=tar</c>) and the portal compresses and decompresses it with ZstdSharp, streaming, so what is
/// stored is the same zstd archive either way and every runner can restore it.
/// </summary>
public static class PlainTar
{
    public const string Format = "tar";

    /// <summary>The zstd level of archives the portal compresses (zstd's default: fast, and a good ratio).</summary>
    private const int Level = 3;

    /// <summary>
    /// <paramref name="tar"/> (a tar closed by <see cref="CacheService.CompleteMark"/>) as the zstd archive
    /// <c>kaizen cache store</c> would have sent: the tar compressed, then the mark when, and only when, the tar ended
    /// with it. Read the result to its end: a missing mark surfaces there as <see cref="CacheUploadIncompleteException"/>.
    /// </summary>
    public static Stream Compress(Stream tar, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tar);
        var pipe = new Pipe();
        _ = Task.Run(async () =>
        {
            try
            {
                var withheld = new WithholdingStream(tar, CacheService.CompleteMark.Length);
                var output = pipe.Writer.AsStream(leaveOpen: true);
                await using (var zstd = new CompressionStream(output, Level, leaveOpen: true))
                    await withheld.CopyToAsync(zstd, 1 << 20, ct);
                if (!withheld.Tail.SequenceEqual(CacheService.CompleteMark)) throw new CacheUploadIncompleteException();
                await output.WriteAsync(CacheService.CompleteMark.ToArray(), ct);
                await pipe.Writer.CompleteAsync();
            }
            catch (Exception ex)
            {
                await pipe.Writer.CompleteAsync(ex);
            }
        }, CancellationToken.None);
        return pipe.Reader.AsStream();
    }

    /// <summary>The tar inside a stored archive (the mark, a skippable frame, yields nothing).</summary>
    public static Stream Decompress(Stream archive) => new DecompressionStream(archive);

    /// <summary>Passes a stream through except its last <c>length</c> bytes, which <see cref="Tail"/> holds at the end.</summary>
    private sealed class WithholdingStream(Stream inner, int length) : ReadOnlyStream
    {
        private readonly byte[] _buffer = new byte[(1 << 20) + length];
        private int _count;

        /// <summary>The withheld bytes, once the inner stream ended (fewer when it was shorter).</summary>
        public ReadOnlySpan<byte> Tail => _buffer.AsSpan(0, Math.Min(_count, length));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var available = _count - length;
                if (available > 0)
                {
                    var n = Math.Min(available, buffer.Length);
                    _buffer.AsSpan(0, n).CopyTo(buffer.Span);
                    _buffer.AsSpan(n, _count - n).CopyTo(_buffer);
                    _count -= n;
                    return n;
                }
                var read = await inner.ReadAsync(_buffer.AsMemory(_count), cancellationToken);
                if (read == 0) return 0;
                _count += read;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }
}
