using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// A TCP proxy on loopback that delays every chunk by <c>delay</c> in each direction (order and throughput kept), so a
/// browser test sees the portal as a person on a slow network would: a Blazor circuit's round trip takes twice the delay.
/// </summary>
public sealed class LatencyProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public LatencyProxy(Uri target, TimeSpan delay)
    {
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync(target, delay);
    }

    /// <summary>Where the browser goes instead of the portal.</summary>
    public Uri Url { get; }

    private async Task AcceptAsync(Uri target, TimeSpan delay)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = Task.Run(async () =>
                {
                    using (client)
                    using (var server = new TcpClient())
                    {
                        try
                        {
                            await server.ConnectAsync(target.Host, target.Port, _stop.Token);
                            await Task.WhenAll(PumpAsync(client.GetStream(), server.GetStream(), delay), PumpAsync(server.GetStream(), client.GetStream(), delay));
                        }
                        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                        {
                            // A side closed: the connection ends, as it would without the proxy.
                        }
                    }
                });
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task PumpAsync(Stream from, Stream to, TimeSpan delay)
    {
        var chunks = Channel.CreateUnbounded<(DateTime Due, byte[] Data)>();
        var writing = Task.Run(async () =>
        {
            await foreach (var (due, data) in chunks.Reader.ReadAllAsync(_stop.Token))
            {
                var wait = due - DateTime.UtcNow;
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _stop.Token);
                await to.WriteAsync(data, _stop.Token);
            }
            to.Close();
        });
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
                await chunks.Writer.WriteAsync((DateTime.UtcNow + delay, buffer[..n]), _stop.Token);
        }
        finally
        {
            chunks.Writer.TryComplete();
        }
        await writing;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _accepting; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
