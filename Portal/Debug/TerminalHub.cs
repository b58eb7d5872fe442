using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Debug;

/// <summary>
/// Relays debug sessions' terminals: one runner connection per session (the shell's side) and any number of browser
/// connections of its user. Bytes go through untouched both ways; the recent output is kept so a browser that connects
/// (or reloads) late sees the screen's story. Lives in the portal process: runners reconnect after a portal restart.
/// </summary>
public sealed class TerminalHub(TimeProvider time, ILogger<TerminalHub> logger)
{
    /// <summary>How much recent output a browser that connects late is sent first.</summary>
    public const int ScrollbackBytes = 256 * 1024;

    private const int MaxTextMessage = 64 * 1024;
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<long, Relay> _relays = new();

    /// <summary>Whether the session's runner is connected now.</summary>
    public bool RunnerConnected(long sessionId) => _relays.TryGetValue(sessionId, out var relay) && relay.Runner is not null;

    /// <summary>Whether the session's runner has connected to this process at all (now or earlier).</summary>
    public bool RunnerEverConnected(long sessionId) =>
        _relays.TryGetValue(sessionId, out var relay) && (relay.Runner is not null || relay.RunnerGoneAt is not null);

    /// <summary>When the session's runner last disconnected (null: connected now, or never seen by this process).</summary>
    public DateTimeOffset? RunnerGoneSince(long sessionId) =>
        _relays.TryGetValue(sessionId, out var relay) && relay.Runner is null ? relay.RunnerGoneAt : null;

    /// <summary>Browsers watching the session now (for tests and status).</summary>
    public int BrowserCount(long sessionId) => _relays.TryGetValue(sessionId, out var relay) ? relay.BrowserCount : 0;

    /// <summary>
    /// Serves the runner's side until it disconnects: its binary messages go to the browsers (and the scrollback), its
    /// control messages to <paramref name="onControl"/>. A second connection for the same session replaces the first.
    /// <paramref name="greeting"/> is sent first (the session's current end; the last size a browser asked for follows).
    /// </summary>
    public async Task ServeRunnerAsync(long sessionId, WebSocket socket, IReadOnlyList<TerminalControl> greeting,
        Func<TerminalControl, Task> onControl, CancellationToken ct)
    {
        var relay = _relays.GetOrAdd(sessionId, id => new Relay(id));
        var peer = new Peer(socket);
        var previous = relay.AttachRunner(peer);
        if (previous is not null) await previous.CloseAsync("replaced by a new connection");
        foreach (var control in greeting) await peer.SendControlAsync(control);
        if (relay.LastResize is { } size) await peer.SendControlAsync(size);
        try
        {
            await ReceiveAsync(socket, async (type, data) =>
            {
                if (type == WebSocketMessageType.Binary)
                {
                    relay.Remember(data.Span);
                    foreach (var browser in relay.Browsers) await SendOrDropAsync(relay, browser, data, WebSocketMessageType.Binary);
                }
                else if (Parse(data) is { } control)
                {
                    await onControl(control);
                }
            }, ct);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            logger.LogInformation("Debug session {Session}: the runner's connection ended ({Error})", sessionId, ex.Message);
        }
        finally
        {
            relay.DetachRunner(peer, time.GetUtcNow());
        }
    }

    /// <summary>
    /// Serves one browser until it disconnects or the session ends: <paramref name="status"/> and the recent output
    /// first, then what the user types goes to the runner and resizes are remembered and passed on.
    /// </summary>
    public async Task ServeBrowserAsync(long sessionId, WebSocket socket, TerminalControl status, CancellationToken ct)
    {
        var peer = new Peer(socket);
        await peer.SendControlAsync(status);
        if (status.State == DebugStates.Ended)
        {
            // What the session showed stays readable for a while after it ended (a reload after `exit`).
            if (_relays.TryGetValue(sessionId, out var ended) && ended.Scrollback() is { Length: > 0 } last)
                await peer.SendAsync(last, WebSocketMessageType.Binary);
            await peer.CloseAsync(status.Reason ?? "the session ended");
            return;
        }

        var relay = _relays.GetOrAdd(sessionId, id => new Relay(id));
        var scrollback = relay.AddBrowser(peer);
        // The state may have changed between reading it and joining the relay (a runner took the session, or opened it):
        // that change went to the browsers already there, so this one gets it now. A change after joining reaches it anyway.
        if (relay.LastStatus is { } changed && changed != status) await peer.SendControlAsync(changed);
        if (scrollback.Length > 0) await peer.SendAsync(scrollback, WebSocketMessageType.Binary);
        if (relay.EndedAt is not null)
        {
            // It ended while this browser connected: the end's own message went to the others.
            relay.RemoveBrowser(peer);
            await peer.CloseAsync("the session ended");
            return;
        }

        try
        {
            await ReceiveAsync(socket, async (type, data) =>
            {
                if (type == WebSocketMessageType.Binary)
                {
                    if (relay.Runner is { } runner) await runner.TrySendAsync(data, WebSocketMessageType.Binary);
                }
                else if (Parse(data) is { Type: TerminalControl.Resize, Cols: > 0 and <= 1000, Rows: > 0 and <= 1000 } resize)
                {
                    relay.LastResize = new TerminalControl(TerminalControl.Resize, Cols: resize.Cols, Rows: resize.Rows);
                    if (relay.Runner is { } runner) await runner.TrySendControlAsync(relay.LastResize);
                }
            }, ct);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            relay.RemoveBrowser(peer);
        }
    }

    /// <summary>Tells the session's runner something (an extension), if it is connected.</summary>
    public async Task SendToRunnerAsync(long sessionId, TerminalControl control)
    {
        if (_relays.TryGetValue(sessionId, out var relay) && relay.Runner is { } runner) await runner.TrySendControlAsync(control);
    }

    /// <summary>Tells every browser of the session its new state.</summary>
    public async Task SendToBrowsersAsync(long sessionId, TerminalControl control)
    {
        // Remembered before the browsers are listed (see ServeBrowserAsync): none that joins meanwhile misses it.
        // An ended session's relay is kept a while, then dropped: its late news makes no new one.
        Relay? relay;
        if (control.State != DebugStates.Ended) relay = _relays.GetOrAdd(sessionId, id => new Relay(id));
        else if (!_relays.TryGetValue(sessionId, out relay)) return;
        relay.LastStatus = control;
        foreach (var browser in relay.Browsers) await browser.TrySendControlAsync(control);
    }

    /// <summary>How long the output of an ended session stays readable (in memory only) before it is dropped.</summary>
    public static readonly TimeSpan KeepEnded = TimeSpan.FromMinutes(15);

    /// <summary>The session is over: the runner is told to stop (and closes its side once it has cleaned up), the browsers
    /// get the final state and are closed. The scrollback stays for <see cref="KeepEnded"/>.</summary>
    public async Task EndAsync(long sessionId, TerminalControl finalStatus)
    {
        if (!_relays.TryGetValue(sessionId, out var relay) || !relay.End(time.GetUtcNow())) return;
        if (relay.Runner is { } runner) await runner.TrySendControlAsync(new TerminalControl(TerminalControl.End, Reason: finalStatus.Reason));
        foreach (var browser in relay.Browsers)
        {
            relay.RemoveBrowser(browser);
            await browser.TrySendControlAsync(finalStatus);
            await browser.CloseAsync(finalStatus.Reason ?? "the session ended");
        }
    }

    /// <summary>Drops the output of sessions that ended more than <see cref="KeepEnded"/> ago.</summary>
    public void DropEnded()
    {
        var before = time.GetUtcNow() - KeepEnded;
        foreach (var (id, relay) in _relays)
        {
            if (relay.EndedAt < before) _relays.TryRemove(id, out _);
        }
    }

    private async Task SendOrDropAsync(Relay relay, Peer browser, ReadOnlyMemory<byte> data, WebSocketMessageType type)
    {
        if (!await browser.TrySendAsync(data, type))
        {
            relay.RemoveBrowser(browser);
            await browser.CloseAsync("too slow");
        }
    }

    internal static TerminalControl? Parse(ReadOnlyMemory<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize<TerminalControl>(json.Span, RunnerJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Reads messages until the peer closes: binary pieces as they come, text messages whole (at most 64 KB).</summary>
    private static async Task ReceiveAsync(WebSocket socket, Func<WebSocketMessageType, ReadOnlyMemory<byte>, Task> onMessage, CancellationToken ct)
    {
        var buffer = new byte[32 * 1024];
        using var text = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            var result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }
                return;
            }

            if (result.MessageType == WebSocketMessageType.Binary)
            {
                if (result.Count > 0) await onMessage(WebSocketMessageType.Binary, buffer.AsMemory(0, result.Count));
                continue;
            }

            if (text.Length + result.Count > MaxTextMessage)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "control messages are at most 64 KB", CancellationToken.None);
                return;
            }

            text.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                await onMessage(WebSocketMessageType.Text, text.ToArray());
                text.SetLength(0);
            }
        }
    }

    private sealed class Relay(long id)
    {
        private readonly Lock _gate = new();
        private readonly List<Peer> _browsers = [];
        private readonly byte[] _scrollback = new byte[ScrollbackBytes];
        private int _start;
        private int _length;

        public long Id { get; } = id;

        public Peer? Runner { get; private set; }

        public DateTimeOffset? RunnerGoneAt { get; private set; }

        public TerminalControl? LastResize { get; set; }

        /// <summary>The last state told to browsers: one that connects as it changes gets it too.</summary>
        public TerminalControl? LastStatus { get; set; }

        public DateTimeOffset? EndedAt { get; private set; }

        /// <summary>Marks the relay ended; false when it already was.</summary>
        public bool End(DateTimeOffset at)
        {
            lock (_gate)
            {
                if (EndedAt is not null) return false;
                EndedAt = at;
                return true;
            }
        }

        public IReadOnlyList<Peer> Browsers
        {
            get
            {
                lock (_gate) return [.. _browsers];
            }
        }

        public int BrowserCount
        {
            get
            {
                lock (_gate) return _browsers.Count;
            }
        }

        public Peer? AttachRunner(Peer peer)
        {
            lock (_gate)
            {
                var previous = Runner;
                Runner = peer;
                RunnerGoneAt = null;
                return previous;
            }
        }

        public void DetachRunner(Peer peer, DateTimeOffset at)
        {
            lock (_gate)
            {
                if (Runner != peer) return;
                Runner = null;
                RunnerGoneAt = at;
            }
        }

        /// <summary>Adds a browser and returns the scrollback it must be sent first (taken together, so nothing is shown twice or missed).</summary>
        public byte[] AddBrowser(Peer peer)
        {
            lock (_gate)
            {
                _browsers.Add(peer);
                return Scrollback();
            }
        }

        public byte[] Scrollback()
        {
            lock (_gate)
            {
                var copy = new byte[_length];
                var first = Math.Min(_length, _scrollback.Length - _start);
                Array.Copy(_scrollback, _start, copy, 0, first);
                Array.Copy(_scrollback, 0, copy, first, _length - first);
                return copy;
            }
        }

        public void RemoveBrowser(Peer peer)
        {
            lock (_gate) _browsers.Remove(peer);
        }

        public void Remember(ReadOnlySpan<byte> data)
        {
            lock (_gate)
            {
                if (data.Length >= _scrollback.Length)
                {
                    data[^_scrollback.Length..].CopyTo(_scrollback);
                    _start = 0;
                    _length = _scrollback.Length;
                    return;
                }

                foreach (var b in data)
                {
                    var at = (_start + _length) % _scrollback.Length;
                    _scrollback[at] = b;
                    if (_length < _scrollback.Length) _length++;
                    else _start = (_start + 1) % _scrollback.Length;
                }
            }
        }
    }

    /// <summary>One WebSocket with its sends serialized (a WebSocket allows one send at a time).</summary>
    private sealed class Peer(WebSocket socket)
    {
        private readonly SemaphoreSlim _sending = new(1, 1);

        public Task SendControlAsync(TerminalControl control) =>
            SendAsync(JsonSerializer.SerializeToUtf8Bytes(control, RunnerJson.Options), WebSocketMessageType.Text);

        public async Task SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType type)
        {
            using var timeout = new CancellationTokenSource(SendTimeout);
            await _sending.WaitAsync(timeout.Token);
            try
            {
                await socket.SendAsync(data, type, endOfMessage: true, timeout.Token);
            }
            finally
            {
                _sending.Release();
            }
        }

        public Task<bool> TrySendControlAsync(TerminalControl control) =>
            TrySendAsync(JsonSerializer.SerializeToUtf8Bytes(control, RunnerJson.Options), WebSocketMessageType.Text);

        public async Task<bool> TrySendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType type)
        {
            if (socket.State != WebSocketState.Open) return false;
            try
            {
                await SendAsync(data, type);
                return true;
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                return false;
            }
        }

        public async Task CloseAsync(string reason)
        {
            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    using var timeout = new CancellationTokenSource(SendTimeout);
                    var text = reason.Length > 120 ? reason[..120] : reason;
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, text, timeout.Token);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        }
    }
}
