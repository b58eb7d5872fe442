using System.Text;
using Kaizen.Runner.Debug;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>Everything a terminal printed so far, read in the background, with a wait for text to appear.</summary>
public sealed class TerminalScreen
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _text = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _changed = new(0);

    public string Text
    {
        get
        {
            lock (_lock)
            {
                return _text.ToString();
            }
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            _text.Append(Encoding.UTF8.GetString(data));
        }

        _changed.Release();
    }

    /// <summary>Reads <paramref name="terminal"/> until it ends; returns the reading task.</summary>
    public Task Follow(ITerminal terminal) => Task.Run(async () =>
    {
        var buffer = new byte[32 * 1024];
        int n;
        while ((n = await terminal.ReadAsync(buffer, CancellationToken.None)) > 0)
        {
            Append(buffer.AsSpan(0, n));
        }
    });

    /// <summary>Waits until the text (after <paramref name="from"/>) contains <paramref name="expected"/>; returns the index after it.</summary>
    public async Task<int> WaitForAsync(string expected, int from = 0)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var text = Text;
            var at = text.IndexOf(expected, Math.Min(from, text.Length), StringComparison.Ordinal);
            if (at >= 0)
            {
                return at + expected.Length;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"'{expected}' did not appear. The terminal shows:\n{text}");
            }

            await _changed.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }
}
