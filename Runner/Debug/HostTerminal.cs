using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Sandbox;

namespace Kaizen.Runner.Debug;

/// <summary>
/// An interactive bash on the runner's host behind a real PTY. The runner holds the master side; the shell starts as
/// <c>/bin/sh -c 'exec setsid -c "$@" &lt;&gt;"$KAIZEN_PTS" &gt;&amp;0 2&gt;&amp;0'</c>, so it leads a session of its own
/// whose controlling terminal is the PTY (job control, Ctrl-C, <c>stty</c> work as in any terminal). The master is
/// read with blocking reads on a thread of its own: EIO means every process that held the terminal is gone.
/// </summary>
public sealed class HostTerminal : ITerminal
{
    private const int ORdWr = 2;
    private const int ONoCtty = 0x100;
    private const int FSetFd = 2;
    private const int FdCloExec = 1;
    private const nuint TiocSWinSz = 0x5414;
    private const int SigHup = 1;
    private const int SigKill = 9;
    private const int EIntr = 4;
    private const int EAgain = 11;

    // Every signal at its default (see BashSession): Ctrl-C stops what runs even when the runner was started ignoring SIGINT.
    private const string Launcher = "exec setsid -c env --default-signal \"$@\" <>\"$KAIZEN_PTS\" >&0 2>&0";

    private readonly int _master;
    private readonly Process _process;
    private readonly Channel<byte[]> _output = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
    private readonly Lock _writeLock = new();
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[]? _pending;
    private int _pendingOffset;
    private int _closed;
    private Task? _kill;

    private HostTerminal(int master, Process process)
    {
        _master = master;
        _process = process;
    }

    public Task<int> Exited => _exited.Task;

    /// <summary>The shell's process id: also its session and process group id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Opens a PTY at <paramref name="size"/> and starts <c>bash --rcfile RC -i</c> on it in <paramref name="workingDirectory"/>
    /// with <paramref name="environment"/> over a clean base (as a job's shell gets it), plus <c>TERM=xterm-256color</c> and
    /// <c>COLORTERM=truecolor</c>; in the job's sandbox when <paramref name="sandbox"/> wraps the command line.</summary>
    public static HostTerminal Start(
        string workingDirectory, IReadOnlyDictionary<string, string> environment, string rcFile, TerminalSize size,
        Func<IReadOnlyList<string>, IReadOnlyList<string>>? sandbox = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(workingDirectory);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentException.ThrowIfNullOrEmpty(rcFile);

        var master = posix_openpt(ORdWr | ONoCtty);
        if (master < 0)
        {
            throw new IOException($"Could not open a pseudo-terminal (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            // The shell must not inherit the master: it would keep the terminal open after the shell is gone.
            if (fcntl(master, FSetFd, FdCloExec) != 0 || grantpt(master) != 0 || unlockpt(master) != 0)
            {
                throw new IOException($"Could not set up the pseudo-terminal (errno {Marshal.GetLastPInvokeError()}).");
            }

            var name = new byte[256];
            if (ptsname_r(master, name, name.Length) != 0)
            {
                throw new IOException($"Could not name the pseudo-terminal (errno {Marshal.GetLastPInvokeError()}).");
            }

            Resize(master, size);
            var startInfo = new ProcessStartInfo("/bin/sh")
            {
                WorkingDirectory = sandbox is null ? workingDirectory : "/",
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            IReadOnlyList<string> shell = ["bash", "--rcfile", rcFile, "-i"];
            foreach (var argument in (string[])["-c", Launcher, "sh", .. sandbox is null ? shell : sandbox(shell)])
            {
                startInfo.ArgumentList.Add(argument);
            }

            JobSandbox.SetEnvironment(startInfo, environment, sandboxed: sandbox is not null);

            startInfo.Environment["TERM"] = "xterm-256color";
            startInfo.Environment["COLORTERM"] = "truecolor";
            startInfo.Environment["KAIZEN_PTS"] = System.Text.Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0));
            var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
            process.Start();
            process.StandardInput.Close();
            _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);

            var terminal = new HostTerminal(master, process);
            new Thread(terminal.ReadLoop) { IsBackground = true, Name = $"pty {process.Id}" }.Start();
            _ = terminal.WatchExitAsync();
            return terminal;
        }
        catch
        {
            close(master);
            throw;
        }
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var written = 0;
        while (written < buffer.Length)
        {
            if (_pending is null)
            {
                // Wait for the first chunk only; after that take what is already there (coalescing small writes).
                if (written == 0)
                {
                    if (!await _output.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return 0;
                    }
                }

                if (!_output.Reader.TryRead(out _pending))
                {
                    break;
                }

                _pendingOffset = 0;
            }

            var n = Math.Min(buffer.Length - written, _pending.Length - _pendingOffset);
            _pending.AsSpan(_pendingOffset, n).CopyTo(buffer.Span[written..]);
            written += n;
            _pendingOffset += n;
            if (_pendingOffset == _pending.Length)
            {
                _pending = null;
            }
        }

        return written;
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Small and usually immediate; a shell that does not read its input fills the PTY's buffer and the write waits,
        // which is the back-pressure a terminal gives.
        lock (_writeLock)
        {
            var span = data.Span;
            while (span.Length > 0 && Volatile.Read(ref _closed) == 0)
            {
                var n = write(_master, ref MemoryMarshal.GetReference(span), span.Length);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is EIntr or EAgain)
                    {
                        continue;
                    }

                    break; // the shell is gone; typing into nothing is not an error
                }

                span = span[(int)n..];
            }
        }

        return ValueTask.CompletedTask;
    }

    public Task ResizeAsync(TerminalSize size, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _closed) == 0)
        {
            // The kernel sends SIGWINCH to the terminal's foreground process group.
            Resize(_master, size);
        }

        return Task.CompletedTask;
    }

    public Task KillAsync()
    {
        lock (_writeLock)
        {
            return _kill ??= KillCoreAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);

        // Output nobody reads any more must not keep the reading thread (and with it the PTY) waiting.
        _output.Writer.TryComplete();
        _process.Dispose();
    }

    private async Task KillCoreAsync()
    {
        // Hang up like a closed terminal window: bash passes SIGHUP on to its jobs. What ignores it is killed.
        var sid = _process.Id;
        SignalSession(sid, SigHup);
        var deadline = Stopwatch.StartNew();
        while (ProcessTree.SessionMembers(sid).Count > 0 && deadline.Elapsed < TimeSpan.FromSeconds(1))
        {
            await Task.Delay(20).ConfigureAwait(false);
        }

        SignalSession(sid, SigKill);
        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        await _exited.Task.ConfigureAwait(false);
    }

    private static void SignalSession(int sid, int signal)
    {
        foreach (var pid in ProcessTree.SessionMembers(sid))
        {
            _ = kill(pid, signal);
        }
    }

    private async Task WatchExitAsync()
    {
        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        _exited.TrySetResult(_process.ExitCode);
    }

    private void ReadLoop()
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = read(_master, ref buffer[0], buffer.Length);
                if (n < 0 && Marshal.GetLastPInvokeError() is EIntr or EAgain)
                {
                    continue;
                }

                if (n <= 0)
                {
                    break; // EIO: no process holds the terminal any more
                }

                // Blocks while the reader is behind, which stops reading the PTY, which stops the shell's writes.
                var chunk = buffer.AsSpan(0, (int)n).ToArray();
                while (!_output.Writer.TryWrite(chunk))
                {
                    if (!_output.Writer.WaitToWriteAsync().AsTask().GetAwaiter().GetResult())
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            _output.Writer.TryComplete();
            lock (_writeLock)
            {
                Volatile.Write(ref _closed, 1);
                close(_master);
            }
        }
    }

    private static void Resize(int master, TerminalSize size)
    {
        var clamped = size.Clamped();
        var winsize = new WinSize { Rows = (ushort)clamped.Rows, Cols = (ushort)clamped.Cols };
        _ = ioctl(master, TiocSWinSz, ref winsize);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Cols;
        public ushort XPixel;
        public ushort YPixel;
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks; these signatures are blittable anyway.
    [DllImport("libc", SetLastError = true)]
    private static extern int posix_openpt(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int grantpt(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlockpt(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int ptsname_r(int fd, byte[] buffer, nint length);

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    private static extern int ioctl(int fd, nuint request, ref WinSize size);

    [DllImport("libc", SetLastError = true)]
    private static extern nint read(int fd, ref byte buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, ref byte buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
