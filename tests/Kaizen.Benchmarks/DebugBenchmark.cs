using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Debug;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Benchmarks;

/// <summary>
/// Debug sessions on the embedded runner. Start: session requested → the shell's first <c>kaizen-debug</c> prompt on
/// the terminal's WebSocket, against build requested → first command running of the same job (a session does the same
/// set-up, then opens a PTY instead of running the commands), alternating so that both see the same load. Keystrokes:
/// one byte typed on the WebSocket → its echo back on it (portal → runner → PTY → bash → back), against the same round
/// trip on a local <see cref="HostTerminal"/> in this process, alternating line by line.
/// </summary>
internal static class DebugBenchmark
{
    // The prompt as bash prints it (readline drops the \[ \] around its colours): only the shell's prompt has this.
    private const string Prompt = "kaizen-debug\e[0m:";
    private const int LineLength = 50; // keystrokes before a Ctrl-U, so the line never wraps at 80 columns
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<IReadOnlyList<(string Measure, string Kaizen, string Baseline, double Kaizen50, double Baseline50)>> RunAsync(
        BenchHost host, int sessions, int keystrokes, List<string> notes)
    {
        var mark = Path.Combine(host.Scratch, "debug.mark");
        var slug = await host.CreateProjectAsync("Debug", [new JobSettings("first", [$"printf '%s\\n' \"$EPOCHREALTIME\" > '{mark}'"])]);
        var jobId = (await host.WaitFinishedAsync(await host.StartBuildAsync(slug), TimeSpan.FromMilliseconds(10), Timeout)).Jobs.Single().Id;

        Console.Error.WriteLine($"Debug session start: 2 warm-up, then {sessions} measured, alternating with builds of the same job...");
        var start = new List<StartSample>();
        var dispatch = new List<double>();
        for (var i = 0; i < 2 + sessions; i++)
        {
            var d = await FirstCommandRunningMsAsync(host, slug, mark);
            await using var session = await StartSessionAsync(host, jobId);
            await session.EndAsync(host);
            if (i < 2) continue;
            dispatch.Add(d);
            start.Add(session.Timing);
        }

        Console.Error.WriteLine($"Debug keystrokes: {keystrokes} through the portal and {keystrokes} on a local PTY, alternating line by line...");
        var portal = new List<double>();
        var local = new List<double>();
        await using (var session = await StartSessionAsync(host, jobId))
        await using (var pty = await LocalTerminal.StartAsync(host.Scratch))
        {
            while (portal.Count < keystrokes)
            {
                var line = Math.Min(LineLength, keystrokes - portal.Count);
                portal.AddRange(await TypeLineAsync(session.Terminal, line));
                local.AddRange(await TypeLineAsync(pty, line));
            }
            await session.EndAsync(host);
        }

        var start50 = Percentile(start.Select(s => s.PromptMs), 0.5);
        var dispatch50 = Percentile(dispatch, 0.5);
        var portal50 = Percentile(portal, 0.5);
        var local50 = Percentile(local, 0.5);
        notes.Add($"Debug session start, where the time goes (p50 / p99 from the request, ms): POST answered {P(start.Select(s => s.PostMs))}, " +
                  $"WebSocket connected {P(start.Select(s => s.ConnectedMs))}, status `open` {P(start.Select(s => s.OpenMs))}, " +
                  $"first prompt {P(start.Select(s => s.PromptMs))}; each session was then ended and its runner's clean-up waited for (not counted).");
        notes.Add($"Debug keystrokes: `x` typed, each after the previous one's echo, a Ctrl-U after every {LineLength} (the line never wraps); " +
                  "the baseline is the runner's own PTY (`HostTerminal`, `bash -i`) read and written in this process.");
        return
        [
            ($"Debug session start: requested → first `kaizen-debug` prompt on the WebSocket ({sessions} sessions, sequential)",
                $"p50 {start50:0} ms, p99 {Percentile(start.Select(s => s.PromptMs), 0.99):0} ms",
                $"p50 {dispatch50:0} ms, p99 {Percentile(dispatch, 0.99):0} ms (the same job's build requested → first command running)",
                start50, dispatch50),
            ($"Debug keystroke round trip: one byte typed → its echo, through the portal's WebSocket ({keystrokes} keystrokes)",
                $"p50 {portal50:0.00} ms, p99 {Percentile(portal, 0.99):0.00} ms",
                $"p50 {local50:0.00} ms, p99 {Percentile(local, 0.99):0.00} ms (a local PTY with bash, in this process)",
                portal50, local50),
        ];
    }

    /// <summary>Types <paramref name="count"/> × <c>x</c>, each after the previous one's echo; then clears the line.</summary>
    private static async Task<List<double>> TypeLineAsync(IEchoTerminal terminal, int count)
    {
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var sw = Stopwatch.StartNew();
            await terminal.SendAsync("x"u8.ToArray());
            // Other bytes may come first (the rest of an earlier redraw): the echo is the chunk with the x.
            while (Array.IndexOf(await terminal.ReceiveAsync(), (byte)'x') < 0)
            {
            }
            times.Add(sw.Elapsed.TotalMilliseconds);
        }

        await terminal.SendAsync([0x15]);
        await terminal.SettleAsync();
        return times;
    }

    private static async Task<Session> StartSessionAsync(BenchHost host, long jobId)
    {
        var sw = Stopwatch.StartNew();
        using var response = await host.Api.PostAsJsonAsync($"/api/v1/jobs/{jobId}/debug", new { minutes = 10 });
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Starting a debug session of job {jobId} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var postMs = sw.Elapsed.TotalMilliseconds;
        var id = (await response.Content.ReadFromJsonAsync<DebugSessionResponse>())!.Id;
        var terminal = await SocketTerminal.ConnectAsync(host.Api, id, sw);
        var connectedMs = sw.Elapsed.TotalMilliseconds;
        var screen = new StringBuilder();
        while (screen.ToString().IndexOf(Prompt, StringComparison.Ordinal) < 0)
            screen.Append(Encoding.UTF8.GetString(await terminal.ReceiveAsync()));
        var promptMs = sw.Elapsed.TotalMilliseconds;
        return new Session(id, terminal, new StartSample(postMs, connectedMs, terminal.OpenAt?.TotalMilliseconds ?? promptMs, promptMs));
    }

    private static async Task<double> FirstCommandRunningMsAsync(BenchHost host, string slug, string mark)
    {
        File.Delete(mark);
        var requested = DateTimeOffset.UtcNow;
        var id = await host.StartBuildAsync(slug);
        // Watch the mark file (a cheap stat) rather than polling the API, which would compete with the dispatch itself.
        var sw = Stopwatch.StartNew();
        double epoch;
        while (!(File.Exists(mark) && double.TryParse(File.ReadAllText(mark).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out epoch)))
        {
            if (sw.Elapsed > Timeout) throw new TimeoutException($"Build {id}'s first command did not run within {Timeout.TotalSeconds:0} s.");
            await Task.Delay(1);
        }
        await host.WaitFinishedAsync(id, TimeSpan.FromMilliseconds(10), Timeout);
        return (epoch * 1e6 - (requested.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10.0) / 1000;
    }

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static string P(IEnumerable<double> values)
    {
        var list = values.ToList();
        return $"{Percentile(list, 0.5):0} / {Percentile(list, 0.99):0}";
    }

    private sealed record StartSample(double PostMs, double ConnectedMs, double OpenMs, double PromptMs);

    private sealed class Session(long id, SocketTerminal terminal, StartSample timing) : IAsyncDisposable
    {
        public SocketTerminal Terminal => terminal;

        public StartSample Timing => timing;

        /// <summary>Ends the session and waits until the runner has cleaned up and closed its side, so the next
        /// session's start does not share the machine with this one's clean-up.</summary>
        public async Task EndAsync(BenchHost host)
        {
            using var ended = await host.Api.DeleteAsync($"/api/v1/debug-sessions/{id}");
            ended.EnsureSuccessStatusCode();
            var hub = host.Services.GetRequiredService<TerminalHub>();
            var sw = Stopwatch.StartNew();
            while ((await host.Api.GetFromJsonAsync<DebugSessionResponse>($"/api/v1/debug-sessions/{id}"))!.Status != DebugStates.Ended || hub.RunnerConnected(id))
            {
                if (sw.Elapsed > Timeout) throw new TimeoutException($"Debug session {id} did not end within {Timeout.TotalSeconds:0} s.");
                await Task.Delay(10);
            }
            // The slot's loop claims again right after; give it that moment.
            await Task.Delay(50);
        }

        public ValueTask DisposeAsync() => terminal.DisposeAsync();
    }

    /// <summary>Something to type into that echoes.</summary>
    private interface IEchoTerminal
    {
        Task SendAsync(byte[] data);

        /// <summary>The next chunk of terminal output.</summary>
        Task<byte[]> ReceiveAsync();

        /// <summary>Waits for output, then until none has come for a moment (a redraw is over).</summary>
        async Task SettleAsync()
        {
            await ReceiveAsync();
            while (true)
            {
                var next = ReceiveAsync();
                if (await Task.WhenAny(next, Task.Delay(100)) != next) return;
            }
        }
    }

    /// <summary>The debug session's terminal as a browser opens it: binary messages are terminal bytes, text ones status.</summary>
    private sealed class SocketTerminal(Stopwatch requested) : IEchoTerminal, IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly byte[] _buffer = new byte[64 * 1024];
        private Task<byte[]>? _receiving;

        /// <summary>When (on the session's request clock) the status said <c>open</c>.</summary>
        public TimeSpan? OpenAt { get; private set; }

        public static async Task<SocketTerminal> ConnectAsync(HttpClient api, long sessionId, Stopwatch requested)
        {
            var terminal = new SocketTerminal(requested);
            terminal._socket.Options.SetRequestHeader("Authorization", api.DefaultRequestHeaders.Authorization!.ToString());
            var uri = new UriBuilder(api.BaseAddress!) { Scheme = "ws", Path = DebugEndpoints.TerminalPath(sessionId) }.Uri;
            using var timeout = new CancellationTokenSource(Timeout);
            await terminal._socket.ConnectAsync(uri, timeout.Token);
            return terminal;
        }

        public Task SendAsync(byte[] data) => _socket.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None);

        // One receive at a time: a settle's unfinished receive is the next caller's.
        public Task<byte[]> ReceiveAsync() => _receiving is { IsCompleted: false } pending ? pending : _receiving = ReceiveCoreAsync();

        private async Task<byte[]> ReceiveCoreAsync()
        {
            using var timeout = new CancellationTokenSource(Timeout);
            using var message = new MemoryStream();
            while (true)
            {
                var result = await _socket.ReceiveAsync(_buffer, timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                    throw new InvalidOperationException($"The terminal closed: {result.CloseStatusDescription}");
                message.Write(_buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                if (result.MessageType == WebSocketMessageType.Binary) return message.ToArray();
                var control = JsonSerializer.Deserialize<TerminalControl>(message.ToArray(), RunnerJson.Options);
                if (control is { Type: TerminalControl.Status, State: DebugStates.Open }) OpenAt ??= requested.Elapsed;
                if (control is { Type: TerminalControl.Status, State: DebugStates.Ended })
                    throw new InvalidOperationException($"The debug session ended: {control.Reason}");
                message.SetLength(0);
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                // Output only: a receive may still be pending (a settle's), and the portal closes its side anyway.
                if (_socket.State == WebSocketState.Open) await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
            _socket.Dispose();
        }
    }

    /// <summary>The baseline: the runner's own PTY with <c>bash -i</c>, read and written in this process, no portal, no network.</summary>
    private sealed class LocalTerminal(HostTerminal pty) : IEchoTerminal, IAsyncDisposable
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private Task<byte[]>? _receiving;

        public static async Task<LocalTerminal> StartAsync(string scratch)
        {
            var rc = Path.Combine(scratch, "local-pty.rc");
            await File.WriteAllTextAsync(rc, "unset KAIZEN_PTS HISTFILE\nPS1='local-pty> '\n");
            var terminal = new LocalTerminal(HostTerminal.Start(scratch, new Dictionary<string, string>(), rc, TerminalSize.Default));
            var screen = new StringBuilder();
            while (!screen.ToString().Contains("local-pty> ", StringComparison.Ordinal))
                screen.Append(Encoding.UTF8.GetString(await terminal.ReceiveAsync()));
            return terminal;
        }

        public Task SendAsync(byte[] data) => pty.WriteAsync(data, CancellationToken.None).AsTask();

        public Task<byte[]> ReceiveAsync() => _receiving is { IsCompleted: false } pending ? pending : _receiving = ReceiveCoreAsync();

        private async Task<byte[]> ReceiveCoreAsync()
        {
            using var timeout = new CancellationTokenSource(Timeout);
            var n = await pty.ReadAsync(_buffer, timeout.Token);
            if (n == 0) throw new InvalidOperationException("The local shell exited.");
            return _buffer.AsSpan(0, n).ToArray();
        }

        public ValueTask DisposeAsync() => pty.DisposeAsync();
    }
}
