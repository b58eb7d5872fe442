using Docker.DotNet;
using Docker.DotNet.Models;

namespace Kaizen.Runner.Execution.Docker;

/// <summary>
/// A bash started with <c>docker exec -i</c> in a job's container, as a <see cref="ShellHost"/>. The exec runs a small
/// wrapper: the job's bash is a background job of it with job control on, so it leads a process group of its own, and
/// when it exits (at end of input, <c>exit</c>, <c>set -e</c>) the wrapper kills that group, so background processes a
/// command left behind cannot hold the output open. Killing the session kills the container (it runs nothing else of
/// the job's that must survive a cancel).
/// </summary>
internal sealed class ContainerShellHost : ShellHost
{
    private const string Wrapper =
        "set -m; " + DockerOptions.ContainerBash + " --noprofile --norc <&0 & pid=$!; wait $pid; status=$?; " +
        "kill -KILL -- -$pid 2>/dev/null; exit $status";

    private readonly DockerClient _client;
    private readonly string _containerId;
    private readonly string _execId;
    private readonly MultiplexedStream _stream;
    private readonly Func<Task> _killContainer;
    private int _exitCode = -1;
    private volatile bool _exited;

    private ContainerShellHost(DockerClient client, string containerId, string execId, MultiplexedStream stream, Func<Task> killContainer)
    {
        _client = client;
        _containerId = containerId;
        _execId = execId;
        _stream = stream;
        _killContainer = killContainer;
        Stdin = new StdinStream(stream);
        Stdout = new StdoutStream(stream);
    }

    public static async Task<ContainerShellHost> StartAsync(
        DockerClient client, string containerId, string workingDirectory, IList<string> environment, Func<Task> killContainer,
        CancellationToken cancellationToken)
    {
        var exec = await client.Exec.ExecCreateContainerAsync(containerId, new ContainerExecCreateParameters
        {
            AttachStdin = true,
            AttachStdout = true,
            AttachStderr = true,
            Tty = false,
            WorkingDir = workingDirectory,
            Env = environment,
            Cmd = [DockerOptions.ContainerBash, "--noprofile", "--norc", "-c", Wrapper],
        }, cancellationToken).ConfigureAwait(false);
        var stream = await client.Exec.StartAndAttachContainerExecAsync(exec.ID, tty: false, cancellationToken).ConfigureAwait(false);
        return new ContainerShellHost(client, containerId, exec.ID, stream, killContainer);
    }

    public override Stream Stdin { get; }

    public override Stream Stdout { get; }

    public override bool HasExited => _exited;

    public override int ExitCode => _exitCode;

    public override async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        // The output has ended by now (or the caller gives up after a moment): the exec's status follows within milliseconds.
        while (!_exited)
        {
            var inspect = await _client.Exec.InspectContainerExecAsync(_execId, cancellationToken).ConfigureAwait(false);
            if (!inspect.Running)
            {
                _exitCode = (int)inspect.ExitCode;
                _exited = true;
                break;
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task KillAsync()
    {
        _exitCode = JobExecutor.CanceledExitCode;
        _exited = true;
        try
        {
            await _killContainer().ConfigureAwait(false);
        }
        finally
        {
            _stream.Dispose();
        }
    }

    // The wrapper already killed the shell's process group; whatever else runs goes with the container at the job's end.
    public override Task KillRemnantsAsync() => Task.CompletedTask;

    public override void Dispose() => _stream.Dispose();

    public override string ToString() => $"exec {_execId} in {_containerId}";

    /// <summary>Writes go to the exec's stdin; closing it is end of input for bash.</summary>
    private sealed class StdinStream(MultiplexedStream stream) : Stream
    {
        private int _closed;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) =>
            stream.WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                var array = buffer.ToArray();
                await stream.WriteAsync(array, 0, array.Length, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException ex)
            {
                throw new IOException("The container's shell is gone.", ex);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _closed, 1) == 0)
            {
                try
                {
                    stream.CloseWrite();
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException)
                {
                }
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>The exec's stdout and stderr frames as one stream (the session merges stderr into stdout anyway).</summary>
    private sealed class StdoutStream(MultiplexedStream stream) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            while (true)
            {
                MultiplexedStream.ReadResult result;
                try
                {
                    result = await stream.ReadOutputAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or IOException && !cancellationToken.IsCancellationRequested)
                {
                    return 0; // killed: end of output
                }

                if (result.EOF)
                {
                    return 0;
                }

                if (result.Count > 0)
                {
                    return result.Count;
                }
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(buffer, out var segment))
            {
                return await ReadAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken).ConfigureAwait(false);
            }

            var array = new byte[buffer.Length];
            var read = await ReadAsync(array, 0, array.Length, cancellationToken).ConfigureAwait(false);
            array.AsSpan(0, read).CopyTo(buffer.Span);
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
