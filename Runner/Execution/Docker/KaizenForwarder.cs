using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Kaizen.Runner.Execution.Docker;

/// <summary>
/// Runs a container's <c>kaizen</c> calls on the runner's host. An image may lack curl, tar or zstd, so inside a
/// container the function (kaizen.sh, when KAIZEN_CONTROL_DIR is set) writes its arguments and working directory,
/// NUL-separated, to the FIFO <c>requests</c> of a control folder mounted at the same path; this class runs the very
/// same <c>kaizen</c> function in a host bash in that directory with the job's environment (the workspace and the tools
/// folder are mounted at their host paths, so paths agree), its output going to the FIFO <c>ID.out</c> and its status to
/// <c>ID.status</c>, which the container's side reads back. Only bash builtins are needed in the container.
/// The container is not a sandbox: like the shell executor, a job can run commands on the host this way.
/// </summary>
internal sealed partial class KaizenForwarder : IAsyncDisposable
{
    // The job's token arrives on stdin into a shell variable that is never exported: no process of the call (tar, curl,
    // zstd reading paths the job chose, links to /proc/self included) holds it in its environment.
    private const string HostScript =
        "IFS= read -r KAIZEN_JOB_TOKEN || :; exec </dev/null; " +
        "mkfifo -m 600 -- \"$0.tmp\" && mv -f -- \"$0.tmp\" \"$0.out\" || exit 1; exec >\"$0.out\" 2>&1; . \"$KAIZEN_FORWARD_LIBRARY\"; " +
        "unset KAIZEN_FORWARD_LIBRARY; cd -- \"$1\" || { echo 1 >\"$0.status\"; exit 1; }; shift; kaizen \"$@\"; s=$?; " +
        "echo \"$s\" >\"$0.status\"; exit \"$s\"";

    private readonly string _directory;
    private readonly string _library;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly ForwardingSandbox? _sandbox;
    private readonly ConcurrentDictionary<int, Process> _running = new();
    private readonly Thread _reader;
    private volatile bool _stopping;

    private KaizenForwarder(string directory, string library, IReadOnlyDictionary<string, string> environment, ForwardingSandbox? sandbox)
    {
        _directory = directory;
        _library = library;
        _environment = environment;
        _sandbox = sandbox;
        _reader = new Thread(ReadRequests) { IsBackground = true, Name = "kaizen forwarder " + directory };
    }

    /// <summary>The folder to mount (at the same path) and to name in KAIZEN_CONTROL_DIR.</summary>
    public string Directory => _directory;

    /// <summary>Makes <paramref name="directory"/> afresh with its FIFOs and starts listening; calls run with
    /// <paramref name="environment"/> (and, in <paramref name="sandbox"/>, its private variables where they belong).</summary>
    public static KaizenForwarder Start(
        string directory, string library, IReadOnlyDictionary<string, string> environment, ForwardingSandbox? sandbox = null)
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

        var forwarder = new KaizenForwarder(directory, library, environment, sandbox);
        forwarder._reader.Start();
        return forwarder;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        try
        {
            // Wakes the reader: opening for writing does not block while the reader holds the FIFO open.
            await using var wake = new FileStream(Path.Combine(_directory, "requests"), FileMode.Open, FileAccess.Write);
            await wake.WriteAsync("!\0"u8.ToArray());
        }
        catch (IOException)
        {
        }

        foreach (var process in _running.Values)
        {
            try
            {
                await ProcessTree.KillGroupAsync(process).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // It exited meanwhile and its Exited handler disposed it: nothing of it is left to stop.
            }
        }

        _reader.Join(TimeSpan.FromSeconds(2));
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

        var startInfo = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        IReadOnlyList<string> command = ["bash", "--noprofile", "--norc", "-c", HostScript, Path.Combine(_directory, id), directory, .. arguments];
        var environment = new Dictionary<string, string>(_environment, StringComparer.Ordinal);
        if (_sandbox is { } sandbox)
        {
            // A tool's install command is the job's own code: it gets neither the token nor the cache folder.
            var install = arguments.Count > 0 && arguments[0] == "tool";
            if (!install)
            {
                foreach (var (name, value) in sandbox.Private)
                {
                    environment[name] = value;
                }
            }

            var mounts = install
                ? new Sandbox.SandboxMounts(sandbox.Folders, _directory, [_library, sandbox.Workspace], [_directory, sandbox.Tools])
                : new Sandbox.SandboxMounts(sandbox.Folders, _directory, [_library, sandbox.Tools], [_directory, sandbox.Workspace, sandbox.Cache]);
            command = sandbox.Sandbox.Wrap(mounts, command);
            startInfo.WorkingDirectory = "/";
        }

        ProcessTree.UseNewProcessGroup(startInfo, command[0], command.Skip(1));
        environment.Remove("KAIZEN_CONTROL_DIR");
        environment.Remove(KaizenFunctions.JobTokenVariable, out var token);
        environment["KAIZEN_FORWARD_LIBRARY"] = _library;
        Sandbox.JobSandbox.SetEnvironment(startInfo, environment, sandboxed: _sandbox is not null);
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            File.WriteAllText(Path.Combine(_directory, id + ".status"), "127\n");
            process.Dispose();
            return;
        }

        try
        {
            process.StandardInput.Write((token ?? "") + "\n");
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The call ended before reading it (its sandbox could not start): its status says so.
        }

        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
        var pid = process.Id;
        _running[pid] = process;
        process.Exited += (_, _) =>
        {
            _running.TryRemove(pid, out _);
            process.Dispose();
        };
    }

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
