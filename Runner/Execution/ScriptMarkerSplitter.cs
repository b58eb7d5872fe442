using System.Text;

namespace Kaizen.Runner.Execution;

/// <summary>
/// Finds a script's step markers, <c>"\n" + prefix + payload + "."</c> with a short <c>[a-z0-9]</c> payload, in output
/// fed in arbitrary pieces, and hands on everything else as output, in order. Like <see cref="CommandMarkerParser"/>
/// the leading newline belongs to the marker (so output without a final newline stays as it was) and a partial match
/// is held back until it is decided; bytes that turn out not to be a marker are handed on unchanged. The marker ends
/// with a dot, not a newline: the session holds back a newline at the end of what it read (it may start its own
/// marker), which would delay a step's start until the step printed something.
/// </summary>
internal sealed class ScriptMarkerSplitter
{
    private const int MaxPayload = 24;

    /// <summary>What ends a marker.</summary>
    public const byte Terminator = (byte)'.';

    private readonly byte[] _pattern;
    private readonly byte[] _payload = new byte[MaxPayload];
    private int _matched;       // bytes of _pattern held back so far
    private int _payloadLength;
    private bool _inPayload;    // the whole pattern matched; reading the payload

    /// <param name="prefix">The marker after its newline, e.g. <c>##kaizen-script-&lt;nonce&gt;:</c>; no newline in it.</param>
    public ScriptMarkerSplitter(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.Contains('\n')) throw new ArgumentException("The marker prefix must contain no newline.", nameof(prefix));
        _pattern = Encoding.ASCII.GetBytes("\n" + prefix);
    }

    /// <summary>Scans <paramref name="data"/>: output goes to <paramref name="output"/> (slices of <paramref name="data"/>
    /// or of held-back bytes, valid during the call), each marker's payload to <paramref name="marker"/>.</summary>
    public async ValueTask FeedAsync(ReadOnlyMemory<byte> data, Func<ReadOnlyMemory<byte>, ValueTask> output, Func<string, ValueTask> marker)
    {
        var i = 0;
        var from = 0; // start of output not yet handed on (when nothing is held back)
        while (i < data.Length)
        {
            if (_inPayload)
            {
                var b = data.Span[i];
                if (b == Terminator)
                {
                    var payload = Encoding.ASCII.GetString(_payload, 0, _payloadLength);
                    _inPayload = false;
                    _payloadLength = 0;
                    i++;
                    from = i;
                    await marker(payload).ConfigureAwait(false);
                    continue;
                }
                if (_payloadLength < MaxPayload && (char.IsAsciiLetterLower((char)b) || char.IsAsciiDigit((char)b)))
                {
                    _payload[_payloadLength++] = b;
                    i++;
                    continue;
                }
                // Not a marker after all: what was held back is output; look at this byte again.
                await ReplayAsync(output).ConfigureAwait(false);
                from = i;
                continue;
            }

            if (_matched == 0)
            {
                var next = data.Span[i..].IndexOf((byte)'\n');
                if (next < 0)
                {
                    i = data.Length;
                    break;
                }
                i += next;
                if (i > from) await output(data[from..i]).ConfigureAwait(false);
                _matched = 1;
                i++;
                continue;
            }

            if (data.Span[i] == _pattern[_matched])
            {
                _matched++;
                i++;
                if (_matched == _pattern.Length)
                {
                    _matched = 0;
                    _inPayload = true;
                }
                continue;
            }

            await ReplayAsync(output).ConfigureAwait(false);
            from = i;
        }

        if (!Holding && data.Length > from) await output(data[from..]).ConfigureAwait(false);
    }

    /// <summary>Hands on what is held back (the stream ended).</summary>
    public ValueTask FlushAsync(Func<ReadOnlyMemory<byte>, ValueTask> output) => Holding ? ReplayAsync(output) : ValueTask.CompletedTask;

    private bool Holding => _matched > 0 || _inPayload;

    private async ValueTask ReplayAsync(Func<ReadOnlyMemory<byte>, ValueTask> output)
    {
        var held = _inPayload ? _pattern.Length : _matched;
        var payload = _inPayload ? _payloadLength : 0;
        _matched = 0;
        _inPayload = false;
        _payloadLength = 0;
        await output(_pattern.AsMemory(0, held)).ConfigureAwait(false);
        if (payload > 0) await output(_payload.AsMemory(0, payload).ToArray()).ConfigureAwait(false);
    }
}
