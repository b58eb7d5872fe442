using System.Diagnostics;
using System.Text;

namespace Kaizen.Runner.Execution.Calls;

/// <summary>
/// The file work of a job's <c>kaizen</c> calls (reading key files, tar, zstd, writing a pulled artifact), done by small
/// processes that see the job's files as the job sees them and nothing more: with the job sandbox, each runs in a
/// sandbox that shows the workspace and the job's own home and <c>/tmp</c> (no cache folder, tools, token or runner
/// folder), so a symbolic link the job planted (<c>workspace/x -> /home/runner/...</c>, <c>-> /etc</c>) leads where it
/// would lead the job itself, and a restore cannot write through one into the runner's files. The bytes, the hashes,
/// the runner's cache copies and the job's token stay in the runner's process; these processes get only streams.
/// Without a sandbox (trusted jobs) they run as the runner's user in the job's directory.
/// </summary>
public sealed class JobFiles
{
    private readonly Func<string, IReadOnlyList<string>, IReadOnlyList<string>>? _wrap;
    private readonly IReadOnlyDictionary<string, string> _environment;

    /// <param name="wrap">Turns (working directory, command) into the sandboxed command line; null: no sandbox.</param>
    /// <param name="environment">The processes' variables (the job's, without credentials).</param>
    public JobFiles(Func<string, IReadOnlyList<string>, IReadOnlyList<string>>? wrap, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        _wrap = wrap;
        _environment = environment;
    }

    /// <summary>Whether the processes run in the job sandbox.</summary>
    public bool Sandboxed => _wrap is not null;

    /// <summary>The files of a sandboxed job with <paramref name="folders"/> whose workspace is <paramref name="workspace"/>.</summary>
    public static JobFiles InSandbox(Sandbox.JobSandbox sandbox, Sandbox.JobFolders folders, string workspace, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        return new JobFiles((directory, command) => sandbox.Wrap(new Sandbox.SandboxMounts(folders, directory, [], [workspace]), command), environment);
    }

    // Each script gets its arguments as "$@"; `set -o pipefail` so that a failing tar fails the pipe.
    private const string ChecksumScript =
        "for f; do if [ -f \"$f\" ]; then sha256sum <\"$f\" || exit 1; else printf '%s missing\\n' \"$f\"; fi; done";

    // 1: present, 0: missing, 2: its folder is outside the current one (reached through a symbolic link). A path's own
    // last part may be a link (tar stores the link), never a folder on the way to it.
    private const string PresentScript =
        "here=$(pwd -P); for p; do d=$(cd -P -- \"$(dirname -- \"$p\")\" 2>/dev/null && pwd); " +
        "if [ -n \"$d\" ] && [ \"$d\" != \"$here\" ] && [ \"${d#\"$here\"/}\" = \"$d\" ]; then printf 2; " +
        "elif [ -e \"$p\" ] || [ -L \"$p\" ]; then printf 1; else printf 0; fi; done";

    private const string RemoveScript = "for p; do rm -rf -- \"./$p\"; done";

    /// <summary>
    /// The first 16 hex digits of a SHA-256 over the files' contents, in the order given; a missing file counts as its
    /// name and "missing", so adding the file later changes the key. (The same value earlier runners computed in bash.)
    /// </summary>
    public async Task<string?> ChecksumAsync(string directory, IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        var (exitCode, output, _) = await RunAsync(directory, ChecksumScript, files, cancellationToken).ConfigureAwait(false);
        return exitCode != 0 ? null : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(output))[..16];
    }

    /// <summary>Whether each of <paramref name="paths"/> exists (a dangling link counts: tar stores the link), or is reached
    /// through a folder outside <paramref name="directory"/> (a link to the runner's folder, to /etc): never archived.</summary>
    public async Task<PathState[]> PresentAsync(string directory, IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        var (exitCode, output, _) = await RunAsync(directory, PresentScript, paths, cancellationToken).ConfigureAwait(false);
        return exitCode == 0 && output.Length == paths.Count
            ? [.. output.Select(b => b switch { (byte)'1' => PathState.Present, (byte)'2' => PathState.Outside, _ => PathState.Missing })]
            : new PathState[paths.Count];
    }

    /// <summary>Removes <paramref name="paths"/> (a half-restored tree).</summary>
    public Task RemoveAsync(string directory, IReadOnlyList<string> paths, CancellationToken cancellationToken) =>
        RunAsync(directory, RemoveScript, paths, cancellationToken);

    /// <summary>
    /// Runs <paramref name="script"/> with <paramref name="arguments"/> in <paramref name="directory"/>, its standard input
    /// fed by <paramref name="feed"/> (which may fail: the process is killed then, so nothing half-written is kept) and its
    /// standard output read by <paramref name="drain"/>. Returns the exit code and the first line of its errors.
    /// </summary>
    public async Task<(int ExitCode, string Error)> StreamAsync(
        string directory, string script, IReadOnlyList<string> arguments, Func<Stream, Task>? feed, Func<Stream, Task>? drain,
        CancellationToken cancellationToken)
    {
        using var process = Start(directory, script, arguments);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        var feeding = Task.Run(async () =>
        {
            try
            {
                if (feed is not null)
                {
                    await feed(process.StandardInput.BaseStream).ConfigureAwait(false);
                }

                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The process stopped reading (it failed): its exit code and errors say why.
                TryClose(process.StandardInput);
            }
            catch
            {
                Kill(process);
                throw;
            }
        }, CancellationToken.None);
        var draining = Task.Run(async () =>
        {
            if (drain is not null)
            {
                await drain(process.StandardOutput.BaseStream).ConfigureAwait(false);
            }

            await process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None).ConfigureAwait(false);
        }, CancellationToken.None);
        try
        {
            await using var registration = cancellationToken.Register(() => Kill(process));
            await Task.WhenAll(feeding, draining).ConfigureAwait(false);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var error = await errors.ConfigureAwait(false);
        return (process.ExitCode, FirstLine(error));
    }

    private async Task<(int ExitCode, byte[] Output, string Error)> RunAsync(
        string directory, string script, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        using var output = new MemoryStream();
        var (exitCode, error) = await StreamAsync(directory, script, arguments, null, s => s.CopyToAsync(output, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        return (exitCode, output.ToArray(), error);
    }

    private Process Start(string directory, string script, IReadOnlyList<string> arguments)
    {
        var startInfo = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        IReadOnlyList<string> command = ["bash", "--noprofile", "--norc", "-c", "set -o pipefail; " + script, "kaizen", .. arguments];
        if (_wrap is not null)
        {
            command = _wrap(directory, command);
            startInfo.WorkingDirectory = "/";
        }
        else
        {
            startInfo.WorkingDirectory = directory;
        }

        ProcessTree.UseNewProcessGroup(startInfo, command[0], command.Skip(1));
        Sandbox.JobSandbox.SetEnvironment(startInfo, _environment, sandboxed: _wrap is not null);
        var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new IOException($"could not start the file work of a kaizen call in {directory}: {ex.Message}", ex);
        }

        return process;
    }

    private static void Kill(Process process)
    {
        try
        {
            ProcessTree.KillGroupNow(process.Id);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static void TryClose(StreamWriter writer)
    {
        try
        {
            writer.Close();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The first non-empty line of <paramref name="text"/>, else "no details".</summary>
    public static string FirstLine(string? text) =>
        (text ?? "").Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.Length > 0) ?? "no details";

    /// <summary>Bash-quoted, for building a script (arguments go as "$@" instead wherever they can).</summary>
    internal static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    internal static readonly Encoding Utf8 = new UTF8Encoding(false);
}

/// <summary>What a path of a <c>kaizen cache store</c> is.</summary>
public enum PathState
{
    Missing,
    Present,
    Outside,
}
