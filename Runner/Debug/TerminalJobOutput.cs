using System.Globalization;
using System.Text;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Debug;

/// <summary>
/// Where a debug session's set-up reports (checkout, images and services, setup commands): the browser's terminal,
/// not the job. The output did not pass through a PTY, so lone <c>\n</c> become <c>\r\n</c>; each command shows as
/// <c>$ text</c> and ends with a dim <c>exit N · 1.2 s</c> line.
/// </summary>
public sealed class TerminalJobOutput(TerminalSession session, JobAssignment job) : IJobOutput
{
    private readonly Dictionary<int, string> _texts = CommandTexts(job);
    private readonly Lock _lock = new();
    private bool _afterCr;
    private bool _atLineStart = true;

    public TerminalSession Session => session;

    public ValueTask WriteAsync(int? commandIndex, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        session.WriteAsync(Translate(data.Span, ownLine: false), cancellationToken);

    public void CommandStarted(int index, long atUnixMs)
    {
        if (_texts.TryGetValue(index, out var text))
        {
            Line($"\x1b[1m$ {text}\x1b[0m");
        }
    }

    public void CommandFinished(int index, int exitCode, long durationMs, long atUnixMs)
    {
        var seconds = (durationMs / 1000.0).ToString(durationMs < 10_000 ? "0.0" : "0", CultureInfo.InvariantCulture);
        Line($"\x1b[2mexit {exitCode} · {seconds} s\x1b[0m");
    }

    public void CommandSkipped(int index, long atUnixMs)
    {
    }

    /// <summary>A runner line (in the terminal, not the job's log).</summary>
    public void Line(string text) => session.Post(Translate(Encoding.UTF8.GetBytes(text + "\n"), ownLine: true));

    /// <param name="ownLine">A runner line (command, exit): starts on a line of its own even when the output before it did not end one.</param>
    private byte[] Translate(ReadOnlySpan<byte> data, bool ownLine)
    {
        lock (_lock)
        {
            var result = new List<byte>(data.Length + 16);
            if (ownLine && !_atLineStart)
            {
                result.AddRange("\r\n"u8.ToArray());
            }

            foreach (var b in data)
            {
                if (b == (byte)'\n' && !_afterCr)
                {
                    result.Add((byte)'\r');
                }

                result.Add(b);
                _afterCr = b == (byte)'\r';
            }

            if (data.Length > 0)
            {
                _atLineStart = data[^1] == (byte)'\n';
            }

            return [.. result];
        }
    }

    /// <summary>Each command's text (first line, and "…" when there is more) by index; script steps by their first line.</summary>
    private static Dictionary<int, string> CommandTexts(JobAssignment job)
    {
        var texts = new Dictionary<int, string>();
        foreach (var command in job.Commands)
        {
            texts[command.Index] = Shorten(command.Text);
            if (command.Script is { } script)
            {
                foreach (var step in script.Steps)
                {
                    texts[step.Index] = Shorten(step.Start < script.Body.Length ? script.Body[step.Start..] : "");
                }
            }
        }

        return texts;
    }

    private static string Shorten(string text)
    {
        var trimmed = text.TrimStart();
        var newline = trimmed.IndexOf('\n');
        return newline < 0 ? trimmed : trimmed[..newline].TrimEnd() + " …";
    }
}
