using System.Text;

namespace Kaizen.Portal.Logs;

/// <summary>A section of a log: job-level output before or after the commands, or one command's output.</summary>
public readonly record struct LogSectionKey(LogSectionKind Kind, int? CommandIdx);

/// <summary>Where a line starts in the stored log: the chunk (<paramref name="Seq"/>, <paramref name="Part"/>) and the
/// byte offset in it. A line start is a clean point: nothing pending, no partial UTF-8 character.</summary>
public readonly record struct LogPosition(long Seq, int Part, int Offset)
{
    /// <summary>Before the first chunk.</summary>
    public static readonly LogPosition Start = new(-1, 0, 0);
}

/// <summary>What the cutter needs to resume at a line start, as if it had read everything before it.</summary>
public sealed record LogCheckpoint(int Line, LogPosition Position, AnsiStyle Style, LogSectionKey? Open, bool SawCommandOutput)
{
    public static readonly LogCheckpoint First = new(1, LogPosition.Start, AnsiStyle.Default, null, false);
}

/// <summary>
/// Cuts a job's stored output into numbered lines of sections, the one definition of how a log reads: job-level output
/// before the first command's output is <see cref="LogSectionKind.Prepare"/>, after it <see cref="LogSectionKind.Complete"/>;
/// bytes decode as UTF-8 across chunk boundaries (invalid bytes become U+FFFD); lines split on <c>\n</c>; output moving
/// to another section ends the line in progress; a line longer than <see cref="MaxLineChars"/> keeps its start and counts
/// what was dropped, except that a progress bar past the limit keeps its last redraw (from its last <c>\r</c>); colours
/// carry over from line to line as in a terminal.
/// It can start at the beginning or resume at any <see cref="LogCheckpoint"/> and reads the same lines from there.
/// With <c>materialize: false</c> it only counts lines and follows the colour state, which is what an index needs; most
/// lines then cost a scan of their bytes and no allocation. Not thread-safe.
/// </summary>
public sealed class LogCutter
{
    /// <summary>Receives what the cutter finds.</summary>
    public interface ISink
    {
        /// <summary>Line <paramref name="number"/> of <paramref name="section"/> is complete; <paramref name="line"/> is
        /// null unless the cutter materializes lines.</summary>
        void Line(LogSectionKey section, int number, LogLine? line);

        /// <summary>Output now goes to <paramref name="section"/> (the first time, the section begins).</summary>
        void SectionOpened(LogSectionKey section);

        /// <summary>A line starts here with nothing pending (a place to resume from).</summary>
        void LineStart(LogCutter cutter, LogPosition position);
    }

    private readonly AnsiParser _parser = new();
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly StringBuilder _pending = new();
    private readonly char[] _chars = new char[16 * 1024];
    private readonly ISink _sink;
    private readonly bool _materialize;
    private readonly bool _fastPath;
    private int _dropped;
    private bool _clean = true;

    /// <param name="fastPath">Take whole short lines straight from the bytes (the default); off, every byte goes through the
    /// streaming decoder (tests compare both).</param>
    public LogCutter(ISink sink, bool materialize, int maxLineChars = LogDocument.DefaultMaxLineChars, LogCheckpoint? from = null, bool fastPath = true)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sink = sink;
        _materialize = materialize;
        _fastPath = fastPath;
        MaxLineChars = maxLineChars;
        from ??= LogCheckpoint.First;
        NextNumber = from.Line;
        _parser.Style = from.Style;
        Open = from.Open;
        SawCommandOutput = from.SawCommandOutput;
        Position = from.Position;
    }

    public int MaxLineChars { get; }

    /// <summary>The number the next line gets.</summary>
    public int NextNumber { get; private set; }

    /// <summary>The section output last went to (where the tail line is).</summary>
    public LogSectionKey? Open { get; private set; }

    public bool SawCommandOutput { get; private set; }

    /// <summary>The end of what was read: the last chunk and its length.</summary>
    public LogPosition Position { get; private set; }

    /// <summary>Stop reading once this line is complete (a reader of a window needs no more).</summary>
    public int StopAfter { get; set; } = int.MaxValue;

    public bool Stopped => NextNumber > StopAfter;

    /// <summary>Whether an unfinished last line (no line feed yet) is there.</summary>
    public bool HasTail => _pending.Length > 0 || _dropped > 0;

    /// <summary>A checkpoint for the current state; only valid in <see cref="ISink.LineStart"/>.</summary>
    public LogCheckpoint Checkpoint(LogPosition position) => new(NextNumber, position, _parser.Style, Open, SawCommandOutput);

    /// <summary>Reads one chunk, from <paramref name="offset"/> (non-zero only in the chunk a checkpoint points into).</summary>
    public void Append(long seq, int part, int? commandIdx, ReadOnlySpan<byte> data, int offset = 0)
    {
        var section = SectionFor(commandIdx);
        Position = new LogPosition(seq, part, data.Length);
        if (section != Open)
        {
            // Output moved on to another section: what was pending in the previous one is a finished line.
            if (Open is { } previous)
            {
                var n = _decoder.GetChars([], _chars, flush: true);
                if (n > 0) Feed(previous, _chars.AsSpan(0, n));
                if (HasTail) Commit(previous);
            }
            _clean = true;
            Open = section;
            _sink.SectionOpened(section);
            _sink.LineStart(this, new LogPosition(seq, part, offset));
        }
        while (offset < data.Length && !Stopped)
        {
            var rest = data[offset..];
            var newline = rest.IndexOf((byte)'\n');
            if (newline >= 0 && _fastPath && _clean && !HasTail && newline <= MaxLineChars)
            {
                // A whole line from a clean start that cannot be too long (a byte makes at most one char).
                FastLine(section, rest[..newline]);
                offset += newline + 1;
            }
            else
            {
                var end = newline < 0 ? data.Length : offset + newline + 1;
                Decode(section, data[offset..end]);
                _clean = newline >= 0;
                offset = end;
            }
            if (newline >= 0) _sink.LineStart(this, new LogPosition(seq, part, offset));
        }
    }

    /// <summary>The unfinished last line as it is so far, or null; reading it leaves the colour state alone.</summary>
    public LogLine? Tail()
    {
        if (!HasTail) return null;
        var style = _parser.Style;
        var segments = _parser.ParseLine(_pending.ToString());
        _parser.Style = style;
        return new LogLine(NextNumber, segments, AnsiParser.PlainText(segments), _dropped);
    }

    private LogSectionKey SectionFor(int? commandIdx)
    {
        if (commandIdx is not null)
        {
            SawCommandOutput = true;
            return new LogSectionKey(LogSectionKind.Command, commandIdx);
        }
        return new LogSectionKey(SawCommandOutput ? LogSectionKind.Complete : LogSectionKind.Prepare, null);
    }

    private void FastLine(LogSectionKey section, ReadOnlySpan<byte> bytes)
    {
        var number = NextNumber++;
        if (_materialize)
        {
            var segments = _parser.ParseLine(Encoding.UTF8.GetString(bytes));
            _sink.Line(section, number, new LogLine(number, segments, AnsiParser.PlainText(segments), 0));
            return;
        }
        // Only escape sequences change the colour state: ESC, or the one-character CSI U+009B (C2 9B in UTF-8).
        if (bytes.IndexOfAny((byte)0x1B, (byte)0xC2) >= 0 && bytes.Length > _chars.Length)
        {
            _parser.Follow(Encoding.UTF8.GetString(bytes));
        }
        else if (bytes.IndexOfAny((byte)0x1B, (byte)0xC2) >= 0)
        {
            var n = Encoding.UTF8.GetChars(bytes, _chars);
            _parser.Follow(_chars.AsSpan(0, n));
        }
        _sink.Line(section, number, null);
    }

    private void Decode(LogSectionKey section, ReadOnlySpan<byte> data)
    {
        var offset = 0;
        while (offset < data.Length)
        {
            var take = Math.Min(data.Length - offset, _chars.Length / 2);
            var n = _decoder.GetChars(data.Slice(offset, take), _chars, flush: false);
            offset += take;
            Feed(section, _chars.AsSpan(0, n));
        }
    }

    private void Feed(LogSectionKey section, ReadOnlySpan<char> text)
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

    private void Commit(LogSectionKey section)
    {
        var number = NextNumber++;
        var segments = _parser.ParseLine(_pending.ToString());
        _sink.Line(section, number, _materialize ? new LogLine(number, segments, AnsiParser.PlainText(segments), _dropped) : null);
        _pending.Clear();
        _dropped = 0;
    }
}
