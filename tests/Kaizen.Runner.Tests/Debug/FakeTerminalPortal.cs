using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>
/// The portal's end of terminal WebSockets on a loopback port (<see cref="HttpListener"/>): checks the runner's token,
/// records what the runner sends (terminal bytes on a <see cref="TerminalScreen"/>, control messages in order) and
/// lets a test type, resize and end like the browser and the portal would.
/// </summary>
public sealed class FakeTerminalPortal : IAsyncDisposable
{
    public const string Token = "runner-token-1";

    private readonly HttpListener _listener;
    private readonly Task _accepting;
    private readonly ConcurrentDictionary<long, Connection> _connections = new();

    public FakeTerminalPortal()
    {
        // A free port can be taken by another test between the probe and Start ("address already in use"): try another.
        for (var attempt = 1; ; attempt++)
        {
            Url = new Uri($"http://127.0.0.1:{FreePort()}/");
            _listener = new HttpListener();
            _listener.Prefixes.Add(Url.ToString());
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                _listener.Close();
            }
        }
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public Uri Url { get; }

    /// <summary>Assignments handed out to claims, one per claim (an empty queue answers 204 after a moment).</summary>
    public ConcurrentQueue<JobAssignment> Assignments { get; } = new();

    /// <summary>Attach requests for the next heartbeat reply.</summary>
    public ConcurrentQueue<AttachRequest> Attaches { get; } = new();

    /// <summary>Job ids to cancel in the next heartbeat reply.</summary>
    public ConcurrentQueue<long> Cancels { get; } = new();

    /// <summary>The runner's calls about jobs (stream, complete, reports): "POST /api/runner/jobs/...".</summary>
    public ConcurrentQueue<string> JobCalls { get; } = new();

    /// <summary>Requests refused for a wrong token.</summary>
    public int Unauthorized { get; private set; }

    /// <summary>The session's connection, once the runner has opened it.</summary>
    public async Task<Connection> SessionAsync(long sessionId)
    {
        var deadline = DateTime.UtcNow + TerminalScreen.Patience;
        while (!_connections.ContainsKey(sessionId))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The runner did not open the terminal of session {sessionId}.");
            await Task.Delay(20);
        }

        return _connections[sessionId];
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // Closing can race the port's reuse by another test's listener ("address already in use"); it is closed either way.
        }

        try
        {
            await _accepting;
        }
        catch (Exception)
        {
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var parts = context.Request.Url!.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!context.Request.IsWebSocketRequest && parts is ["api", "runner", ..])
        {
            await AnswerRunnerCallAsync(context, parts);
            return;
        }

        if (!context.Request.IsWebSocketRequest || parts is not ["api", "runner", "debug", var id, "terminal"])
        {
            context.Response.StatusCode = 404;
            context.Response.Close();
            return;
        }

        if (context.Request.Headers["Authorization"] != $"Bearer {Token}")
        {
            Unauthorized++;
            context.Response.StatusCode = 401;
            context.Response.Close();
            return;
        }

        var socket = (await context.AcceptWebSocketAsync(subProtocol: null)).WebSocket;
        var connection = _connections.GetOrAdd(long.Parse(id), _ => new Connection());
        await connection.ServeAsync(socket, context);
    }

    /// <summary>Just enough of the runner protocol for a <see cref="Runner.Agent.RunnerAgent"/> to claim, heartbeat and report.</summary>
    private async Task AnswerRunnerCallAsync(HttpListenerContext context, string[] parts)
    {
        var response = context.Response;
        object? body = null;
        switch (parts)
        {
            case [_, _, "claim"]:
                if (!Assignments.TryDequeue(out var assignment))
                {
                    await Task.Delay(200);
                    response.StatusCode = 204;
                    break;
                }

                body = assignment;
                break;
            case [_, _, "heartbeat"]:
                var attach = new List<AttachRequest>();
                while (Attaches.TryDequeue(out var request))
                {
                    attach.Add(request);
                }

                var cancel = new List<long>();
                while (Cancels.TryDequeue(out var id))
                {
                    cancel.Add(id);
                }

                body = new HeartbeatResponse(cancel, [], attach);
                break;
            case [_, _, "jobs", ..]:
                JobCalls.Enqueue($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath}");
                break;
            default:
                response.StatusCode = 404;
                break;
        }

        if (body is not null)
        {
            response.ContentType = "application/json";
            await response.OutputStream.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), RunnerJson.Options));
        }

        response.Close();
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>One session's terminal as the portal sees it (across reconnects).</summary>
    public sealed class Connection
    {
        private readonly ConcurrentQueue<TerminalControl> _controls = new();
        private readonly SemaphoreSlim _sendLock = new(1, 1);
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private WebSocket? _socket;
        private HttpListenerContext? _context;

        public TerminalScreen Screen { get; } = new();

        public IReadOnlyList<TerminalControl> Controls => [.. _controls];

        /// <summary>Completes when the runner closes the connection (a close handshake, not a drop).</summary>
        public Task Closed => _closed.Task;

        /// <summary>How many times the runner connected.</summary>
        public int Connects { get; private set; }

        public async Task ServeAsync(WebSocket socket, HttpListenerContext context)
        {
            _socket = socket;
            _context = context;
            Connects++;
            var buffer = new byte[64 * 1024];
            var message = new MemoryStream();
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        _closed.TrySetResult();
                        break;
                    }

                    Assert.True(result.Count <= 32 * 1024 || result.MessageType == WebSocketMessageType.Text);
                    message.Write(buffer, 0, result.Count);
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }

                    Assert.True(message.Length <= 32 * 1024, $"A message of {message.Length} bytes is over 32 KB.");
                    if (result.MessageType == WebSocketMessageType.Binary)
                    {
                        Screen.Append(message.ToArray());
                    }
                    else
                    {
                        _controls.Enqueue(JsonSerializer.Deserialize<TerminalControl>(message.ToArray(), RunnerJson.Options)!);
                        Screen.Append([]);
                    }

                    message.SetLength(0);
                }
            }
            catch (WebSocketException)
            {
            }
        }

        public Task TypeAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Binary);

        public Task SendAsync(TerminalControl control) =>
            SendAsync(JsonSerializer.SerializeToUtf8Bytes(control, RunnerJson.Options), WebSocketMessageType.Text);

        /// <summary>Waits for a control message of <paramref name="type"/>.</summary>
        public async Task<TerminalControl> WaitForControlAsync(string type)
        {
            var deadline = DateTime.UtcNow + TerminalScreen.Patience;
            while (true)
            {
                if (_controls.FirstOrDefault(c => c.Type == type) is { } found)
                {
                    return found;
                }

                Assert.True(DateTime.UtcNow < deadline,
                    $"No '{type}' message came; got {string.Join(", ", _controls.Select(c => c.Type))}. The terminal shows:\n{Screen.Text}");
                await Task.Delay(20);
            }
        }

        /// <summary>Drops the connection without a close handshake (as a portal restart would).</summary>
        public void Drop()
        {
            _socket?.Abort();
            _context?.Response.Abort();
        }

        private async Task SendAsync(byte[] data, WebSocketMessageType type)
        {
            await _sendLock.WaitAsync();
            try
            {
                await _socket!.SendAsync(data, type, endOfMessage: true, CancellationToken.None);
            }
            finally
            {
                _sendLock.Release();
            }
        }
    }
}
