using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Tests.Debug;

/// <summary>A debug session's terminal as a browser uses it, over the portal's WebSocket: types, reads what the shell
/// prints (escape sequences left in), and collects the status messages.</summary>
public sealed class TerminalClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly StringBuilder _screen = new();
    private readonly List<TerminalControl> _controls = [];
    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();
    private Task _reading = Task.CompletedTask;

    public static async Task<TerminalClient> ConnectAsync(Uri portal, long sessionId, string token)
    {
        var client = new TerminalClient();
        client._socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        var uri = new UriBuilder(portal) { Scheme = portal.Scheme == "https" ? "wss" : "ws", Path = $"/api/v1/debug-sessions/{sessionId}/terminal" }.Uri;
        await client._socket.ConnectAsync(uri, CancellationToken.None);
        client._reading = client.ReadAsync();
        return client;
    }

    /// <summary>Everything printed so far.</summary>
    public string Screen
    {
        get
        {
            lock (_screen) return _screen.ToString();
        }
    }

    public IReadOnlyList<TerminalControl> Controls
    {
        get
        {
            lock (_controls) return [.. _controls];
        }
    }

    public bool Closed => _reading.IsCompleted;

    public Task TypeAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Binary, true, CancellationToken.None);

    public Task ResizeAsync(int cols, int rows) =>
        _socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(new TerminalControl(TerminalControl.Resize, Cols: cols, Rows: rows), RunnerJson.Options),
            WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Waits until the screen (from <paramref name="from"/> on) contains <paramref name="text"/>; returns the index after it.</summary>
    public async Task<int> WaitForAsync(string text, int from = 0, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var screen = Screen;
            var at = screen.IndexOf(text, Math.Min(from, screen.Length), StringComparison.Ordinal);
            if (at >= 0) return at + text.Length;
            if (DateTime.UtcNow > deadline || (Closed && Screen.Length == screen.Length))
                throw new Xunit.Sdk.XunitException($"'{text}' did not appear{(Closed ? " (the terminal closed)" : "")}. The terminal showed:\n{screen}\nStatus: {string.Join("; ", Controls.Select(c => $"{c.Type} {c.State} {c.Reason}"))}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until a status message says <paramref name="state"/>.</summary>
    public async Task<TerminalControl> WaitForStateAsync(string state, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            if (Controls.LastOrDefault(c => c.Type == TerminalControl.Status && c.State == state) is { } found) return found;
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"No '{state}' status came. Status: {string.Join("; ", Controls.Select(c => $"{c.Type} {c.State} {c.Reason}"))}\nScreen:\n{Screen}");
            await Task.Delay(50);
        }
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[16 * 1024];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        using var text = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close) return;
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    var n = _utf8.GetChars(buffer, 0, result.Count, chars, 0);
                    lock (_screen) _screen.Append(chars, 0, n);
                    continue;
                }

                text.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var control = JsonSerializer.Deserialize<TerminalControl>(text.ToArray(), RunnerJson.Options)!;
                text.SetLength(0);
                lock (_controls) _controls.Add(control);
            }
        }
        catch (WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        _socket.Dispose();
    }
}
