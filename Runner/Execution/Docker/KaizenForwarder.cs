using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Kaizen.Runner.Execution.Docker;

/// <summary>
/// Answers a job's <c>kaizen</c> calls on the runner, for shell and container jobs alike. The job's function (kaizen.sh)
/// writes its arguments and working directory, NUL-separated, to the FIFO <c>requests</c> of a control folder shown to
/// the job at its host path; the answer's output goes to the FIFO <c>ID.out</c> and its exit code to <c>ID.status</c>,
/// which the job's side reads back (only bash builtins are needed there, so any image works). Cache, checksum and
/// artifact calls are answered in this process (<see cref="Calls.KaizenCalls"/>): the job's token never leaves it, and
/// the job's files are read and written by processes in the job's sandbox (<see cref="Calls.JobFiles"/>). A tool's
/// install command is the job's own code: it runs in a bash of its own, sandboxed when jobs are (the tools folder
/// writable, the workspace read-only, no token).
/// </summary>
internal sealed partial class KaizenForwarder : IAsyncDisposable
{
    private readonly string _directory;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly ForwardingSandbox? _sandbox;
    private readonly ConcurrentDictionary<string, Task> _answering = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Calls.KaizenCallContext _calls;
    private readonly Thread _reader;
    private volatile bool _stopping;

    private KaizenForwarder(string directory, IReadOnlyDictionary<string, string> environment, ForwardingSandbox? sandbox)
    {
        _directory = directory;
        _environment = environment;
        _sandbox = sandbox;
        _calls = CallContext(environment, sandbox);
        _reader = new Thread(ReadRequests) { IsBackground = true, Name = "kaizen forwarder " + directory };
    }

    /// <summary>What the runner's own side of the job's cache, checksum and artifact calls needs: the credentials from the
    /// job's variables (or, sandboxed, the private ones the job never gets), and its files as the job sees them.</summary>
    private static Calls.KaizenCallContext CallContext(IReadOnlyDictionary<string, string> environment, ForwardingSandbox? sandbox)
    {
        var variables = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        foreach (var (name, value) in sandbox?.Private ?? new Dictionary<string, string>())
        {
            variables[name] = value;
        }

        // The processes that touch the job's files get the job's own variables, no credential and no runner folder.
        var fileEnvironment = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        foreach (var name in (string[])["KAIZEN_CONTROL_DIR", KaizenFunctions.JobTokenVariable, "KAIZEN_CACHE_DIR", "KAIZEN_PORTAL_URL", "KAIZEN_CACHE_MAX_MB"])
        {
            fileEnvironment.Remove(name);
        }

        var files = sandbox is null
            ? new Calls.JobFiles(null, fileEnvironment)
            : Calls.JobFiles.InSandbox(sandbox.Sandbox, sandbox.Folders, sandbox.Workspace, fileEnvironment);
        return Calls.KaizenCallContext.From(files, variables);
    }

    /// <summary>The folder to mount (at the same path) and to name in KAIZEN_CONTROL_DIR.</summary>
    public string Directory => _directory;

    /// <summary>Makes <paramref name="directory"/> afresh with its FIFOs and starts listening; calls run with
    /// <paramref name="environment"/> (and, in <paramref name="sandbox"/>, its private variables where they belong).</summary>
    public static KaizenForwarder Start(
        string directory, IReadOnlyDictionary<string, string> environment, ForwardingSandbox? sandbox = null)
    {
        // Emptied, not replaced: a sandbox made ahead of time may already show this very folder.
        Checkout.GitCheckout.EmptyWorkspace(directory);
        foreach (var name in new[] { "requests", "idle" })
        {
            if (MakeFifo(Path.Combine(directory, name), Convert.ToUInt32("600", 8)) != 0)
            {
                throw new IOException($"Could not create the FIFO {Path.Combine(directory, name)} (errno {Marshal.GetLastPInvokeError()}).");
            }
        }

        var forwarder = new KaizenForwarder(directory, environment, sandbox);
        forwarder._reader.Start();
        return forwarder;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            // Wakes the reader: opening for writing does not block while the reader holds the FIFO open.
            await using var wake = new FileStream(Path.Combine(_directory, "requests"), FileMode.Open, FileAccess.Write);
            await wake.WriteAsync("!\0"u8.ToArray());
        }
        catch (IOException)
        {
        }

        // A call whose job side is gone waits to open its output: opening the other end lets it finish.
        foreach (var (id, answer) in _answering)
        {
            if (!answer.IsCompleted)
            {
                UnblockOutput(id);
            }
        }

        await Task.WhenAll(_answering.Values).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        _reader.Join(TimeSpan.FromSeconds(2));
        _stop.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private void ReadRequests()
    {
        try
        {
            // Read and write: the FIFO never reports end of input between two containers' writes.
            using var requests = new FileStream(Path.Combine(_directory, "requests"), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
            var buffer = new byte[8192];
            var token = new List<byte>();
            var fields = new List<string>();
            while (!_stopping)
            {
                var read = requests.Read(buffer, 0, buffer.Length);
                if (read == 0)
                {
                    return;
                }

                for (var i = 0; i < read; i++)
                {
                    if (buffer[i] != 0)
                    {
                        token.Add(buffer[i]);
                        continue;
                    }

                    fields.Add(Encoding.UTF8.GetString(token.ToArray()));
                    token.Clear();
                    if (fields[0] == "!")
                    {
                        return;
                    }

                    // id, directory, argument count, arguments.
                    if (fields.Count >= 3 && int.TryParse(fields[2], out var count) && fields.Count == 3 + count)
                    {
                        Run(fields[0], fields[1], fields.Skip(3).ToList());
                        fields.Clear();
                    }
                    else if (fields.Count >= 3 && !int.TryParse(fields[2], out _))
                    {
                        fields.Clear(); // not ours: start over at the next request
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The control folder went away: the job is over.
        }
    }

    private void Run(string id, string directory, IReadOnlyList<string> arguments)
    {
        if (!SafeId().IsMatch(id) || !Path.IsPathRooted(directory) || _stopping)
        {
            return;
        }

        // Every call is answered in this process: the job's token never leaves it, and a tool's install command (the
        // job's own code) runs in a process of its own without it.
        _answering[id] = Task.Run(() => AnswerAsync(id, directory, arguments));
    }

    /// <summary>The process of a tool's install: bash in the tool's folder with the job's variables (no credential); in
    /// a sandbox that shows the project's tools folder writable and the workspace read-only when jobs are sandboxed.</summary>
    private ProcessStartInfo InstallProcess(string prefix, IReadOnlyList<string> command)
    {
        var startInfo = new ProcessStartInfo { WorkingDirectory = prefix };
        var environment = new Dictionary<string, string>(_environment, StringComparer.Ordinal);
        foreach (var name in (string[])["KAIZEN_CONTROL_DIR", KaizenFunctions.JobTokenVariable, "KAIZEN_CACHE_DIR", "KAIZEN_PORTAL_URL", "KAIZEN_CACHE_MAX_MB"])
        {
            environment.Remove(name);
        }

        environment["KAIZEN_TOOL_PREFIX"] = prefix;
        if (_sandbox is { } sandbox)
        {
            command = sandbox.Sandbox.Wrap(new Sandbox.SandboxMounts(sandbox.Folders, prefix, [sandbox.Workspace], [sandbox.Tools]), command);
            startInfo.WorkingDirectory = "/";
        }

        ProcessTree.UseNewProcessGroup(startInfo, command[0], command.Skip(1));
        Sandbox.JobSandbox.SetEnvironment(startInfo, environment, sandboxed: _sandbox is not null);
        return startInfo;
    }

    /// <summary>Runs one call in this process, its output going to the FIFO <c>ID.out</c> (made here, as the host script
    /// makes it) and its exit code to <c>ID.status</c>, written before the output ends, as the job's side expects.</summary>
    private async Task AnswerAsync(string id, string directory, IReadOnlyList<string> arguments)
    {
        var output = Path.Combine(_directory, id + ".out");
        var status = 1;
        try
        {
            var temp = Path.Combine(_directory, id + ".tmp");
            if (MakeFifo(temp, Convert.ToUInt32("600", 8)) != 0)
            {
                await File.WriteAllTextAsync(Path.Combine(_directory, id + ".status"), "1\n").ConfigureAwait(false);
                return;
            }

            File.Move(temp, output, overwrite: true);

            // Blocks until the job's side opens it for reading (it waits for the FIFO to appear, then does).
            await using var stream = new FileStream(output, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1);
            await using var writer = new StreamWriter(stream, Calls.JobFiles.Utf8, 4096) { AutoFlush = true, NewLine = "\n" };
            try
            {
                status = arguments.Count > 0 && arguments[0] == "tool"
                    ? await Calls.ToolInstall.RunAsync(
                        _sandbox?.Tools ?? _environment.GetValueOrDefault("KAIZEN_TOOLS_DIR"), arguments, InstallProcess, writer, _stop.Token).ConfigureAwait(false)
                    : await Calls.KaizenCalls.RunAsync(_calls, directory, arguments, writer, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                status = 130;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HttpRequestException)
            {
                await writer.WriteLineAsync($"kaizen: the runner could not complete the call: {ex.Message}").ConfigureAwait(false);
                status = 1;
            }

            await File.WriteAllTextAsync(Path.Combine(_directory, id + ".status"), status.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n")
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The job's side went away (or the control folder did): nobody reads the answer.
        }
        finally
        {
            _answering.TryRemove(id, out _);
        }
    }

    private void UnblockOutput(string id)
    {
        // Non-blocking: a reader's open never waits for the writer.
        var fd = OpenFile(Path.Combine(_directory, id + ".out"), 0x800 /* O_RDONLY | O_NONBLOCK */);
        if (fd >= 0)
        {
            CloseFile(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
#pragma warning disable SYSLIB1054 // as for mkfifo
    private static extern int OpenFile([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
#pragma warning restore SYSLIB1054

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
#pragma warning disable SYSLIB1054
    private static extern int CloseFile(int fd);
#pragma warning restore SYSLIB1054

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9.]{1,40}$")]
    private static partial System.Text.RegularExpressions.Regex SafeId();

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks for strings; one call per job.
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
#pragma warning restore SYSLIB1054
}

/// <summary>
/// Where a forwarder runs a sandboxed job's calls: in <see cref="Sandbox"/>, with the job's <see cref="Folders"/> (its
/// home and /tmp), its <see cref="Workspace"/>, the project's <see cref="Cache"/> and <see cref="Tools"/> folders, and
/// the <see cref="Private"/> variables (cache folder, portal, job token) that only the runner's own calls get.
/// </summary>
public sealed record ForwardingSandbox(
    Sandbox.JobSandbox Sandbox, Sandbox.JobFolders Folders, string Workspace, string Cache, string Tools, IReadOnlyDictionary<string, string> Private);
