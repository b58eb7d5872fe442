using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Logs;

public enum LogSectionKind
{
    /// <summary>Job-level output before the first command's output (checkout and the like).</summary>
    Prepare,
    /// <summary>One command's output.</summary>
    Command,
    /// <summary>Job-level output after commands began (runner notes such as "runner lost").</summary>
    Complete,
}

/// <summary>
/// One parsed line. <see cref="Number"/> counts from 1 over the whole log and never changes once given, so
/// <c>#L123</c> links stay valid while the log grows.
/// </summary>
public sealed record LogLine(int Number, AnsiSegment[] Segments, string Text, int DroppedChars)
{
    public bool Truncated => DroppedChars > 0;
}

/// <summary>The lines of one section. The last line may still be growing while the job runs (see <see cref="Tail"/>).</summary>
public sealed class LogSection(LogSectionKind kind, int? commandIdx) : ILogSectionLines
{
    private readonly List<LogLine> _lines = [];

    public LogSectionKind Kind { get; } = kind;

    /// <summary>The command index for <see cref="LogSectionKind.Command"/>; null otherwise.</summary>
    public int? CommandIdx { get; } = commandIdx;

    /// <summary>The unfinished last line (no line feed yet), shown as it is so far.</summary>
    public LogLine? Tail { get; internal set; }

    public int Count => _lines.Count + (Tail is null ? 0 : 1);

    public LogLine this[int index] => index < _lines.Count ? _lines[index] : Tail ?? throw new ArgumentOutOfRangeException(nameof(index));

    public int FirstNumber => Count == 0 ? 0 : this[0].Number;

    public int NumberAt(int index) => this[index].Number;

    public int IndexOf(int number)
    {
        if (Tail?.Number == number) return _lines.Count;
        int lo = 0, hi = _lines.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            var m = _lines[mid].Number;
            if (m == number) return mid;
            if (m < number) lo = mid + 1;
            else hi = mid - 1;
        }
        return -1;
    }

    internal void Add(LogLine line) => _lines.Add(line);
}

/// <summary>
/// A job's whole log parsed into sections and lines in memory (see <see cref="LogCutter"/> for how a log reads): feed it
/// chunks and it appends. Good for small logs and as the reference the paged reader (<see cref="LogIndex"/> and
/// <see cref="LogViews"/>) is tested against; the job page pages through stored logs instead of holding them.
/// Not thread-safe: one reader builds and reads it.
/// </summary>
public sealed class LogDocument : ILogOutline, ILogLineSource, LogCutter.ISink
{
    public const int DefaultMaxLineChars = 10_000;

    private readonly LogCutter _cutter;
    private readonly List<LogSection> _sections = [];
    private readonly List<LogLine> _byNumber = [];
    private LogSection? _open;
    private bool _seenAny;
    private int _lastPart;

    public LogDocument(int maxLineChars = DefaultMaxLineChars, bool fastPath = true)
    {
        _cutter = new LogCutter(this, materialize: true, maxLineChars, fastPath: fastPath);
    }

    public int MaxLineChars => _cutter.MaxLineChars;

    /// <summary>The last chunk sequence number read; ask for chunks after it.</summary>
    public long LastSeq { get; private set; }

    /// <summary>Changes whenever lines are added or the tail changes, so views know when to refresh.</summary>
    public int Version { get; private set; }

    /// <summary>Sections in the order their output arrived.</summary>
    public IReadOnlyList<LogSection> Sections => _sections;

    IReadOnlyList<ILogSectionLines> ILogOutline.Sections => _sections;

    /// <summary>Complete lines (the unfinished last one not counted).</summary>
    public int LineCount => _byNumber.Count;

    public LogSection? Section(LogSectionKind kind, int? commandIdx = null) =>
        _sections.FirstOrDefault(s => s.Kind == kind && s.CommandIdx == commandIdx);

    /// <summary>Appends chunks in sequence order; chunks at or before <see cref="LastSeq"/> are ignored.</summary>
    public void Append(IEnumerable<LogChunkRow> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        foreach (var chunk in chunks)
        {
            if (_seenAny && (chunk.Seq < LastSeq || chunk.Seq == LastSeq && chunk.Part <= _lastPart)) continue;
            if (_open is not null) _open.Tail = null;
            _cutter.Append(chunk.Seq, chunk.Part, chunk.CommandIdx, chunk.Data);
            if (_open is not null) _open.Tail = _cutter.Tail();
            LastSeq = chunk.Seq;
            _lastPart = chunk.Part;
            _seenAny = true;
            Version++;
        }
    }

    public ValueTask<IReadOnlyDictionary<int, LogLine>> ReadAsync(IReadOnlyList<int> numbers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        var result = new Dictionary<int, LogLine>(numbers.Count);
        foreach (var n in numbers)
        {
            if (n >= 1 && n <= _byNumber.Count) result[n] = _byNumber[n - 1];
            else if (_open?.Tail is { } tail && tail.Number == n) result[n] = tail;
        }
        return ValueTask.FromResult<IReadOnlyDictionary<int, LogLine>>(result);
    }

    public Task<LogSearchResult> SearchAsync(string query, int fromNumber, int limit, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(query);
        var found = new List<int>();
        var lines = _byNumber.Skip(Math.Max(0, fromNumber - 1)).Concat(_open?.Tail is { } t ? [t] : []);
        foreach (var line in lines)
        {
            if (!line.Text.Contains(query, StringComparison.OrdinalIgnoreCase)) continue;
            if (found.Count == limit) return Task.FromResult(new LogSearchResult(found, true));
            found.Add(line.Number);
        }
        return Task.FromResult(new LogSearchResult(found, false));
    }

    void LogCutter.ISink.SectionOpened(LogSectionKey key)
    {
        if (_open is not null) _open.Tail = null;
        _open = Section(key.Kind, key.CommandIdx);
        if (_open is not null) return;
        _open = new LogSection(key.Kind, key.CommandIdx);
        _sections.Add(_open);
    }

    void LogCutter.ISink.Line(LogSectionKey section, int number, LogLine? line)
    {
        var target = _open is { } o && o.Kind == section.Kind && o.CommandIdx == section.CommandIdx ? o : Section(section.Kind, section.CommandIdx)!;
        target.Add(line!);
        _byNumber.Add(line!);
    }

    void LogCutter.ISink.LineStart(LogCutter cutter, LogPosition position) { }
}
