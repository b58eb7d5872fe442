using Kaizen.Portal.Builds;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Logs;

/// <summary>Settings of the job log view (section <c>Kaizen:Logs</c>).</summary>
public sealed class LogOptions
{
    /// <summary>Memory, in MB, that all viewers of all job logs share for line indexes and parsed windows of lines.
    /// Past it the least recently used are dropped (and read again from the database when asked for); what nobody
    /// looked at for <see cref="IdleMinutes"/> is dropped too.</summary>
    public int CacheMegabytes { get; set; } = 64;

    /// <summary>Minutes after which a window of lines nobody read is dropped.</summary>
    public int IdleMinutes { get; set; } = 5;

    /// <summary>Minutes after which a job's line index (small: about 100 bytes per 500 lines) nobody read is dropped;
    /// the next viewer then builds it again by reading the whole stored log.</summary>
    public int IndexIdleMinutes { get; set; } = 120;

    /// <summary>Search stops after this many matches and says so.</summary>
    public int MaxSearchMatches { get; set; } = 1000;
}

/// <summary>
/// Job logs for viewers, paged from the database: one <see cref="LogIndex"/> per job (built by streaming its chunks once,
/// extended as chunks arrive) and windows of parsed lines (one per checkpoint interval), all in one memory budget shared by
/// every viewer (<see cref="LogOptions.CacheMegabytes"/>), least recently used first out. Ten people on one log cost
/// about what one does, and memory goes back when they leave.
/// </summary>
public sealed class LogViews : IDisposable
{
    private readonly LogStore _store;
    private readonly LogOptions _options;
    private readonly MemoryCache _cache;
    private readonly Lock _entries = new();
    private readonly Timer _sweep;

    public LogViews(LogStore store, IOptions<KaizenOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value.Logs;
        _cache = new MemoryCache(new MemoryCacheOptions
        {
            SizeLimit = Math.Max(1, _options.CacheMegabytes) * 1024L * 1024,
            CompactionPercentage = 0.25,
            TrackStatistics = true,
        });
        // Expired entries leave only when the cache is used; sweep so an idle portal gives its memory back.
        _sweep = new Timer(_ => _cache.Compact(0), null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
    }

    public int MaxSearchMatches => _options.MaxSearchMatches;

    /// <summary>Memory the cache holds now (estimated bytes), for the benchmark and diagnostics.</summary>
    public long CachedBytes => _cache.GetCurrentStatistics()?.CurrentEstimatedSize ?? 0;

    /// <summary>The log of a job as it is stored now: the shared index, brought up to date, and a way to read its lines.</summary>
    public async Task<LogView> OpenAsync(long jobId, CancellationToken ct)
    {
        var entry = Entry(jobId);
        await entry.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            entry.Index ??= new LogIndex();
            var before = entry.Index.Snapshot();
            await foreach (var chunk in _store.StreamChunksAsync(jobId, entry.Index.End, fromInclusive: false, null, ct).ConfigureAwait(false))
                entry.Index.Append(chunk);
            var outline = entry.Index.Snapshot();
            if (!ReferenceEquals(before, outline)) Remember(jobId, entry, outline.EstimatedBytes + 64 * 1024);
            // The same view while nothing changed, so viewers see no new source and read nothing again.
            if (entry.View?.Outline != outline) entry.View = new LogView(this, jobId, outline);
            return entry.View;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>The outline the shared index last gave a viewer (or the indexer) for a job, without reading anything; null
    /// when the job's index is not in memory.</summary>
    internal LogOutline? Peek(long jobId) =>
        _cache.TryGetValue(("index", jobId), out IndexEntry? entry) ? entry!.View?.Outline : null;

    private IndexEntry Entry(long jobId)
    {
        lock (_entries)
        {
            if (_cache.TryGetValue(("index", jobId), out IndexEntry? entry)) return entry!;
            entry = new IndexEntry { Size = 64 * 1024 };
            _cache.Set(("index", jobId), entry, IndexOptions(entry.Size));
            return entry;
        }
    }

    private void Remember(long jobId, IndexEntry entry, long size)
    {
        lock (_entries)
        {
            entry.Size = size;
            _cache.Set(("index", jobId), entry, IndexOptions(size));
        }
    }

    // Indexes are small and costly to rebuild: they outlive windows, and go last when memory is short.
    private MemoryCacheEntryOptions IndexOptions(long size) => new()
    {
        Size = size,
        SlidingExpiration = TimeSpan.FromMinutes(Math.Max(1, _options.IndexIdleMinutes)),
        Priority = CacheItemPriority.High,
    };

    private MemoryCacheEntryOptions Options(long size) => new()
    {
        Size = size,
        SlidingExpiration = TimeSpan.FromMinutes(Math.Max(1, _options.IdleMinutes)),
    };

    /// <summary>The lines of one checkpoint interval (block), read from the database unless cached. Only complete blocks
    /// are cached: the last one changes while the job runs.</summary>
    internal async ValueTask<LogLine[]> BlockAsync(long jobId, LogOutline outline, int block, CancellationToken ct)
    {
        var from = outline.Checkpoint(block);
        var complete = block + 1 < outline.CheckpointCount;
        var last = complete ? outline.Checkpoint(block + 1).Line - 1 : outline.LastNumber;
        var key = ("block", jobId, from.Line);
        if (complete && _cache.TryGetValue(key, out LogLine[]? cached)) return cached!;

        var sink = new Collector(from.Line, last, null);
        var cutter = new LogCutter(sink, materialize: true, from: from) { StopAfter = last };
        await ReadAsync(jobId, outline, cutter, from, ct).ConfigureAwait(false);
        if (!complete && outline.HasTail && cutter.Tail() is { } tail && tail.Number == last) sink.Line(default, tail.Number, tail);
        var lines = sink.Lines.ToArray();
        if (complete) _cache.Set(key, lines, Options(lines.Sum(Estimate) + 128));
        return lines;
    }

    /// <summary>Line numbers from <paramref name="fromNumber"/> on whose text contains the query, scanning the stored log
    /// chunk by chunk (nothing is kept but the matches).</summary>
    internal async Task<LogSearchResult> SearchAsync(long jobId, LogOutline outline, string query, int fromNumber, int limit, CancellationToken ct)
    {
        var from = outline.Checkpoint(outline.CheckpointFor(fromNumber));
        var sink = new Collector(fromNumber, outline.LastNumber, query) { Limit = limit + 1 };
        var cutter = new LogCutter(sink, materialize: true, from: from);
        sink.Cutter = cutter;
        await Task.Run(() => ReadAsync(jobId, outline, cutter, from, ct), ct).ConfigureAwait(false);
        if (!cutter.Stopped && outline.HasTail && cutter.Tail() is { } tail && tail.Number == outline.LastNumber) sink.Line(default, tail.Number, tail);
        var numbers = sink.Matches;
        var truncated = numbers.Count > limit;
        return new LogSearchResult(truncated ? numbers.Take(limit).ToList() : numbers, truncated);
    }

    private async Task ReadAsync(long jobId, LogOutline outline, LogCutter cutter, LogCheckpoint from, CancellationToken ct)
    {
        if (outline.End.Seq < 0 || cutter.Stopped) return;
        await foreach (var chunk in _store.StreamChunksAsync(jobId, from.Position, fromInclusive: true, outline.End, ct).ConfigureAwait(false))
        {
            var offset = chunk.Seq == from.Position.Seq && chunk.Part == from.Position.Part ? from.Position.Offset : 0;
            cutter.Append(chunk.Seq, chunk.Part, chunk.CommandIdx, chunk.Data, offset);
            if (cutter.Stopped) break;
        }
    }

    // What a parsed line costs: its text (and the segments' own copies when there are several), the arrays, the objects.
    private static long Estimate(LogLine line) =>
        96 + line.Text.Length * 2L * (line.Segments.Length > 1 ? 2 : 1) + line.Segments.Length * 32L;

    public void Dispose()
    {
        _sweep.Dispose();
        _cache.Dispose();
    }

    private sealed class IndexEntry
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public LogIndex? Index;
        public LogView? View;
        public long Size;
    }

    /// <summary>Collects lines in a range, or the numbers of lines matching a query.</summary>
    private sealed class Collector(int first, int last, string? query) : LogCutter.ISink
    {
        public readonly List<LogLine> Lines = [];
        public readonly List<int> Matches = [];
        public int Limit = int.MaxValue;
        public LogCutter? Cutter;

        public void SectionOpened(LogSectionKey section) { }

        public void LineStart(LogCutter cutter, LogPosition position) { }

        public void Line(LogSectionKey section, int number, LogLine? line)
        {
            if (number < first || number > last) return;
            if (query is null)
            {
                Lines.Add(line!);
                return;
            }
            if (!line!.Text.Contains(query, StringComparison.OrdinalIgnoreCase)) return;
            Matches.Add(number);
            if (Matches.Count >= Limit && Cutter is not null) Cutter.StopAfter = number;
        }
    }
}

/// <summary>One viewer's handle on a job's log: the outline as it was when opened, lines read through the shared cache.</summary>
public sealed class LogView(LogViews views, long jobId, LogOutline outline) : ILogOutline, ILogLineSource
{
    public long JobId { get; } = jobId;

    public LogOutline Outline { get; } = outline;

    public IReadOnlyList<ILogSectionLines> Sections => Outline.Sections;

    public async ValueTask<IReadOnlyDictionary<int, LogLine>> ReadAsync(IReadOnlyList<int> numbers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        var result = new Dictionary<int, LogLine>(numbers.Count);
        LogLine[]? lines = null;
        var block = -1;
        foreach (var n in numbers)
        {
            if (n < 1 || n > Outline.LastNumber) continue;
            var b = Outline.CheckpointFor(n);
            if (b != block)
            {
                block = b;
                lines = await views.BlockAsync(JobId, Outline, b, ct).ConfigureAwait(false);
            }
            var i = n - Outline.Checkpoint(b).Line;
            if (i < lines!.Length) result[n] = lines[i];
        }
        return result;
    }

    public Task<LogSearchResult> SearchAsync(string query, int fromNumber, int limit, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(query);
        return views.SearchAsync(JobId, Outline, query, Math.Max(1, fromNumber), limit, ct);
    }
}
