using System.Text;

namespace Kaizen.Runner.Execution;

/// <summary>
/// The secret values of one job, to be replaced by <see cref="Mask"/> in everything the job and the runner print about
/// it. A value is registered as itself, as each of its lines (trimmed), and in two encodings people print by accident:
/// base64 (e.g. <c>curl -v</c> showing a Basic authorization header, or <c>base64</c> of a key) and URL escaping (a
/// password inside a git URL). Matching works on raw UTF-8 bytes, so invalid UTF-8 around a secret does not matter.
/// </summary>
/// <remarks>
/// Values (and lines of values) shorter than <see cref="MinimumLength"/> characters are not masked: a one- or
/// two-character "secret" (<c>1</c>, <c>no</c>, <c>{</c>) occurs in almost every line of a log, so masking it would
/// make the log unreadable while protecting nothing, since such a value can be guessed in a few tries anyway. The same
/// rule keeps the trivial lines of multi-line values (blank lines, a lone <c>}</c>) from masking a whole log.
/// Registration is thread-safe; a <see cref="Filter"/> sees the values registered when it processes each piece.
/// </remarks>
public sealed class SecretMasker
{
    /// <summary>The fewest characters a value (or a line of a multi-line value) needs to be masked.</summary>
    public const int MinimumLength = 3;

    /// <summary>The shortest base64 fragment registered: shorter ones would mask ordinary words.</summary>
    private const int MinimumEncodedLength = 8;

    /// <summary>What a secret is replaced with.</summary>
    public static ReadOnlySpan<byte> MaskBytes => "***"u8;

    public const string Mask = "***";

    private readonly object _lock = new();
    private readonly HashSet<string> _values = new(StringComparer.Ordinal);
    private byte[][] _patterns = [];

    /// <summary>The byte patterns currently masked (values, their lines and encodings), longest first.</summary>
    public IReadOnlyList<byte[]> Patterns => Volatile.Read(ref _patterns);

    /// <summary>The length in bytes of the longest pattern; 0 when nothing is masked.</summary>
    public int LongestPattern => Patterns.Count == 0 ? 0 : Patterns[0].Length;

    public bool IsEmpty => Patterns.Count == 0;

    /// <summary>Registers <paramref name="value"/>, each of its lines and its common encodings; short parts are ignored (see remarks).</summary>
    public void Add(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var candidates = new List<string> { value };
        foreach (var line in value.Split('\n'))
        {
            candidates.Add(line.Trim());
        }

        lock (_lock)
        {
            var added = false;
            foreach (var candidate in candidates)
            {
                if (candidate.Length >= MinimumLength && _values.Add(candidate))
                {
                    added = true;
                }
            }

            if (value.Length >= MinimumLength)
            {
                var escaped = Uri.EscapeDataString(value);
                if (escaped != value)
                {
                    added |= _values.Add(escaped);
                }

                // Base64 of a text holding the value: which characters it yields depends on where the value starts
                // relative to a 3-byte group, so register the full groups of the value started at each of the three
                // offsets (the first and last one or two bytes may stay visible, the rest is masked).
                var bytes = Encoding.UTF8.GetBytes(value);
                for (var offset = 0; offset < 3 && bytes.Length - offset >= 3; offset++)
                {
                    var whole = (bytes.Length - offset) / 3 * 3;
                    var encoded = Convert.ToBase64String(bytes, offset, whole);
                    if (encoded.Length >= MinimumEncodedLength)
                    {
                        added |= _values.Add(encoded);
                    }
                }
            }

            if (added)
            {
                Volatile.Write(ref _patterns, [.. _values.Select(Encoding.UTF8.GetBytes).OrderByDescending(p => p.Length)]);
            }
        }
    }

    /// <summary><paramref name="text"/> with every registered value replaced by <see cref="Mask"/>; null stays null.</summary>
    public string? MaskText(string? text)
    {
        if (text is null || IsEmpty)
        {
            return text;
        }

        return Encoding.UTF8.GetString(new Filter(this).WriteAndFlush(Encoding.UTF8.GetBytes(text)).Span);
    }

    /// <summary>A filter for one byte stream: bytes go in cut at any points, masked bytes come out.</summary>
    public Filter CreateFilter() => new(this);

    /// <summary>
    /// Masks one byte stream that arrives in pieces cut anywhere. A secret may straddle two pieces, so the end of a
    /// piece that could be the beginning of a secret (at most longest pattern − 1 bytes, usually none) is held back
    /// until more data comes or <see cref="Flush"/> is called; a command waiting after printing a prompt still shows
    /// it live. Overlapping occurrences are masked as one <c>***</c>. Not thread-safe: one writer at a time.
    /// </summary>
    /// <remarks>
    /// State between pieces: <c>_tail</c>, the bytes held back (each a possible start of a secret), of which the first
    /// <c>_emitted</c> were already sent as the end of a mask. A match starting inside that masked part extends the
    /// mask without a second <c>***</c>, so a run of overlapping occurrences never grows the hold-back.
    /// Two reused buffers; no allocation per piece once they are large enough.
    /// </remarks>
    public sealed class Filter
    {
        private readonly SecretMasker _masker;
        private readonly List<(int Start, int End)> _matches = [];
        private byte[] _work = new byte[4096];
        private byte[] _out = new byte[4096];
        private int _tail;     // bytes at the start of _work carried over from the last piece
        private int _emitted;  // how many of them were already sent (masked)

        internal Filter(SecretMasker masker) => _masker = masker;

        /// <summary>Bytes held back, waiting for the next piece or <see cref="Flush"/>.</summary>
        public int Pending => _tail - _emitted;

        /// <summary>Masks <paramref name="data"/>; returns what can be sent now, valid until the next call.</summary>
        public ReadOnlyMemory<byte> Write(ReadOnlySpan<byte> data) => Process(data, flush: false);

        /// <summary>Sends everything held back (end of a command or of the stream); valid until the next call.</summary>
        public ReadOnlyMemory<byte> Flush() => Process([], flush: true);

        /// <summary>Masks <paramref name="data"/> and sends it with everything held back; valid until the next call.</summary>
        public ReadOnlyMemory<byte> WriteAndFlush(ReadOnlySpan<byte> data) => Process(data, flush: true);

        private ReadOnlyMemory<byte> Process(ReadOnlySpan<byte> data, bool flush)
        {
            var patterns = _masker.Patterns;
            var length = _tail + data.Length;
            if (_work.Length < length)
            {
                Array.Resize(ref _work, Math.Max(length, _work.Length * 2));
            }

            data.CopyTo(_work.AsSpan(_tail));
            var window = _work.AsSpan(0, length);
            // Bytes from `limit` on could begin a secret the next piece completes; everything before it is final.
            var limit = flush ? length : HoldFrom(window, patterns);
            FindMatches(window, patterns);

            if (_out.Length < length)
            {
                Array.Resize(ref _out, Math.Max(length, _out.Length * 2));
            }

            var written = 0;
            var position = _emitted;
            foreach (var (start, end) in _matches)
            {
                if (start >= limit && start >= _emitted)
                {
                    break; // not final yet: held back with the tail
                }

                if (end <= position)
                {
                    continue;
                }

                if (start < position)
                {
                    position = end; // continues the mask that ended the last piece
                    continue;
                }

                window[position..start].CopyTo(_out.AsSpan(written));
                written += start - position;
                MaskBytes.CopyTo(_out.AsSpan(written));
                written += MaskBytes.Length;
                position = end;
            }

            if (position < limit)
            {
                window[position..limit].CopyTo(_out.AsSpan(written));
                written += limit - position;
                position = limit;
            }

            // Held back from `limit` (nothing when flushing); a mask may already cover the first of those bytes.
            var tailStart = limit;
            window[tailStart..].CopyTo(_work);
            _tail = length - tailStart;
            _emitted = Math.Max(0, position - tailStart);
            return _out.AsMemory(0, written);
        }

        /// <summary>
        /// Where the longest end of <paramref name="window"/> that is a proper beginning of some pattern starts
        /// (<c>window.Length</c> when none is): a secret the next piece completes can start no earlier.
        /// </summary>
        private static int HoldFrom(ReadOnlySpan<byte> window, IReadOnlyList<byte[]> patterns)
        {
            var hold = window.Length;
            foreach (var pattern in patterns)
            {
                // Candidate starts: from (pattern length − 1) bytes before the end, up to the best found so far.
                var from = Math.Max(0, window.Length - pattern.Length + 1);
                while (from < hold)
                {
                    var found = window[from..hold].IndexOf(pattern[0]);
                    if (found < 0)
                    {
                        break;
                    }

                    var start = from + found;
                    if (window[start..].SequenceEqual(pattern.AsSpan(0, window.Length - start)))
                    {
                        hold = start;
                        break;
                    }

                    from = start + 1;
                }
            }

            return hold;
        }

        /// <summary>Fills <see cref="_matches"/> with the merged, sorted ranges of every occurrence in <paramref name="window"/>.</summary>
        private void FindMatches(ReadOnlySpan<byte> window, IReadOnlyList<byte[]> patterns)
        {
            _matches.Clear();
            var sorted = true;
            foreach (var pattern in patterns)
            {
                var from = 0;
                var runStart = -1;
                var runEnd = -1;
                while (from <= window.Length - pattern.Length)
                {
                    var found = window[from..].IndexOf(pattern);
                    if (found < 0)
                    {
                        break;
                    }

                    var start = from + found;
                    var end = start + pattern.Length;
                    if (start < runEnd)
                    {
                        runEnd = end; // overlaps the previous occurrence: one range
                    }
                    else
                    {
                        if (runStart >= 0)
                        {
                            sorted &= Add(runStart, runEnd);
                        }

                        (runStart, runEnd) = (start, end);
                    }

                    from = start + 1;
                }

                if (runStart >= 0)
                {
                    sorted &= Add(runStart, runEnd);
                }
            }

            if (_matches.Count < 2)
            {
                return;
            }

            if (!sorted)
            {
                _matches.Sort(static (a, b) => a.Start.CompareTo(b.Start));
            }

            // Merge overlapping ranges (adjacent ones stay apart: two secrets side by side are two masks).
            var merged = 0;
            for (var i = 1; i < _matches.Count; i++)
            {
                var current = _matches[merged];
                var next = _matches[i];
                if (next.Start < current.End)
                {
                    _matches[merged] = (current.Start, Math.Max(current.End, next.End));
                }
                else
                {
                    _matches[++merged] = next;
                }
            }

            _matches.RemoveRange(merged + 1, _matches.Count - merged - 1);
        }

        /// <summary>Adds a range; false when it starts before the last one (the list then needs sorting).</summary>
        private bool Add(int start, int end)
        {
            var inOrder = _matches.Count == 0 || _matches[^1].Start <= start;
            _matches.Add((start, end));
            return inOrder;
        }
    }
}
