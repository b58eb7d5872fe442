using System.Text;
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
public sealed class LogSection(LogSectionKind kind, int? commandIdx)
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

    internal void Add(LogLine line) => _lines.Add(line);
}

/// <summary>
/// A job's log parsed into sections and lines, built incrementally from stored chunks: feed it
/// <see cref="LogStore.ChunksAfterAsync"/>(<see cref="LastSeq"/>) and it appends. Bytes are decoded as UTF-8 across
/// chunk boundaries (invalid bytes become U+FFFD), lines split on <c>\n</c>, and a line longer than
/// <see cref="MaxLineChars"/> keeps its start and says how much was dropped (the raw log has it all).
/// Not thread-safe: one reader builds and reads it.
/// </summary>
public sealed class LogDocument(int maxLineChars = LogDocument.DefaultMaxLineChars)
{
    public const int DefaultMaxLineChars = 10_000;

    private readonly AnsiParser _parser = new();
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly List<LogSection> _sections = [];
    private readonly StringBuilder _pending = new();
    private char[] _chars = new char[16 * 1024];
    private LogSection? _open;
    private int _dropped;
    private int _nextNumber = 1;
    private bool _sawCommandOutput;
    private bool _seenAny;
    private int _lastPart;

    public int MaxLineChars { get; } = maxLineChars;

    /// <summary>The last chunk sequence number read; ask for chunks after it.</summary>
    public long LastSeq { get; private set; }

    /// <summary>Changes whenever lines are added or the tail changes, so views know when to refresh.</summary>
    public int Version { get; private set; }

    /// <summary>Sections in the order their output arrived.</summary>
    public IReadOnlyList<LogSection> Sections => _sections;

    public int LineCount { get; private set; }

    public LogSection? Section(LogSectionKind kind, int? commandIdx = null) =>
        _sections.FirstOrDefault(s => s.Kind == kind && s.CommandIdx == commandIdx);

    /// <summary>Appends chunks in sequence order; chunks at or before <see cref="LastSeq"/> are ignored.</summary>
    public void Append(IEnumerable<LogChunkRow> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        foreach (var chunk in chunks)
        {
            if (_seenAny && (chunk.Seq < LastSeq || chunk.Seq == LastSeq && chunk.Part <= _lastPart)) continue;
            Append(chunk.CommandIdx, chunk.Data);
            LastSeq = chunk.Seq;
            _lastPart = chunk.Part;
            _seenAny = true;
        }
    }

    /// <summary>Appends raw output of a command (or job-level output when <paramref name="commandIdx"/> is null).</summary>
    public void Append(int? commandIdx, ReadOnlySpan<byte> data)
    {
        var section = SectionFor(commandIdx);
        if (!ReferenceEquals(section, _open))
        {
            // Output moved on to another section: what was pending in the previous one is a finished line.
            FlushDecoder();
            if (_open is not null && (_pending.Length > 0 || _dropped > 0)) Commit(_open);
            if (_open is not null) _open.Tail = null;
            _open = section;
        }
        var offset = 0;
        while (offset < data.Length)
        {
            var take = Math.Min(data.Length - offset, _chars.Length / 2);
            var n = _decoder.GetChars(data.Slice(offset, take), _chars, flush: false);
            offset += take;
            Feed(section, _chars.AsSpan(0, n));
        }
        section.Tail = _pending.Length > 0 || _dropped > 0 ? ParseTail() : null;
        Version++;
    }

    private LogSection SectionFor(int? commandIdx)
    {
        LogSectionKind kind;
        if (commandIdx is not null)
        {
            kind = LogSectionKind.Command;
            _sawCommandOutput = true;
        }
        else
        {
            kind = _sawCommandOutput ? LogSectionKind.Complete : LogSectionKind.Prepare;
        }
        var section = Section(kind, commandIdx);
        if (section is null)
        {
            section = new LogSection(kind, commandIdx);
            _sections.Add(section);
        }
        return section;
    }

    private void FlushDecoder()
    {
        if (_open is null) return;
        var n = _decoder.GetChars([], _chars, flush: true);
        if (n > 0) Feed(_open, _chars.AsSpan(0, n));
    }

    private void Feed(LogSection section, ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            var newline = text.IndexOf('\n');
            var part = newline < 0 ? text : text[..newline];
            AppendPending(part);
            if (newline < 0) return;
            Commit(section);
            text = text[(newline + 1)..];
        }
    }

    private void AppendPending(ReadOnlySpan<char> part)
    {
        if (_pending.Length + part.Length <= MaxLineChars)
        {
            _pending.Append(part);
            return;
        }
        var lastReturn = part.LastIndexOf('\r');
        if (lastReturn >= 0)
        {
            // A progress bar redraws one line many times: past the limit, keep the last redraw rather than the first.
            _pending.Clear();
            _dropped = 0;
            part = part[lastReturn..];
        }
        var room = Math.Max(0, MaxLineChars - _pending.Length);
        var keep = Math.Min(room, part.Length);
        _pending.Append(part[..keep]);
        _dropped += part.Length - keep;
    }

    private void Commit(LogSection section)
    {
        var segments = _parser.ParseLine(_pending.ToString());
        section.Add(new LogLine(_nextNumber++, segments, AnsiParser.PlainText(segments), _dropped));
        LineCount++;
        _pending.Clear();
        _dropped = 0;
        section.Tail = null;
    }

    private LogLine ParseTail()
    {
        // The tail is parsed again when more of it arrives, so its colours must not leak into the parser's state.
        var style = _parser.Style;
        var segments = _parser.ParseLine(_pending.ToString());
        _parser.Style = style;
        return new LogLine(_nextNumber, segments, AnsiParser.PlainText(segments), _dropped);
    }
}
