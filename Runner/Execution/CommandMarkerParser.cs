namespace Kaizen.Runner.Execution;

/// <summary>
/// Finds the end-of-command marker <c>"\n" + prefix + exit code digits + "\n"</c> in a byte stream fed in arbitrary
/// pieces. Everything before the marker is command output. The prefix starts with the only newline it contains,
/// so a failed partial match can restart only at a newline: no KMP table needed, and the state is one counter.
/// </summary>
internal sealed class CommandMarkerParser
{
    private const int MaxDigits = 10;
    private readonly byte[] _pattern;
    private int _matched;   // bytes of _pattern matched so far, possibly across earlier Feed calls
    private bool _inCode;   // the whole pattern matched; reading the exit code digits
    private int _code;
    private int _digits;

    /// <param name="prefix">Marker text after its leading newline, e.g. <c>##kaizen-&lt;nonce&gt;:</c>; must not contain a newline.</param>
    public CommandMarkerParser(ReadOnlySpan<byte> prefix)
    {
        if (prefix.IsEmpty || prefix.Contains((byte)'\n'))
        {
            throw new ArgumentException("The marker prefix must be non-empty and contain no newline.", nameof(prefix));
        }

        _pattern = new byte[prefix.Length + 1];
        _pattern[0] = (byte)'\n';
        prefix.CopyTo(_pattern.AsSpan(1));
    }

    /// <summary>The bytes <see cref="FeedResult.Replay"/> refers to: a prefix of this is output held back earlier.</summary>
    public ReadOnlyMemory<byte> Pattern => _pattern;

    /// <summary>
    /// Scans <paramref name="data"/>. Output to emit, in order: <c>Pattern[..Replay]</c> (bytes held back by an earlier
    /// call that turned out not to be a marker), then <c>data[..OutputLength]</c>. When <see cref="FeedResult.Completed"/>,
    /// the marker ended at <c>data[Consumed - 1]</c> and the rest of <paramref name="data"/> belongs to what comes next.
    /// </summary>
    public FeedResult Feed(ReadOnlySpan<byte> data)
    {
        var replay = 0;
        var matchStart = -_matched - (_inCode ? _digits : 0); // where the pending marker starts; negative = earlier call
        var i = 0;
        while (i < data.Length)
        {
            if (_inCode)
            {
                var b = data[i++];
                if (b == (byte)'\n')
                {
                    var exitCode = _code;
                    var outputLength = Math.Max(matchStart, 0);
                    Reset();
                    return new FeedResult(replay, outputLength, i, true, exitCode);
                }

                if (char.IsAsciiDigit((char)b) && _digits < MaxDigits)
                {
                    _code = (_code * 10) + (b - '0');
                    _digits++;
                }

                continue;
            }

            if (_matched == 0)
            {
                // Fast path: jump to the next newline (vectorised).
                var next = data[i..].IndexOf((byte)'\n');
                if (next < 0)
                {
                    i = data.Length;
                    break;
                }

                i += next;
                matchStart = i;
                _matched = 1;
                i++;
                continue;
            }

            if (data[i] == _pattern[_matched])
            {
                _matched++;
                i++;
                if (_matched == _pattern.Length)
                {
                    _inCode = true;
                }

                continue;
            }

            // Mismatch: the pending bytes are output after all.
            if (matchStart < 0)
            {
                replay = -matchStart;
            }

            _matched = 0; // do not advance: data[i] may be the newline that starts the real marker
        }

        var pending = _inCode || _matched > 0;
        return new FeedResult(replay, pending ? Math.Max(matchStart, 0) : data.Length, data.Length, false, 0);
    }

    /// <summary>Forgets any partial marker (after a marker completes, or when a session ends).</summary>
    public void Reset()
    {
        _matched = 0;
        _inCode = false;
        _code = 0;
        _digits = 0;
    }

    /// <summary>How many bytes of <see cref="Pattern"/> are held back as a possible marker (output, if the stream ends here).</summary>
    public int PendingLength => _matched;
}

internal readonly record struct FeedResult(int Replay, int OutputLength, int Consumed, bool Completed, int ExitCode);
