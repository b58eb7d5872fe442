using System.Net.WebSockets;
using System.Threading.Channels;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Debug;

/// <summary>
/// One debug or attach session as the runner sees it: the portal connection, what goes to the browser (in order, binary
/// output coalesced into messages of at most <see cref="MaxMessageBytes"/>), the deadline (moved by <c>expires</c>) and
/// why the session ends. Before the shell opens, output is the set-up's; <see cref="RelayAsync"/> then connects a
/// terminal until the session ends: the shell exits, the portal says <c>end</c>, the deadline passes, the portal is
/// lost, or the owner calls <see cref="End"/> (the job finished, the runner stops).
/// </summary>
public sealed class TerminalSession : IAsyncDisposable
{
    public const int MaxMessageBytes = 32 * 1024;

    public const string ShellExited = "the shell exited";
    public const string TimedOut = "timed out";
    public const string JobFinished = "the job finished";
    public const string EndedFromPortal = "ended from the portal";
    public const string JobNotRunning = "the job is no longer running";

    // Output waits (back-pressure on the shell) while this much is queued for a slow connection.
    private const int MaxQueuedBytes = 256 * 1024;

    private readonly TerminalConnection _connection;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _ending = new();
    private readonly Channel<(WebSocketMessageType Type, byte[] Data)> _outgoing =
        Channel.CreateUnbounded<(WebSocketMessageType, byte[])>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _sent = new(0);
    private readonly ITimer _deadline;
    private readonly Lock _lock = new();
    private readonly Task _pump;
    private long _queuedBytes;
    private ITerminal? _terminal;
    private int _closed;

    public TerminalSession(TerminalConnection connection, long expiresAtUnixMs, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _time = time ?? TimeProvider.System;
        ExpiresAtUnixMs = expiresAtUnixMs;
        _deadline = _time.CreateTimer(_ => End(TimedOut), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        MoveDeadline(expiresAtUnixMs);
        connection.OnInput = InputAsync;
        connection.OnControl = ControlAsync;
        connection.OnReconnected = ReconnectedAsync;
        connection.Lost.Register(() => End(connection.LostReason ?? "the portal could not be reached"));
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Fires when the session is to end; <see cref="EndReason"/> says why.</summary>
    public CancellationToken Ending => _ending.Token;

    public string? EndReason { get; private set; }

    /// <summary>When the session ends at the latest (Unix ms), as last moved by the portal.</summary>
    public long ExpiresAtUnixMs { get; private set; }

    /// <summary>The browser's terminal size as last reported (the shell starts at it).</summary>
    public TerminalSize Size { get; private set; } = TerminalSize.Default;

    /// <summary>Who may also reach the shell over SSH (null: nobody); <see cref="DebugShell"/> opens it with the shell.</summary>
    public SshAccess? Ssh { get; init; }

    /// <summary>The command that reaches the open shell over SSH, sent with <c>ready</c>; null while SSH is not open.</summary>
    public string? SshCommand { get; set; }

    /// <summary>Whether a shell is connected (<see cref="RelayAsync"/> is running).</summary>
    public bool IsOpen => _terminal is not null;

    /// <summary>Connects to the portal; false (with <see cref="EndReason"/>) when it cannot be reached.</summary>
    public async Task<bool> ConnectAsync(CancellationToken cancellationToken)
    {
        if (await _connection.ConnectAsync(cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        End(_connection.LostReason ?? "the portal could not be reached");
        return false;
    }

    /// <summary>Ends the session (the first reason given is the one reported).</summary>
    public void End(string reason)
    {
        lock (_lock)
        {
            if (EndReason is not null)
            {
                return;
            }

            EndReason = reason;
        }

        try
        {
            _ending.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Queues terminal bytes for the browser; waits while much is queued.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (data.IsEmpty)
        {
            return;
        }

        while (Interlocked.Read(ref _queuedBytes) > MaxQueuedBytes && !_ending.IsCancellationRequested)
        {
            await _sent.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }

        Post(data.ToArray());
    }

    /// <summary>Queues terminal bytes for the browser without waiting (short runner messages).</summary>
    public void Post(byte[] data)
    {
        if (data.Length > 0)
        {
            Enqueue(WebSocketMessageType.Binary, data);
        }
    }

    /// <summary>
    /// Connects <paramref name="terminal"/> to the browser: says <c>ready</c>, relays until the session ends, then kills the
    /// shell and sends what it printed last. Returns why the session ended.
    /// </summary>
    public async Task<string> RelayAsync(ITerminal terminal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        using var stop = cancellationToken.Register(() => End("the runner stopped"));
        var size = Size;
        lock (_lock)
        {
            _terminal = terminal;
        }

        if (Size != size)
        {
            await terminal.ResizeAsync(Size, CancellationToken.None).ConfigureAwait(false);
        }

        SendControl(new TerminalControl(TerminalControl.Ready, Ssh: SshCommand));
        var output = Task.Run(async () =>
        {
            var buffer = new byte[MaxMessageBytes];
            try
            {
                int read;
                while ((read = await terminal.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false)) > 0)
                {
                    await WriteAsync(buffer.AsMemory(0, read), CancellationToken.None).ConfigureAwait(false);
                }

                End(ShellExited);
            }
            catch (Exception ex)
            {
                // The daemon or the PTY failed under the shell: the session cannot go on, and says why.
                End($"the terminal failed: {ex.Message}");
            }
        }, CancellationToken.None);
        _ = terminal.Exited.ContinueWith(_ => End(ShellExited), TaskScheduler.Default);

        try
        {
            await Task.Delay(Timeout.Infinite, _ending.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        lock (_lock)
        {
            _terminal = null;
        }

        await terminal.KillAsync().ConfigureAwait(false);
        try
        {
            await output.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Something still holds the terminal open; the session is over regardless.
        }

        return EndReason!;
    }

    /// <summary>Says <c>ended</c> (with <paramref name="reason"/> unless the session already had one), sends what is
    /// queued and closes the connection.</summary>
    public async Task CloseAsync(string? reason = null)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
        {
            return;
        }

        End(reason ?? "the session ended");
        await _deadline.DisposeAsync().ConfigureAwait(false);
        if (!_connection.Lost.IsCancellationRequested)
        {
            SendControl(new TerminalControl(TerminalControl.Ended, Reason: EndReason));
        }

        _outgoing.Writer.TryComplete();
        try
        {
            await _pump.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        await _connection.CloseAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        _ending.Dispose();
        _sent.Dispose();
    }

    private void SendControl(TerminalControl message) =>
        Enqueue(WebSocketMessageType.Text, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(message, RunnerJson.Options));

    private void Enqueue(WebSocketMessageType type, byte[] data)
    {
        Interlocked.Add(ref _queuedBytes, data.Length);
        if (!_outgoing.Writer.TryWrite((type, data)))
        {
            Interlocked.Add(ref _queuedBytes, -data.Length);
        }
    }

    private async Task PumpAsync()
    {
        var reader = _outgoing.Reader;
        var coalesced = new byte[MaxMessageBytes];
        var length = 0;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    if (item.Type == WebSocketMessageType.Text)
                    {
                        await SendAsync(item.Data, WebSocketMessageType.Text).ConfigureAwait(false);
                    }
                    else
                    {
                        // As many queued chunks as fit in one message; a larger one is split.
                        for (var offset = 0; offset < item.Data.Length;)
                        {
                            var n = Math.Min(MaxMessageBytes - length, item.Data.Length - offset);
                            item.Data.AsSpan(offset, n).CopyTo(coalesced.AsSpan(length));
                            length += n;
                            offset += n;
                            if (length == MaxMessageBytes)
                            {
                                await SendAsync(coalesced.AsMemory(0, length), WebSocketMessageType.Binary).ConfigureAwait(false);
                                length = 0;
                            }
                        }

                        if (length > 0 && (!reader.TryPeek(out var next) || next.Type != WebSocketMessageType.Binary))
                        {
                            await SendAsync(coalesced.AsMemory(0, length), WebSocketMessageType.Binary).ConfigureAwait(false);
                            length = 0;
                        }
                    }

                    Interlocked.Add(ref _queuedBytes, -item.Data.Length);
                    if (_sent.CurrentCount == 0)
                    {
                        _sent.Release();
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            End(_connection.LostReason ?? "the portal could not be reached");
        }
    }

    private Task SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType type) => _connection.SendAsync(data, type, CancellationToken.None);

    private async ValueTask InputAsync(ReadOnlyMemory<byte> data)
    {
        var terminal = _terminal;
        if (terminal is not null)
        {
            await terminal.WriteAsync(data, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async ValueTask ControlAsync(TerminalControl message)
    {
        switch (message.Type)
        {
            case TerminalControl.Resize when message is { Cols: > 0, Rows: > 0 }:
                Size = new TerminalSize(message.Cols.Value, message.Rows.Value).Clamped();
                if (_terminal is { } terminal)
                {
                    await terminal.ResizeAsync(Size, CancellationToken.None).ConfigureAwait(false);
                }

                break;
            case TerminalControl.Expires when message.At is { } at:
                MoveDeadline(at);
                break;
            case TerminalControl.End:
                End(EndedFromPortal);
                break;
        }
    }

    private ValueTask ReconnectedAsync()
    {
        // The portal (perhaps restarted) learns again that the shell is open.
        if (IsOpen)
        {
            SendControl(new TerminalControl(TerminalControl.Ready, Ssh: SshCommand));
        }

        return ValueTask.CompletedTask;
    }

    private void MoveDeadline(long atUnixMs)
    {
        ExpiresAtUnixMs = atUnixMs;
        var due = TimeSpan.FromMilliseconds(Math.Max(0, atUnixMs - _time.GetUtcNow().ToUnixTimeMilliseconds()));
        try
        {
            _deadline.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
