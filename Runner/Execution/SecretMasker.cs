using System.Text;

namespace Kaizen.Runner.Execution;

/// <summary>
/// The secret values of one job, to be replaced by <see cref="Mask"/> in everything the job and the runner print about
/// it. A value is registered as itself, as each of its lines (trimmed), and in the encodings people print by accident:
/// base64 (e.g. <c>curl -v</c> showing a Basic authorization header, or <c>base64</c> of a key, also wrapped at 76
/// columns), base64url (tokens, JWTs), URL escaping in either hex case (a password inside a git URL) and JSON string
/// escaping (a value in a JSON body or <c>jq</c> output). Matching works on raw UTF-8 bytes, so invalid UTF-8 around a
/// secret does not matter.
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

    /// <summary>Where <c>base64</c>, PEM and MIME wrap their output.</summary>
    private const int WrapColumns = 76;

    /// <summary>
    /// The shortest line of wrapped base64 registered: the last line of a wrapping can be a few characters, which as
    /// a pattern of its own would mask matching text anywhere in a log.
    /// </summary>
    private const int MinimumWrappedLineLength = 16;

    /// <summary>What a secret is replaced with.</summary>
    public static ReadOnlySpan<byte> MaskBytes => "***"u8;

    public const string Mask = "***";

    private readonly object _lock = new();
    private readonly HashSet<string> _values = new(StringComparer.Ordinal);
    private PatternSet _set = new([]);

    /// <summary>
    /// The patterns and a searcher for all of them at once, replaced together: a secret's encodings make dozens of
    /// patterns, and looking for each one separately would scan every byte of a log once per pattern.
    /// </summary>
    private sealed class PatternSet
    {
        public PatternSet(byte[][] patterns)
        {
            Patterns = patterns;
            // Latin-1 maps each byte to the char of the same value, so arbitrary bytes (invalid UTF-8 included) are
            // searched as chars with the framework's multi-string search.
            Search = patterns.Length == 0 ? null
                : System.Buffers.SearchValues.Create([.. patterns.Select(Encoding.Latin1.GetString)], StringComparison.Ordinal);
        }

        public byte[][] Patterns { get; }

        public System.Buffers.SearchValues<string>? Search { get; }
    }

    /// <summary>The byte patterns currently masked (values, their lines and encodings), longest first.</summary>
    public IReadOnlyList<byte[]> Patterns => Volatile.Read(ref _set).Patterns;

    /// <summary>The length in bytes of the longest pattern; 0 when nothing is masked.</summary>
    public int LongestPattern => Patterns.Count == 0 ? 0 : Patterns[0].Length;

    public bool IsEmpty => Patterns.Count == 0;

    /// <summary>A masker with every one of <paramref name="values"/> registered (a null value is none).</summary>
    public static SecretMasker Of(IEnumerable<string?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var masker = new SecretMasker();
        foreach (var value in values)
        {
            masker.Add(value ?? "");
        }

        return masker;
    }

    /// <summary>Registers <paramref name="value"/>, each of its lines and its common encodings; short parts are ignored (see remarks).</summary>
    public void Add(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var candidates = new List<string> { value };
        foreach (var line in value.Split('\n'))
        {
            candidates.Add(line.Trim());
        }

        if (value.Length >= MinimumLength)
        {
            candidates.AddRange(UrlEscaped(value));
            candidates.AddRange(JsonEscaped(value));
            candidates.AddRange(Base64Forms(value));
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

            if (added)
            {
                Volatile.Write(ref _set, new PatternSet([.. _values.Select(Encoding.UTF8.GetBytes).OrderByDescending(p => p.Length)]));
            }
        }
    }

    /// <summary>
    /// The value as URL escaping writes it (a password in a git URL, a query string): every reserved character
    /// escaped, or all but <c>/</c> as path escaping (Python's <c>quote</c>) leaves it, each with upper-case hex (.NET,
    /// curl) and lower-case hex (some languages and hand-written encoders).
    /// </summary>
    private static IEnumerable<string> UrlEscaped(string value)
    {
        var escaped = Uri.EscapeDataString(value);
        if (escaped == value)
        {
            yield break;
        }

        yield return escaped;
        yield return LowerCaseEscapes(escaped);
        var path = escaped.Replace("%2F", "/", StringComparison.Ordinal);
        if (path != escaped)
        {
            yield return path;
            yield return LowerCaseEscapes(path);
        }
    }

    /// <summary><paramref name="escaped"/> (URL escaped) with the two hex digits after each <c>%</c> in lower case.</summary>
    private static string LowerCaseEscapes(string escaped) => string.Create(escaped.Length, escaped, static (chars, source) =>
    {
        source.CopyTo(chars);
        // An escaped text's every '%' starts an escape (a literal '%' is itself written %25).
        for (var i = 0; i + 2 < chars.Length; i++)
        {
            if (chars[i] == '%')
            {
                chars[i + 1] = char.ToLowerInvariant(chars[i + 1]);
                chars[i + 2] = char.ToLowerInvariant(chars[i + 2]);
                i += 2;
            }
        }
    });

    /// <summary>
    /// The value inside a JSON string, as the common writers escape it: System.Text.Json (by default HTML-sensitive and
    /// non-ASCII characters as upper-case <c>\uXXXX</c>, relaxed only what JSON requires), <c>jq</c> (only quotes, backslashes and control characters,
    /// lower-case hex) and Python's <c>json.dumps</c> (as jq, plus non-ASCII as <c>\uxxxx</c>). A value needing no
    /// escaping gives itself back, which is already registered.
    /// </summary>
    private static IEnumerable<string> JsonEscaped(string value)
    {
        yield return System.Text.Json.JsonSerializer.Serialize(value)[1..^1];
        yield return System.Text.Json.JsonSerializer.Serialize(value, RelaxedJson)[1..^1];
        yield return JsonEscape(value, asciiOnly: false);
        yield return JsonEscape(value, asciiOnly: true);
    }

    private static readonly System.Text.Json.JsonSerializerOptions RelaxedJson =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string JsonEscape(string value, bool asciiOnly)
    {
        var text = new StringBuilder(value.Length + 16);
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                '\b' => text.Append("\\b"),
                '\f' => text.Append("\\f"),
                < ' ' or '\x7f' => text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                > '\x7f' when asciiOnly => text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => text.Append(c),
            };
        }

        return text.ToString();
    }

    /// <summary>
    /// Base64 and base64url (<c>-_</c>, no padding) of a text holding the value, and the lines of <c>base64</c>'s
    /// output wrapped at 76 columns.
    /// </summary>
    private static IEnumerable<string> Base64Forms(string value)
    {
        // Which characters base64 yields depends on where the value starts relative to a 3-byte group, so take the
        // full groups of the value started at each of the three offsets (the first and last one or two bytes may stay
        // visible, the rest is masked).
        var bytes = Encoding.UTF8.GetBytes(value);
        for (var offset = 0; offset < 3 && bytes.Length - offset >= 3; offset++)
        {
            var whole = (bytes.Length - offset) / 3 * 3;
            var encoded = Convert.ToBase64String(bytes, offset, whole);
            if (encoded.Length < MinimumEncodedLength)
            {
                continue;
            }

            yield return encoded;
            yield return encoded.Replace('+', '-').Replace('/', '_');
            if (offset != 0)
            {
                continue;
            }

            // `base64` (and PEM, MIME) breaks its output every 76 characters, so a value over 57 bytes never appears
            // in one piece; its lines do when the value is encoded from its start (a file or a variable piped in).
            // A 76-column line holds exactly 57 bytes, so the lines match whatever follows the value (a newline from echo).
            for (var start = 0; start < encoded.Length && encoded.Length > WrapColumns; start += WrapColumns)
            {
                var line = encoded.Substring(start, Math.Min(WrapColumns, encoded.Length - start));
                if (line.Length >= MinimumWrappedLineLength)
                {
                    yield return line;
                }
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
    /// Three reused buffers; no allocation per piece once they are large enough.
    /// </remarks>
    public sealed class Filter
    {
        private readonly SecretMasker _masker;
        private readonly List<(int Start, int End)> _matches = [];
        private byte[] _work = new byte[4096];
        private byte[] _out = new byte[4096];
        private char[] _chars = new char[4096];
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
            var set = Volatile.Read(ref _masker._set);
            var patterns = set.Patterns;
            var length = _tail + data.Length;
            if (_work.Length < length)
            {
                Array.Resize(ref _work, Math.Max(length, _work.Length * 2));
            }

            data.CopyTo(_work.AsSpan(_tail));
            var window = _work.AsSpan(0, length);
            // Bytes from `limit` on could begin a secret the next piece completes; everything before it is final.
            var limit = flush ? length : HoldFrom(window, patterns);
            FindMatches(window, set);

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
        private void FindMatches(ReadOnlySpan<byte> window, PatternSet set)
        {
            _matches.Clear();
            if (set.Search is not { } search)
            {
                return;
            }

            if (_chars.Length < window.Length)
            {
                Array.Resize(ref _chars, Math.Max(window.Length, _chars.Length * 2));
            }

            var text = _chars.AsSpan(0, Encoding.Latin1.GetChars(window, _chars));
            var from = 0;
            while (from < text.Length)
            {
                var found = text[from..].IndexOfAny(search);
                if (found < 0)
                {
                    break;
                }

                // Only the longest pattern starting here matters: the shorter ones' ranges lie inside its range.
                var start = from + found;
                var end = start;
                foreach (var pattern in set.Patterns)
                {
                    if (window[start..].StartsWith(pattern))
                    {
                        end = start + pattern.Length;
                        break;
                    }
                }

                // Starts only grow, so an overlap can only be with the last range (adjacent ones stay apart: two
                // secrets side by side are two masks).
                if (_matches.Count > 0 && start < _matches[^1].End)
                {
                    _matches[^1] = (_matches[^1].Start, Math.Max(_matches[^1].End, end));
                }
                else
                {
                    _matches.Add((start, end));
                }

                from = start + 1;
            }
        }
    }
}
