using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Kaizen.Runner.Execution.Calls;

/// <summary>
/// The runner's side of <c>kaizen tool use NAME VERSION -- INSTALL</c>: one install per tool and version at a time across
/// every job of the runner (and of other runners sharing the tools folder), the marker that says an install finished,
/// and the removal of what an interrupted or failed install left. The install command itself is the job's own code and
/// runs in a process <paramref name="start"/> makes (sandboxed when jobs are: the tools folder writable, nothing of the
/// runner's); the job's shell then puts the tool on its PATH.
/// </summary>
public static class ToolInstall
{
    /// <summary>The file in a tool's folder that says its install finished.</summary>
    public const string Marker = ".kaizen-installed";

    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Installing = new(StringComparer.Ordinal);

    /// <summary>
    /// Installs the tool named by <paramref name="arguments"/> (<c>tool use NAME VERSION -- INSTALL</c>, as the job's
    /// function forwards it) into <paramref name="toolsDirectory"/> unless it is there. Returns the exit code.
    /// </summary>
    /// <param name="start">Makes the install's process: bash running the command (its last argument) with the tool's folder
    /// (its first) as working directory and <c>KAIZEN_TOOL_PREFIX</c> set.</param>
    public static async Task<int> RunAsync(
        string? toolsDirectory, IReadOnlyList<string> arguments, Func<string, IReadOnlyList<string>, ProcessStartInfo> start, TextWriter output,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(output);
        if (arguments is not ["tool", "use", var name, var version, "--", var install])
        {
            await output.WriteLineAsync("tool: expected tool use NAME VERSION -- INSTALL").ConfigureAwait(false);
            return 2;
        }

        if (!ValidName(name) || !ValidName(version))
        {
            await output.WriteLineAsync($"tool: '{name}' '{version}' is not a valid tool name and version (letters, digits, '.', '_', '+', '-')").ConfigureAwait(false);
            return 2;
        }

        if (string.IsNullOrEmpty(toolsDirectory))
        {
            await output.WriteLineAsync("tool: KAIZEN_TOOLS_DIR is not set").ConfigureAwait(false);
            return 2;
        }

        var prefix = Path.Combine(toolsDirectory, name, version);
        var gate = Installing.GetOrAdd(prefix, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            await output.WriteLineAsync($"tool: another job is installing {name} {version}, waiting for it").ConfigureAwait(false);
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(prefix)!);
            await using var fileLock = await LockAsync(prefix + ".lock", name, version, output, cancellationToken).ConfigureAwait(false);
            if (File.Exists(Path.Combine(prefix, Marker)))
            {
                await output.WriteLineAsync($"tool: {name} {version} already installed, reusing it").ConfigureAwait(false);
                return 0;
            }

            // A folder without the marker is what an interrupted install left behind.
            Checkout.GitCheckout.DeleteWorkspace(prefix);
            Directory.CreateDirectory(prefix);
            await output.WriteLineAsync($"tool: installing {name} {version} into {prefix}").ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            var status = await RunInstallAsync(start(prefix, ["bash", "--noprofile", "--norc", "-c", "exec 2>&1 </dev/null; set -e; eval \"$1\"", "kaizen-tool", install]),
                output, cancellationToken).ConfigureAwait(false);
            if (status != 0)
            {
                Checkout.GitCheckout.DeleteWorkspace(prefix);
                await output.WriteLineAsync($"tool: installing {name} {version} failed with exit code {status}; removed the partial install").ConfigureAwait(false);
                return status;
            }

            await File.WriteAllTextAsync(Path.Combine(prefix, Marker), "", CancellationToken.None).ConfigureAwait(false);
            await output.WriteLineAsync($"tool: installed {name} {version} in {Elapsed(clock.Elapsed)}").ConfigureAwait(false);
            return 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await output.WriteLineAsync($"tool: cannot install {name} {version} into {prefix}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            gate.Release();
        }
    }

    private static bool ValidName(string value) =>
        value.Length > 0 && value[0] != '.' && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-');

    /// <summary>"40 ms" / "2.4 s", as the job's log has always said.</summary>
    private static string Elapsed(TimeSpan elapsed) => elapsed.TotalMilliseconds < 999.5
        ? string.Create(CultureInfo.InvariantCulture, $"{Math.Round(elapsed.TotalMilliseconds):0} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Round(elapsed.TotalSeconds, 1):0.0} s");

    /// <summary>The lock file beside the tool's folder, held for the install: other runners sharing the tools folder
    /// wait for it (an advisory lock, released when the file closes or the process dies).</summary>
    private static async Task<FileStream> LockAsync(string path, string name, string version, TextWriter output, CancellationToken cancellationToken)
    {
        var said = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(path))
            {
                if (!said)
                {
                    said = true;
                    await output.WriteLineAsync($"tool: another job is installing {name} {version}, waiting for it").ConfigureAwait(false);
                }

                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs the install, its output (stdout and stderr merged) going to the job's log as it comes; a canceled job
    /// ends it and everything it started.</summary>
    private static async Task<int> RunInstallAsync(ProcessStartInfo startInfo, TextWriter output, CancellationToken cancellationToken)
    {
        startInfo.RedirectStandardInput = false;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            await output.WriteLineAsync($"tool: could not start the install: {ex.Message}").ConfigureAwait(false);
            return 127;
        }

        _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
        await using var killing = cancellationToken.Register(() => _ = ProcessTree.KillGroupAsync(process));
        var buffer = new char[8192];
        int read;
        while ((read = await process.StandardOutput.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, read), CancellationToken.None).ConfigureAwait(false);
        }

        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return process.ExitCode;
    }
}
