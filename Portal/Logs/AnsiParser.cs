using System.Buffers;

namespace Kaizen.Portal.Logs;

/// <summary>
/// Turns one line of terminal output into styled segments, the way a terminal would have shown it: SGR sequences
/// (ESC[…m) set colours and attributes and carry over to later lines, as in a terminal; <c>\r</c> returns to the
/// start of the line so later text overwrites earlier text (progress bars end in their final state); ESC[K erases;
/// every other escape or control sequence (cursor moves, window titles, hyperlinks) is dropped rather than shown.
/// One parser per log: it is not thread-safe.
/// </summary>
public sealed class AnsiParser
{
    private static readonly SearchValues<char> Special = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000b\u000c\u000d\u000e\u000f" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f\u009b");

    private char[] _chars = new char[256];
    private AnsiStyle[] _styles = new AnsiStyle[256];
    private int _length;
    private int _cursor;

    /// <summary>The style in effect at the end of the last parsed line (where the next line starts).</summary>
    public AnsiStyle Style { get; set; } = AnsiStyle.Default;

    /// <summary>Parses one line (without its line feed). Returns no segments for a line that shows nothing.</summary>
    public AnsiSegment[] ParseLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Length == 0) return [];
        // Most lines are plain text: one segment, no copying.
        if (line.AsSpan().IndexOfAny(Special) < 0) return [new AnsiSegment(line, Style)];

        _length = 0;
        _cursor = 0;
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            switch (c)
            {
                case '\u001b':
                    i = Escape(line, i + 1);
                    continue;
                case '\u009b':
                    i = Csi(line, i + 1);
                    continue;
                case '\r':
                    _cursor = 0;
                    break;
                case '\b':
                    if (_cursor > 0) _cursor--;
                    break;
                case '\t':
                    Put('\t');
                    break;
                default:
                    if (c >= ' ' && c != '\u007f') Put(c);
                    break;
            }
            i++;
        }
        return Segments();
    }

    /// <summary>
    /// Moves <see cref="Style"/> past a line the way <see cref="ParseLine"/> would, without producing its text: the same
    /// escape sequences are recognised, and only SGR changes anything. What an index of a long log needs per line.
    /// </summary>
    public void Follow(ReadOnlySpan<char> line)
    {
        _styleOnly = true;
        try
        {
            var i = 0;
            while (i < line.Length)
            {
                var k = line[i..].IndexOfAny('\u001b', '\u009b');
                if (k < 0) return;
                i += k;
                i = line[i] == '\u001b' ? Escape(line, i + 1) : Csi(line, i + 1);
            }
        }
        finally
        {
            _styleOnly = false;
        }
    }

    private bool _styleOnly;

    /// <summary>Plain text of segments (what search looks at).</summary>
    public static string PlainText(AnsiSegment[] segments) => segments.Length switch
    {
        0 => "",
        1 => segments[0].Text,
        _ => string.Concat(segments.Select(s => s.Text)),
    };

    private void Put(char c)
    {
        EnsureCapacity(Math.Max(_cursor, _length) + 1);
        while (_length < _cursor)
        {
            _chars[_length] = ' ';
            _styles[_length++] = AnsiStyle.Default;
        }
        _chars[_cursor] = c;
        _styles[_cursor] = Style;
        _cursor++;
        if (_cursor > _length) _length = _cursor;
    }

    private void EnsureCapacity(int size)
    {
        if (size <= _chars.Length) return;
        var n = Math.Max(size, _chars.Length * 2);
        Array.Resize(ref _chars, n);
        Array.Resize(ref _styles, n);
    }

    private AnsiSegment[] Segments()
    {
        if (_length == 0) return [];
        var result = new List<AnsiSegment>();
        var start = 0;
        for (var k = 1; k <= _length; k++)
        {
            if (k < _length && _styles[k] == _styles[start]) continue;
            result.Add(new AnsiSegment(new string(_chars, start, k - start), _styles[start]));
            start = k;
        }
        return [.. result];
    }

    // i points just after ESC; returns the index after the whole sequence (or the end of the line if it is cut off).
    private int Escape(ReadOnlySpan<char> s, int i)
    {
        if (i >= s.Length) return i;
        switch (s[i])
        {
            case '[':
                return Csi(s, i + 1);
            case ']': // OSC: window titles, hyperlinks; ends with BEL or ST (ESC \).
            case 'P': // DCS
            case 'X': // SOS
            case '^': // PM
            case '_': // APC
                for (var k = i + 1; k < s.Length; k++)
                {
                    if (s[k] == '\u0007') return k + 1;
                    if (s[k] == '\u001b' && k + 1 < s.Length && s[k + 1] == '\\') return k + 2;
                }
                return s.Length;
            default:
                // Two-character sequences such as ESC ( B (charset) or ESC 7 (save cursor): intermediates, then a final.
                while (i < s.Length && s[i] is >= ' ' and <= '/') i++;
                return Math.Min(i + 1, s.Length);
        }
    }

    // i points just after "ESC[" (or the one-byte CSI).
    private int Csi(ReadOnlySpan<char> s, int i)
    {
        var paramStart = i;
        while (i < s.Length && s[i] is >= '0' and <= '?') i++;
        var paramEnd = i;
        while (i < s.Length && s[i] is >= ' ' and <= '/') i++;
        if (i >= s.Length) return s.Length; // cut off: drop it
        var final = s[i];
        var intermediates = i > paramEnd;
        var parameters = s.Slice(paramStart, paramEnd - paramStart);
        var isPrivate = parameters.Length > 0 && parameters[0] is '<' or '=' or '>' or '?';
        if (!intermediates && !isPrivate && _styleOnly)
        {
            if (final == 'm') Sgr(parameters);
        }
        else if (!intermediates && !isPrivate)
        {
            switch (final)
            {
                case 'm': Sgr(parameters); break;
                case 'K': EraseInLine(FirstNumber(parameters, 0)); break;
                case 'G': _cursor = Math.Max(1, FirstNumber(parameters, 1)) - 1; break;
                case 'C': _cursor += Math.Max(1, FirstNumber(parameters, 1)); break;
                case 'D': _cursor = Math.Max(0, _cursor - Math.Max(1, FirstNumber(parameters, 1))); break;
            }
        }
        return i + 1;
    }

    private void EraseInLine(int mode)
    {
        switch (mode)
        {
            case 0:
                _length = Math.Min(_length, _cursor);
                break;
            case 1:
                for (var k = 0; k < Math.Min(_cursor + 1, _length); k++)
                {
                    _chars[k] = ' ';
                    _styles[k] = AnsiStyle.Default;
                }
                break;
            case 2:
                _length = 0;
                break;
        }
    }

    private static int FirstNumber(ReadOnlySpan<char> parameters, int fallback)
    {
        var end = parameters.IndexOfAny(';', ':');
        var first = end < 0 ? parameters : parameters[..end];
        return int.TryParse(first, out var n) ? n : fallback;
    }

    private void Sgr(ReadOnlySpan<char> parameters)
    {
        if (parameters.IsEmpty)
        {
            Style = AnsiStyle.Default;
            return;
        }
        var codes = new List<int>(8);
        foreach (var range in parameters.Split(';'))
        {
            var group = parameters[range];
            if (group.Contains(':'))
            {
                ColonGroup(group);
                continue;
            }
            codes.Add(group.IsEmpty ? 0 : int.TryParse(group, out var n) ? n : -1);
        }
        for (var k = 0; k < codes.Count; k++)
        {
            var code = codes[k];
            if (code is 38 or 48)
            {
                // 38;5;n (palette) or 38;2;r;g;b (24-bit); a malformed one swallows the rest, as terminals do.
                var mode = k + 1 < codes.Count ? codes[k + 1] : -1;
                int? color = null;
                if (mode == 5 && k + 2 < codes.Count)
                {
                    color = Math.Clamp(codes[k + 2], 0, 255);
                    k += 2;
                }
                else if (mode == 2 && k + 4 < codes.Count)
                {
                    color = AnsiStyle.Rgb(codes[k + 2], codes[k + 3], codes[k + 4]);
                    k += 4;
                }
                else
                {
                    break;
                }
                Style = code == 38 ? Style with { Foreground = color.Value } : Style with { Background = color.Value };
                continue;
            }
            Apply(code);
        }
    }

    // ITU T.416 form with colons: 38:5:n, 38:2::r:g:b (or 38:2:r:g:b), 4:3 (curly underline).
    private void ColonGroup(ReadOnlySpan<char> group)
    {
        var parts = new List<int>(6);
        foreach (var range in group.Split(':'))
            parts.Add(int.TryParse(group[range], out var n) ? n : -1);
        int? color = null;
        if (parts is [38 or 48, 5, var index, ..]) color = Math.Clamp(index, 0, 255);
        else if (parts is [38 or 48, 2, _, var r, var g, var b, ..]) color = AnsiStyle.Rgb(r, g, b);
        else if (parts is [38 or 48, 2, var r2, var g2, var b2]) color = AnsiStyle.Rgb(r2, g2, b2);
        if (color is { } c)
            Style = parts[0] == 38 ? Style with { Foreground = c } : Style with { Background = c };
        else if (parts is [4, var underline, ..])
            Apply(underline == 0 ? 24 : 4);
    }

    private void Apply(int code)
    {
        var s = Style;
        Style = code switch
        {
            0 => AnsiStyle.Default,
            1 => s with { Flags = s.Flags | AnsiFlags.Bold },
            2 => s with { Flags = s.Flags | AnsiFlags.Dim },
            3 => s with { Flags = s.Flags | AnsiFlags.Italic },
            4 or 21 => s with { Flags = s.Flags | AnsiFlags.Underline },
            7 => s with { Flags = s.Flags | AnsiFlags.Inverse },
            9 => s with { Flags = s.Flags | AnsiFlags.Strike },
            22 => s with { Flags = s.Flags & ~(AnsiFlags.Bold | AnsiFlags.Dim) },
            23 => s with { Flags = s.Flags & ~AnsiFlags.Italic },
            24 => s with { Flags = s.Flags & ~AnsiFlags.Underline },
            27 => s with { Flags = s.Flags & ~AnsiFlags.Inverse },
            29 => s with { Flags = s.Flags & ~AnsiFlags.Strike },
            >= 30 and <= 37 => s with { Foreground = code - 30 },
            39 => s with { Foreground = AnsiStyle.DefaultColor },
            >= 40 and <= 47 => s with { Background = code - 40 },
            49 => s with { Background = AnsiStyle.DefaultColor },
            >= 90 and <= 97 => s with { Foreground = code - 90 + 8 },
            >= 100 and <= 107 => s with { Background = code - 100 + 8 },
            _ => s,
        };
    }
}
