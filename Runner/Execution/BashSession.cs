using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Kaizen.Runner.Execution;

/// <summary>
/// One persistent <c>bash --noprofile --norc</c> per job, fed commands through its stdin. Each command is sent as
/// <c>eval $'…' &lt;/dev/null; { printf '\n&lt;marker&gt;:%d\n' "$?"; } 2&gt;/dev/null</c>: no function wrapper (so
/// <c>declare</c> stays global), no process or temp file per command. The marker carries a per-session random nonce
/// so command output cannot forge the end of a command; it is found in the raw byte stream without decoding.
/// </summary>
public sealed class BashSession : IShellSession
{
    private const int BufferSize = 64 * 1024;

    private readonly ShellHost _host;
    private readonly Stream _stdin;
    private readonly Stream _stdout;
    private readonly CommandMarkerParser _parser;
    private readonly byte[] _commandSuffix;
    private readonly byte[] _buffer = new byte[BufferSize];
    private readonly object _killLock = new();
    private int _leftoverStart; // _buffer[_leftoverStart.._leftoverEnd] arrived after the last marker
    private int _leftoverEnd;
    private int _running;
    private int _disposed;
    private bool _ended;
    private Task? _kill;

    private BashSession(ShellHost host, string nonce)
    {
        _host = host;
        _stdin = host.Stdin;
        _stdout = host.Stdout;
        _parser = new CommandMarkerParser(Encoding.ASCII.GetBytes($"##kaizen-{nonce}:"));

        // Grouped with stderr to /dev/null so `set -x` does not trace (and reveal) the marker.
        _commandSuffix = Encoding.ASCII.GetBytes($"' </dev/null; {{ printf '\\n##kaizen-{nonce}:%d\\n' \"$?\"; }} 2>/dev/null\n");
    }

    /// <summary>The shell's process id, which is also its process group id (-1 for a shell in a container).</summary>
    public int ProcessId => _host is LocalShellHost local ? local.Process.Id : -1;

    public bool IsAlive => !_ended;

    /// <summary>
    /// Starts bash in <paramref name="workingDirectory"/> with <paramref name="environment"/> over a clean base (the
    /// runner's PATH, HOME, locale and terminal type; never the rest of the runner's environment, which may hold the
    /// portal's settings). <paramref name="sandbox"/> wraps the command line in a job sandbox (see
    /// <see cref="Sandbox.JobSandbox.Wrap"/>); its environment base then is the sandbox's.
    /// </summary>
    public static BashSession Start(
        string workingDirectory, IReadOnlyDictionary<string, string> environment, Func<IReadOnlyList<string>, IReadOnlyList<string>>? sandbox = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(workingDirectory);
        ArgumentNullException.ThrowIfNull(environment);

        var startInfo = new ProcessStartInfo
        {
            WorkingDirectory = sandbox is null ? workingDirectory : "/",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Children inherit ignored signals and bash cannot undo an ignore it started with: .NET ignores SIGPIPE, and a
        // runner started in the background (`nohup kaizen-runner &`, some service managers) ignores SIGINT and SIGQUIT.
        // Every signal goes back to its default so that, as in a terminal, `yes | head` ends quietly, `while :; do echo;
        // done | head` ends at all, and `timeout -s INT` or a test runner's Ctrl-C to its children stops them.
        IReadOnlyList<string> bash = ["bash", "--noprofile", "--norc"];
        ProcessTree.UseNewProcessGroup(startInfo, "env", ["--default-signal", .. sandbox is null ? bash : sandbox(bash)]);
        Sandbox.JobSandbox.SetEnvironment(startInfo, environment, sandboxed: sandbox is not null);

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.Start();

        // When bash exits, whatever it left in its group (background jobs) must not keep the output pipe open.
        var pgid = process.Id;
        process.Exited += (_, _) => ProcessTree.KillGroupNow(pgid);

        // Bash's own stderr is only used until the first line below merges it into stdout; drain it so it cannot block.
        _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
        return Over(new LocalShellHost(process));
    }

    /// <summary>The same protocol over a bash that runs elsewhere (a container): <paramref name="host"/> gives its stdin,
    /// its stdout and how to stop it.</summary>
    internal static BashSession Over(ShellHost host)
    {
        var session = new BashSession(host, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

        // One pipe for both streams keeps their order. Written without awaiting: bash reads it before any command.
        session._stdin.Write("exec 2>&1\n"u8);
        session._stdin.Flush();
        return session;
    }

    public async Task<CommandResult> RunAsync(string command, Func<ReadOnlyMemory<byte>, ValueTask> onOutput, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(onOutput);
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("A command is already running in this session.");
        }

        try
        {
            if (_ended)
            {
                return new CommandResult(ExitCodeOrMinusOne(), TimeSpan.Zero, SessionEnded: true);
            }

            cancellationToken.ThrowIfCancellationRequested();
            var stopwatch = Stopwatch.StartNew();
            await using var registration = cancellationToken.Register(static s => ((BashSession)s!).BeginKill(), this).ConfigureAwait(false);
            try
            {
                var marker = await SendAsync(command, cancellationToken).ConfigureAwait(false)
                    ? await ReadUntilMarkerAsync(onOutput, cancellationToken).ConfigureAwait(false)
                    : null;
                if (marker is { } exitCode)
                {
                    return new CommandResult(exitCode, stopwatch.Elapsed);
                }

                // The shell is gone: drain what it wrote before it died, then report its exit status.
                if (!cancellationToken.IsCancellationRequested)
                {
                    await DrainAsync(onOutput, cancellationToken).ConfigureAwait(false);
                }

                _ended = true;
                await _host.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                return new CommandResult(_host.ExitCode, stopwatch.Elapsed, SessionEnded: true);
            }
            catch (Exception ex)
            {
                // Canceled, or the output callback failed mid-command: the stream position is lost, end the session.
                _ended = true;
                await BeginKill().ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
                {
                    throw new OperationCanceledException(cancellationToken);
                }

                throw;
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        var idle = !_ended && Volatile.Read(ref _running) == 0;
        _ended = true;
        if (idle)
        {
            // An idle shell ends by itself at end of input: no signals, no grace periods on every job's hot path.
            try
            {
                _stdin.Close();
                await _host.WaitForExitAsync(new CancellationTokenSource(IdleExitWait).Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
            }
        }

        if (_host.HasExited)
        {
            // Background processes a command left behind must not outlive the job.
            await _host.KillRemnantsAsync().ConfigureAwait(false);
        }
        else
        {
            await BeginKill().ConfigureAwait(false);
        }

        _host.Dispose();
    }

    private static readonly TimeSpan IdleExitWait = TimeSpan.FromMilliseconds(500);

    /// <summary>Writes the command line; false when the shell has already exited (broken pipe).</summary>
    private async ValueTask<bool> SendAsync(string command, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetBytes(command);
        var line = ArrayPool<byte>.Shared.Rent(8 + (text.Length * 4) + _commandSuffix.Length);
        try
        {
            var length = EncodeCommandLine(text, _commandSuffix, line);
            await _stdin.WriteAsync(line.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            await _stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(line);
        }
    }

    /// <summary><c>eval $'…'</c> with every byte that is not plain printable ASCII escaped, so the line is pure ASCII and any text survives.</summary>
    internal static int EncodeCommandLine(ReadOnlySpan<byte> text, ReadOnlySpan<byte> suffix, Span<byte> destination)
    {
        var n = 0;
        foreach (var b in "eval $'"u8)
        {
            destination[n++] = b;
        }

        foreach (var b in text)
        {
            switch (b)
            {
                case (byte)'\'':
                case (byte)'\\':
                    destination[n++] = (byte)'\\';
                    destination[n++] = b;
                    break;
                case (byte)'\n':
                    destination[n++] = (byte)'\\';
                    destination[n++] = (byte)'n';
                    break;
                case >= 0x20 and < 0x7f:
                    destination[n++] = b;
                    break;
                default:
                    destination[n++] = (byte)'\\';
                    destination[n++] = (byte)'x';
                    destination[n++] = Hex(b >> 4);
                    destination[n++] = Hex(b & 0xf);
                    break;
            }
        }

        suffix.CopyTo(destination[n..]);
        return n + suffix.Length;

        static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
    }

    /// <summary>Hands output to <paramref name="onOutput"/> until the marker; null if the stream ended first.</summary>
    private async ValueTask<int?> ReadUntilMarkerAsync(Func<ReadOnlyMemory<byte>, ValueTask> onOutput, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_leftoverStart == _leftoverEnd)
            {
                _leftoverStart = 0;
                _leftoverEnd = await _stdout.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
                if (_leftoverEnd == 0)
                {
                    await FlushHeldBackAsync(onOutput).ConfigureAwait(false);
                    return null;
                }
            }

            var chunk = _buffer.AsMemory(_leftoverStart, _leftoverEnd - _leftoverStart);
            var result = _parser.Feed(chunk.Span);
            if (result.Replay > 0)
            {
                await onOutput(_parser.Pattern[..result.Replay]).ConfigureAwait(false);
            }

            if (result.OutputLength > 0)
            {
                await onOutput(chunk[..result.OutputLength]).ConfigureAwait(false);
            }

            _leftoverStart += result.Consumed;
            if (result.Completed)
            {
                return result.ExitCode;
            }
        }
    }

    private async ValueTask DrainAsync(Func<ReadOnlyMemory<byte>, ValueTask> onOutput, CancellationToken cancellationToken)
    {
        int read;
        while ((read = await _stdout.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await onOutput(_buffer.AsMemory(0, read)).ConfigureAwait(false);
        }
    }

    private async ValueTask FlushHeldBackAsync(Func<ReadOnlyMemory<byte>, ValueTask> onOutput)
    {
        var held = _parser.PendingLength;
        _parser.Reset();
        if (held > 0)
        {
            await onOutput(_parser.Pattern[..held]).ConfigureAwait(false);
        }
    }

    private Task BeginKill()
    {
        lock (_killLock)
        {
            return _kill ??= _host.KillAsync();
        }
    }

    private int ExitCodeOrMinusOne() => _host.HasExited ? _host.ExitCode : -1;
}
