namespace Kaizen.Portal.Logs;

/// <summary>The line numbers of one section, in reading order (a section's lines need not be consecutive: output can
/// move to another section and back).</summary>
public interface ILogSectionLines
{
    LogSectionKind Kind { get; }

    /// <summary>The command index for <see cref="LogSectionKind.Command"/>; null otherwise.</summary>
    int? CommandIdx { get; }

    /// <summary>Lines, the unfinished last one included.</summary>
    int Count { get; }

    /// <summary>The global number of the section's line at <paramref name="index"/>.</summary>
    int NumberAt(int index);

    /// <summary>Where line <paramref name="number"/> is in this section, or -1.</summary>
    int IndexOf(int number);
}

/// <summary>A log's sections in the order their output arrived, with how many lines each has.</summary>
public interface ILogOutline
{
    IReadOnlyList<ILogSectionLines> Sections { get; }
}

/// <summary>Lines of a log by number, and search over them; a paged source reads only what is asked for.</summary>
public interface ILogLineSource
{
    /// <summary>The lines with these numbers (ascending); numbers it does not have are left out.</summary>
    ValueTask<IReadOnlyDictionary<int, LogLine>> ReadAsync(IReadOnlyList<int> numbers, CancellationToken ct);

    /// <summary>Numbers of lines from <paramref name="fromNumber"/> on whose text contains <paramref name="query"/>
    /// (case-insensitive), at most <paramref name="limit"/>.</summary>
    Task<LogSearchResult> SearchAsync(string query, int fromNumber, int limit, CancellationToken ct);
}

/// <param name="Truncated">The limit was reached: there may be more matches after the last one.</param>
public sealed record LogSearchResult(IReadOnlyList<int> Numbers, bool Truncated);

public static class LogOutlineExtensions
{
    public static ILogSectionLines? Section(this ILogOutline outline, LogSectionKind kind, int? commandIdx = null)
    {
        ArgumentNullException.ThrowIfNull(outline);
        foreach (var s in outline.Sections)
            if (s.Kind == kind && s.CommandIdx == commandIdx) return s;
        return null;
    }
}

/// <summary>
/// A snapshot of a <see cref="LogIndex"/>: sections with their line numbers as runs of consecutive numbers, and
/// checkpoints (every few hundred lines) to resume reading at. Immutable, so any number of viewers can share it.
/// </summary>
public sealed class LogOutline : ILogOutline
{
    private readonly LogCheckpoint[] _checkpoints;

    internal LogOutline(IReadOnlyList<OutlineSection> sections, LogCheckpoint[] checkpoints, int checkpointCount, int nextNumber,
        bool hasTail, LogPosition end)
    {
        Sections = sections;
        _checkpoints = checkpoints;
        CheckpointCount = checkpointCount;
        NextNumber = nextNumber;
        HasTail = hasTail;
        End = end;
    }

    public static readonly LogOutline Empty = new([], [LogCheckpoint.First], 1, 1, false, LogPosition.Start);

    public IReadOnlyList<ILogSectionLines> Sections { get; }

    /// <summary>Complete lines (the unfinished last one not counted).</summary>
    public int LineCount => NextNumber - 1;

    /// <summary>The number of the next complete line (and of the tail, when there is one).</summary>
    public int NextNumber { get; }

    public bool HasTail { get; }

    /// <summary>The last line's number, the tail included; 0 for an empty log.</summary>
    public int LastNumber => HasTail ? NextNumber : NextNumber - 1;

    /// <summary>The last chunk read (its length as the offset).</summary>
    public LogPosition End { get; }

    public int CheckpointCount { get; }

    public LogCheckpoint Checkpoint(int index) => _checkpoints[index];

    /// <summary>The index of the last checkpoint at or before line <paramref name="number"/>.</summary>
    public int CheckpointFor(int number)
    {
        int lo = 0, hi = CheckpointCount - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_checkpoints[mid].Line <= number) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>About how many bytes this snapshot keeps alive.</summary>
    internal long EstimatedBytes => 256 + _checkpoints.Length * 96L + Sections.Sum(s => 96L + ((OutlineSection)s).Runs.Length * 8L);
}

/// <summary>A section of an <see cref="LogOutline"/>: runs of consecutive line numbers, plus the tail when it is the
/// section output last went to.</summary>
internal sealed class OutlineSection(LogSectionKey key, (int First, int Count)[] runs, int[] before, int committed, int? tail) : ILogSectionLines
{
    public LogSectionKind Kind => key.Kind;

    public int? CommandIdx => key.CommandIdx;

    public (int First, int Count)[] Runs => runs;

    public int Count => committed + (tail is null ? 0 : 1);

    public int NumberAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (index >= committed)
            return index == committed && tail is { } t ? t : throw new ArgumentOutOfRangeException(nameof(index));
        // The last run whose first line is at or before index.
        int lo = 0, hi = runs.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (before[mid] <= index) lo = mid;
            else hi = mid - 1;
        }
        return runs[lo].First + index - before[lo];
    }

    public int IndexOf(int number)
    {
        if (tail == number) return committed;
        int lo = 0, hi = runs.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            var (first, count) = runs[mid];
            if (number < first) hi = mid - 1;
            else if (number >= first + count) lo = mid + 1;
            else return before[mid] + number - first;
        }
        return -1;
    }
}

/// <summary>
/// The index of one job's log, built by reading its chunks once with a <see cref="LogCutter"/> that only counts: which
/// lines belong to which section, and a checkpoint every <see cref="CheckpointLines"/> lines (or
/// <see cref="CheckpointBytes"/> bytes) to resume reading at. It holds no text. It grows as chunks arrive; take a
/// <see cref="Snapshot"/> to read it. Not thread-safe: one writer at a time.
/// </summary>
public sealed class LogIndex : LogCutter.ISink
{
    public const int CheckpointLines = 500;
    public const long CheckpointBytes = 256 * 1024;

    private readonly LogCutter _cutter;
    private readonly List<SectionRuns> _sections = [];
    private SectionRuns? _last;
    private LogCheckpoint[] _checkpoints = new LogCheckpoint[16];
    private int _checkpointCount;
    private long _bytesSinceCheckpoint;
    private bool _seenAny;
    private LogOutline? _snapshot;

    private readonly int _checkpointLines;
    private readonly long _checkpointBytes;

    /// <param name="checkpointLines">Lines between checkpoints (tests use 1 to resume at every line).</param>
    public LogIndex(int maxLineChars = LogDocument.DefaultMaxLineChars, int checkpointLines = CheckpointLines, long checkpointBytes = CheckpointBytes)
    {
        _checkpointLines = checkpointLines;
        _checkpointBytes = checkpointBytes;
        _cutter = new LogCutter(this, materialize: false, maxLineChars);
        _checkpoints[_checkpointCount++] = LogCheckpoint.First;
    }

    public int MaxLineChars => _cutter.MaxLineChars;

    /// <summary>The last chunk read: ask for chunks after it.</summary>
    public LogPosition End => _cutter.Position;

    /// <summary>Appends chunks in order; chunks at or before <see cref="End"/> are ignored.</summary>
    public void Append(Builds.LogChunkRow chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var end = End;
        if (_seenAny && (chunk.Seq < end.Seq || chunk.Seq == end.Seq && chunk.Part <= end.Part)) return;
        _seenAny = true;
        _bytesSinceCheckpoint += chunk.Data.Length;
        _cutter.Append(chunk.Seq, chunk.Part, chunk.CommandIdx, chunk.Data);
        _snapshot = null;
    }

    /// <summary>What the index holds now, for readers on any thread.</summary>
    public LogOutline Snapshot()
    {
        if (_snapshot is not null) return _snapshot;
        var open = _cutter.Open;
        var tail = _cutter.HasTail ? _cutter.NextNumber : (int?)null;
        var sections = _sections.Select(s => s.Freeze(s.Key == open ? tail : null)).ToList();
        return _snapshot = new LogOutline(sections, _checkpoints, _checkpointCount, _cutter.NextNumber, tail is not null, End);
    }

    void LogCutter.ISink.SectionOpened(LogSectionKey section)
    {
        _last = _sections.Find(s => s.Key == section);
        if (_last is not null) return;
        _last = new SectionRuns(section);
        _sections.Add(_last);
    }

    void LogCutter.ISink.Line(LogSectionKey section, int number, LogLine? line)
    {
        if (_last?.Key != section) _last = _sections.Find(s => s.Key == section);
        _last!.Add(number);
    }

    void LogCutter.ISink.LineStart(LogCutter cutter, LogPosition position)
    {
        var previous = _checkpoints[_checkpointCount - 1].Line;
        if (cutter.NextNumber <= previous) return;
        if (cutter.NextNumber - previous < _checkpointLines && _bytesSinceCheckpoint < _checkpointBytes) return;
        if (_checkpointCount == _checkpoints.Length)
        {
            // A new array, never a changed one: snapshots keep reading the old array up to their own count.
            var bigger = new LogCheckpoint[_checkpoints.Length * 2];
            Array.Copy(_checkpoints, bigger, _checkpointCount);
            _checkpoints = bigger;
        }
        _checkpoints[_checkpointCount++] = cutter.Checkpoint(position);
        _bytesSinceCheckpoint = 0;
    }

    /// <summary>A section's line numbers as they arrive.</summary>
    private sealed class SectionRuns(LogSectionKey key)
    {
        private readonly List<(int First, int Count)> _runs = [];
        private int _count;

        public LogSectionKey Key { get; } = key;

        public void Add(int number)
        {
            _count++;
            if (_runs.Count > 0 && _runs[^1] is var (first, count) && first + count == number)
            {
                _runs[^1] = (first, count + 1);
                return;
            }
            _runs.Add((number, 1));
        }

        public OutlineSection Freeze(int? tail)
        {
            var runs = _runs.ToArray();
            var before = new int[runs.Length];
            for (int i = 0, sum = 0; i < runs.Length; sum += runs[i].Count, i++) before[i] = sum;
            return new OutlineSection(Key, runs, before, _count, tail);
        }
    }
}
