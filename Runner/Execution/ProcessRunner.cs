using System.ComponentModel;
using System.Diagnostics;

namespace Kaizen.Runner.Execution;

/// <summary>What to run: a program, its arguments, and optionally a working directory and environment changes.</summary>
/// <param name="Environment">Merged over the runner's environment; a null value removes the variable.</param>
public sealed record ProcessRequest(
    string FileName,
    IReadOnlyList<string> Arguments,
    string? WorkingDirectory = null,
    IReadOnlyDictionary<string, string?>? Environment = null);

/// <summary>How a process ended. <see cref="StartError"/> is set (and <see cref="ExitCode"/> is -1) when it could not start.</summary>
public sealed record ProcessResult(int ExitCode, TimeSpan Duration, string? StartError = null)
{
    public bool Succeeded => StartError is null && ExitCode == 0;
}

/// <summary>
/// The one way the runner invokes a helper program (git, tar, ...): stdin closed, stdout and stderr read
/// concurrently, cancellation kills the whole process group, and the result is returned rather than thrown.
/// </summary>
public static class ProcessRunner
{
    private const int BufferSize = 16 * 1024;

    /// <summary>
    /// Runs <paramref name="request"/> to completion. Output callbacks receive slices of a reused buffer (copy what you
    /// keep); they are never called concurrently. Throws only <see cref="OperationCanceledException"/>, after the
    /// process group is gone.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(
        ProcessRequest request,
        Func<ReadOnlyMemory<byte>, ValueTask>? onStdout,
        Func<ReadOnlyMemory<byte>, ValueTask>? onStderr,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();

        var startInfo = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        ProcessTree.UseNewProcessGroup(startInfo, request.FileName, request.Arguments);
        if (request.WorkingDirectory is not null)
        {
            startInfo.WorkingDirectory = request.WorkingDirectory;
        }

        if (request.Environment is not null)
        {
            foreach (var (name, value) in request.Environment)
            {
                if (value is null)
                {
                    startInfo.Environment.Remove(name);
                }
                else
                {
                    startInfo.Environment[name] = value;
                }
            }
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is Win32Exception or IOException or UnauthorizedAccessException)
        {
            return new ProcessResult(-1, stopwatch.Elapsed, $"Could not start {request.FileName}: {ex.Message}");
        }

        process.StandardInput.Close();

        // Both pipes share one gate so callbacks see whole reads, one at a time.
        using var gate = new SemaphoreSlim(1, 1);
        var stdout = PumpAsync(process.StandardOutput.BaseStream, onStdout, gate);
        var stderr = PumpAsync(process.StandardError.BaseStream, onStderr, gate);

        Task? kill = null;
        await using (cancellationToken.Register(() => kill = ProcessTree.KillGroupAsync(process)).ConfigureAwait(false))
        {
            try
            {
                await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch when (kill is null)
            {
                // A callback failed: do not leave the process running behind us.
                await ProcessTree.KillGroupAsync(process).ConfigureAwait(false);
                throw;
            }
        }

        if (kill is not null)
        {
            await kill.ConfigureAwait(false);
            throw new OperationCanceledException(cancellationToken);
        }

        return new ProcessResult(process.ExitCode, stopwatch.Elapsed);
    }

    /// <summary>Runs a process and returns its stdout and stderr as text (for short outputs such as <c>git rev-parse</c>).</summary>
    public static async Task<(ProcessResult Result, string Stdout, string Stderr)> CaptureAsync(
        ProcessRequest request, CancellationToken cancellationToken)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var result = await RunAsync(
            request,
            data => { stdout.Write(data.Span); return ValueTask.CompletedTask; },
            data => { stderr.Write(data.Span); return ValueTask.CompletedTask; },
            cancellationToken).ConfigureAwait(false);
        return (result, System.Text.Encoding.UTF8.GetString(stdout.ToArray()), System.Text.Encoding.UTF8.GetString(stderr.ToArray()));
    }

    private static async Task PumpAsync(Stream stream, Func<ReadOnlyMemory<byte>, ValueTask>? onData, SemaphoreSlim gate)
    {
        var buffer = new byte[BufferSize];
        int read;
        while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (onData is null)
            {
                continue;
            }

            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                await onData(buffer.AsMemory(0, read)).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
    }
}
