using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using Kaizen.Portal.Data;
using Kaizen.Portal.Logs;

namespace Kaizen.Portal.Builds;

public sealed class LogChunkRow
{
    public long Seq { get; init; }
    public int Part { get; init; }
    public int? CommandIdx { get; init; }
    public byte[] Data { get; init; } = [];
}

/// <summary>Reads job logs. Output is stored as the runner sent it (any bytes); readers get valid UTF-8.</summary>
public sealed class LogStore(Database db)
{
    /// <summary>Writes the whole log of a job as UTF-8 text (invalid bytes become U+FFFD), without holding it in memory.</summary>
    public async Task WriteTextAsync(long jobId, Stream output, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var reader = await c.ExecuteReaderAsync(new CommandDefinition(LogSql.Data, new { JobId = jobId }, cancellationToken: ct));
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var chars = new char[64 * 1024];
        var bytes = new byte[Encoding.UTF8.GetMaxByteCount(chars.Length)];
        while (await reader.ReadAsync(ct))
        {
            var data = (byte[])reader[0];
            var offset = 0;
            while (offset < data.Length)
            {
                var take = Math.Min(chars.Length / 2, data.Length - offset);
                var n = decoder.GetChars(data, offset, take, chars, 0, flush: false);
                offset += take;
                var written = Encoding.UTF8.GetBytes(chars, 0, n, bytes, 0);
                await output.WriteAsync(bytes.AsMemory(0, written), ct);
            }
        }
        var tail = decoder.GetChars([], 0, 0, chars, 0, flush: true);
        if (tail > 0)
        {
            var written = Encoding.UTF8.GetBytes(chars, 0, tail, bytes, 0);
            await output.WriteAsync(bytes.AsMemory(0, written), ct);
        }
    }

    /// <summary>Chunks after <paramref name="afterSeq"/>, for pages that follow a running job.</summary>
    public async Task<IReadOnlyList<LogChunkRow>> ChunksAfterAsync(long jobId, long afterSeq, CancellationToken ct)
    {
        await using DbConnection c = await db.OpenAsync(ct);
        return (await c.QueryAsync<LogChunkRow>(LogSql.After, new { JobId = jobId, AfterSeq = afterSeq })).AsList();
    }

    /// <summary>Jobs running now (their logs are growing).</summary>
    public async Task<IReadOnlyList<long>> RunningJobIdsAsync(CancellationToken ct)
    {
        await using DbConnection c = await db.OpenAsync(ct);
        return (await c.QueryAsync<long>(new CommandDefinition(LogSql.Running, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Streams chunks in order, one at a time, from chunk <paramref name="from"/> (its seq and part; with
    /// <paramref name="fromInclusive"/> false, only those after it) up to and including chunk <paramref name="until"/>
    /// when given. Nothing but the current chunk is held.
    /// </summary>
    public async IAsyncEnumerable<LogChunkRow> StreamChunksAsync(long jobId, LogPosition from, bool fromInclusive, LogPosition? until,
        [EnumeratorCancellation] CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var args = new
        {
            JobId = jobId,
            FromSeq = from.Seq,
            FromPart = fromInclusive ? from.Part : from.Part + 1,
            UntilSeq = until?.Seq ?? long.MaxValue,
            UntilPart = until?.Part ?? int.MaxValue,
        };
        await using var reader = await c.ExecuteReaderAsync(new CommandDefinition(LogSql.Range, args, cancellationToken: ct));
        while (await reader.ReadAsync(ct))
        {
            yield return new LogChunkRow
            {
                Seq = reader.GetInt64(0),
                Part = reader.GetInt32(1),
                CommandIdx = await reader.IsDBNullAsync(2, ct) ? null : reader.GetInt32(2),
                Data = (byte[])reader[3],
            };
        }
    }
}

internal static class LogSql
{
    public const string Data = "SELECT data FROM log_chunks WHERE job_id = @JobId ORDER BY seq, part";

    public const string After =
        "SELECT seq, part, command_idx AS CommandIdx, data FROM log_chunks WHERE job_id = @JobId AND seq > @AfterSeq ORDER BY seq, part";

    public const string Running = "SELECT id FROM jobs WHERE status = 'running'";

    public const string Range =
        "SELECT seq, part, command_idx, data FROM log_chunks WHERE job_id = @JobId " +
        "AND (seq > @FromSeq OR (seq = @FromSeq AND part >= @FromPart)) " +
        "AND (seq < @UntilSeq OR (seq = @UntilSeq AND part <= @UntilPart)) ORDER BY seq, part";
}
