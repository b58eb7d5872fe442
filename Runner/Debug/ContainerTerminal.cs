using Docker.DotNet;
using Docker.DotNet.Models;
using Kaizen.Runner.Execution.Docker;

namespace Kaizen.Runner.Debug;

/// <summary>
/// An interactive bash in a job's container: a <c>docker exec</c> with a TTY (Docker's PTY, so colours, Ctrl-C and
/// resizes behave as on the host). Docker cannot signal an exec, so the shell carries <see cref="ITerminalHost.TagVariable"/>
/// in its environment and <see cref="KillAsync"/> runs a second exec that hangs up, then kills, every process of the
/// container that has it: the shell and what it started, never the job's own shell.
/// </summary>
internal sealed class ContainerTerminal : ITerminal
{
    // Bash builtins only (an image may have no ps or kill): $1 is the signal, $2 the tag.
    private const string KillScript =
        "for p in /proc/[0-9]*; do [[ $p == /proc/$$ ]] && continue; mapfile -d '' -t e < \"$p/environ\" 2>/dev/null || continue; " +
        "for v in \"${e[@]}\"; do [[ $v == \"$2\" ]] && { kill -\"$1\" \"${p#/proc/}\" 2>/dev/null; break; }; done; done";

    private readonly DockerClient _client;
    private readonly string _containerId;
    private readonly string _execId;
    private readonly string _tag;
    private readonly MultiplexedStream _stream;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _killLock = new();
    private Task? _kill;

    private ContainerTerminal(DockerClient client, string containerId, string execId, string tag, MultiplexedStream stream)
    {
        _client = client;
        _containerId = containerId;
        _execId = execId;
        _tag = tag;
        _stream = stream;
    }

    public Task<int> Exited => _exited.Task;

    public static async Task<ContainerTerminal> StartAsync(
        DockerClient client, string containerId, string workingDirectory, IEnumerable<string> environment, string rcFile, TerminalSize size,
        string tag, CancellationToken cancellationToken)
    {
        var taggedAs = $"{ITerminalHost.TagVariable}={tag}";
        var exec = await client.Exec.ExecCreateContainerAsync(containerId, new ContainerExecCreateParameters
        {
            AttachStdin = true,
            AttachStdout = true,
            AttachStderr = true,
            Tty = true,
            WorkingDir = workingDirectory,
            Env = [.. environment, "TERM=xterm-256color", "COLORTERM=truecolor", taggedAs],
            Cmd = [DockerOptions.ContainerBash, "--rcfile", rcFile, "-i"],
        }, cancellationToken).ConfigureAwait(false);
        var stream = await client.Exec.StartAndAttachContainerExecAsync(exec.ID, tty: true, cancellationToken).ConfigureAwait(false);
        var terminal = new ContainerTerminal(client, containerId, exec.ID, taggedAs, stream);
        await terminal.ResizeAsync(size, cancellationToken).ConfigureAwait(false);
        return terminal;
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(buffer, out var segment))
        {
            throw new ArgumentException("The buffer must be an array.", nameof(buffer));
        }

        while (true)
        {
            MultiplexedStream.ReadResult? result;
            try
            {
                result = await _stream.ReadOutputAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or IOException && !cancellationToken.IsCancellationRequested)
            {
                result = null; // killed: end of output
            }

            if (result is not { EOF: false } read)
            {
                await ObserveExitAsync().ConfigureAwait(false);
                return 0;
            }

            if (read.Count > 0)
            {
                return read.Count;
            }
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_exited.Task.IsCompleted)
        {
            return;
        }

        try
        {
            var array = data.ToArray();
            await _stream.WriteAsync(array, 0, array.Length, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The shell is gone; typing into nothing is not an error.
        }
    }

    public async Task ResizeAsync(TerminalSize size, CancellationToken cancellationToken)
    {
        var clamped = size.Clamped();
        try
        {
            await _client.Exec.ResizeContainerExecTtyAsync(_execId, new ContainerResizeParameters { Width = clamped.Cols, Height = clamped.Rows }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (DockerApiException)
        {
            // The exec has ended (or not quite started); the next resize or the exit follows.
        }
    }

    public Task KillAsync()
    {
        lock (_killLock)
        {
            return _kill ??= KillCoreAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _stream.Dispose();
    }

    private async Task KillCoreAsync()
    {
        if (await SignalAsync("HUP").ConfigureAwait(false))
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await _exited.Task.WaitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await SignalAsync("KILL").ConfigureAwait(false);
        }

        // Ends the reader, whatever state the exec is in (the container may be gone already).
        _stream.Dispose();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await ObserveExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or DockerApiException or HttpRequestException or IOException)
        {
            _exited.TrySetResult(-1);
        }
    }

    /// <summary>Hangs up, then (after a second) kills, the processes of <paramref name="containerId"/> tagged
    /// <paramref name="tag"/>: shells that came in through the docker CLI rather than this class.</summary>
    public static async Task KillTaggedAsync(DockerClient client, string containerId, string tag)
    {
        ArgumentNullException.ThrowIfNull(client);
        var taggedAs = $"{ITerminalHost.TagVariable}={tag}";
        if (await SignalAsync(client, containerId, taggedAs, "HUP").ConfigureAwait(false))
        {
            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            await SignalAsync(client, containerId, taggedAs, "KILL").ConfigureAwait(false);
        }
    }

    private Task<bool> SignalAsync(string signal) => SignalAsync(_client, _containerId, _tag, signal);

    /// <summary>Sends <paramref name="signal"/> to the processes tagged <paramref name="taggedAs"/>; false when the container is gone.</summary>
    private static async Task<bool> SignalAsync(DockerClient client, string containerId, string taggedAs, string signal)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var exec = await client.Exec.ExecCreateContainerAsync(containerId, new ContainerExecCreateParameters
            {
                AttachStdout = true,
                AttachStderr = true,
                Cmd = [DockerOptions.ContainerBash, "--noprofile", "--norc", "-c", KillScript, "kill", signal, taggedAs],
            }, timeout.Token).ConfigureAwait(false);
            using var stream = await client.Exec.StartAndAttachContainerExecAsync(exec.ID, tty: false, timeout.Token).ConfigureAwait(false);
            await stream.ReadOutputToEndAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ObserveExitAsync(CancellationToken cancellationToken = default)
    {
        while (!_exited.Task.IsCompleted)
        {
            ContainerExecInspectResponse inspect;
            try
            {
                inspect = await _client.Exec.InspectContainerExecAsync(_execId, cancellationToken).ConfigureAwait(false);
            }
            catch (DockerApiException)
            {
                _exited.TrySetResult(-1); // the container was removed
                return;
            }

            if (!inspect.Running)
            {
                _exited.TrySetResult((int)inspect.ExitCode);
                return;
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }
}
