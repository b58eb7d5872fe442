using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.Logging;

namespace Kaizen.Runner.Debug;

/// <summary>
/// The WebSocket a runner opens to the portal for one terminal (<see cref="RunnerRoutes.Terminal"/>), outward so
/// runners behind NAT work, with the runner's token as for every runner call. Binary messages are terminal bytes,
/// text messages <see cref="TerminalControl"/>s. When the connection drops (the portal restarts) it reconnects with
/// backoff; <see cref="Lost"/> fires when that fails for <see cref="ReconnectWindow"/> or the portal refuses the
/// session. Sends wait while reconnecting.
/// </summary>
public sealed class TerminalConnection : IAsyncDisposable
{
    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _uri;
    private readonly Func<string?> _token;
    private readonly ILogger? _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _closing = new();
    private volatile bool _closeSent;
    private readonly Lock _lock = new();
    private TaskCompletionSource<ClientWebSocket> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClientWebSocket? _socket;
    private Task _receiving = Task.CompletedTask;

    /// <param name="invoker">The runner's HTTP client (or handler) for the portal: the upgrade goes through it, so
    /// whatever reaches the portal for claims reaches it for terminals.</param>
    /// <param name="token">The runner's current token (it changes when the runner registers again).</param>
    public TerminalConnection(HttpMessageInvoker invoker, Uri portalUrl, Func<string?> token, long sessionId, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        ArgumentNullException.ThrowIfNull(portalUrl);
        ArgumentNullException.ThrowIfNull(token);
        _invoker = invoker;
        _token = token;
        _logger = logger;
        var http = new Uri(portalUrl, RunnerRoutes.Terminal(sessionId));
        _uri = new UriBuilder(http) { Scheme = http.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
    }

    /// <summary>How long the runner keeps trying to reach the portal before it ends the session.</summary>
    public TimeSpan ReconnectWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>What the user typed (binary messages).</summary>
    public Func<ReadOnlyMemory<byte>, ValueTask>? OnInput { get; set; }

    /// <summary>Control messages from the portal.</summary>
    public Func<TerminalControl, ValueTask>? OnControl { get; set; }

    /// <summary>After a reconnect (not the first connect), e.g. to say again that the shell is open.</summary>
    public Func<ValueTask>? OnReconnected { get; set; }

    /// <summary>Fires when the portal cannot be reached any more (or refused the session); see <see cref="LostReason"/>.</summary>
    public CancellationToken Lost => _lost.Token;

    public string? LostReason { get; private set; }

    /// <summary>Connects (retrying within <see cref="ReconnectWindow"/>) and starts receiving; false when it could not.</summary>
    public async Task<bool> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = await ConnectWithRetryAsync(cancellationToken).ConfigureAwait(false);
        if (socket is null)
        {
            return false;
        }

        _receiving = Task.Run(() => ReceiveLoopAsync(socket), CancellationToken.None);
        return true;
    }

    /// <summary>Sends one message, waiting for a connection while reconnecting; throws when the connection is lost for good.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lost.Token);
        await _sendLock.WaitAsync(linked.Token).ConfigureAwait(false);
        try
        {
            while (true)
            {
                Task<ClientWebSocket> ready;
                lock (_lock)
                {
                    ready = _ready.Task;
                }

                var socket = await ready.WaitAsync(linked.Token).ConfigureAwait(false);
                try
                {
                    await socket.SendAsync(data, type, endOfMessage: true, linked.Token).ConfigureAwait(false);
                    return;
                }
                // A socket aborted under a send (the receive loop saw the drop first) throws OperationCanceledException.
                catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException
                    && !linked.IsCancellationRequested)
                {
                    Dropped(socket); // the receive loop reconnects; this message goes again on the next connection
                }
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public Task SendControlAsync(TerminalControl message, CancellationToken cancellationToken) =>
        SendAsync(JsonSerializer.SerializeToUtf8Bytes(message, RunnerJson.Options), WebSocketMessageType.Text, cancellationToken);

    /// <summary>Closes the connection politely (after the caller sent <c>ended</c>) and stops reconnecting.</summary>
    public async Task CloseAsync()
    {
        if (_closeSent)
        {
            return;
        }

        _closeSent = true;
        ClientWebSocket? socket;
        lock (_lock)
        {
            socket = _socket;
        }

        if (socket is { State: WebSocketState.Open or WebSocketState.CloseReceived })
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "session over", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        // The receive loop ends with the portal's answering close; it is stopped after a while regardless.
        try
        {
            await _receiving.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        socket?.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        lock (_lock)
        {
            _socket?.Dispose();
            _socket = null;
        }

        _lost.Dispose();
        _closing.Dispose();
        _sendLock.Dispose();
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var message = new ArrayBufferWriter<byte>();
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                try
                {
                    message.Clear();
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await socket.ReceiveAsync(buffer.AsMemory(), _closing.Token).ConfigureAwait(false);
                        message.Write(buffer.AsSpan(0, result.Count));
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        if (_closeSent)
                        {
                            return; // the answer to our close
                        }

                        throw new WebSocketException("The portal closed the terminal connection.");
                    }

                    await DispatchAsync(result.MessageType, message.WrittenMemory).ConfigureAwait(false);
                    continue;
                }
                // A socket aborted under a receive (a send saw the drop first) throws OperationCanceledException.
                catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException
                    && !_closing.IsCancellationRequested)
                {
                    if (_closeSent)
                    {
                        return;
                    }

                    _logger?.LogInformation("Terminal connection to {Uri} dropped ({Error}); reconnecting", _uri, ex.Message);
                }
                catch (OperationCanceledException) when (_closing.IsCancellationRequested)
                {
                    return;
                }

                Dropped(socket);
                if (await ConnectWithRetryAsync(_closing.Token).ConfigureAwait(false) is not { } next)
                {
                    return;
                }

                socket = next;

                if (OnReconnected is { } reconnected)
                {
                    await reconnected().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask DispatchAsync(WebSocketMessageType type, ReadOnlyMemory<byte> data)
    {
        if (type == WebSocketMessageType.Binary)
        {
            if (OnInput is { } input && data.Length > 0)
            {
                await input(data).ConfigureAwait(false);
            }

            return;
        }

        TerminalControl? control;
        try
        {
            control = JsonSerializer.Deserialize<TerminalControl>(data.Span, RunnerJson.Options);
        }
        catch (JsonException ex)
        {
            _logger?.LogWarning("Ignoring a terminal message that is not a control message: {Error}", ex.Message);
            return;
        }

        if (control is not null && OnControl is { } handler)
        {
            await handler(control).ConfigureAwait(false);
        }
    }

    /// <summary>Forgets <paramref name="socket"/> if it is the current one: sends wait until the next connection.</summary>
    private void Dropped(ClientWebSocket socket)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_socket, socket))
            {
                _socket = null;
                if (_ready.Task.IsCompleted)
                {
                    _ready = new TaskCompletionSource<ClientWebSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }

        socket.Abort();
    }

    private async Task<ClientWebSocket?> ConnectWithRetryAsync(CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            // Pings that must be answered: a connection a NAT or proxy silently dropped is noticed, and reconnected.
            socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
            socket.Options.KeepAliveTimeout = TimeSpan.FromSeconds(15);
            if (_token() is { } token)
            {
                socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
            }

            string problem;
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(TimeSpan.FromSeconds(15));
                await socket.ConnectAsync(_uri, _invoker, attempt.Token).ConfigureAwait(false);
                lock (_lock)
                {
                    _socket = socket;
                    _ready.TrySetResult(socket);
                }

                return socket;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException
                || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                var status = socket.HttpStatusCode;
                socket.Dispose();
                if (status is HttpStatusCode.NotFound or HttpStatusCode.Gone or HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized
                    or HttpStatusCode.Conflict)
                {
                    GiveUp($"the portal refused the terminal connection ({(int)status} {status})");
                    return null;
                }

                problem = status == 0 ? ex.Message : $"{(int)status} {status}";
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                throw;
            }

            if (DateTime.UtcNow - started + delay > ReconnectWindow)
            {
                GiveUp($"the portal could not be reached for {ReconnectWindow.TotalSeconds:0} s ({problem})");
                return null;
            }

            _logger?.LogInformation("Could not connect the terminal to {Uri} ({Problem}); retrying in {Delay}", _uri, problem, delay);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    private void GiveUp(string reason)
    {
        LostReason ??= reason;
        _logger?.LogWarning("Terminal connection to {Uri} lost: {Reason}", _uri, reason);
        try
        {
            _lost.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
