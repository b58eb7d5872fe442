using System.Text;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Debug;

/// <summary>
/// Opens the interactive shell of a session and relays it until the session ends: after a debug run's set-up
/// (<see cref="AfterSetupAsync"/>), or in a running job's environment (<see cref="AttachAsync"/>).
/// </summary>
public static class DebugShell
{
    /// <summary>
    /// The end of a debug run's set-up: says what failed (the shell opens anyway), carries the set-up shell's state over
    /// when setup ran, writes the commands file, then opens the shell in the workspace and relays it until the session
    /// ends. The job's cleanup follows in the caller, as after a run.
    /// </summary>
    public static async Task<JobResult> AfterSetupAsync(
        JobAssignment job, TerminalJobOutput output, IShellSession? setupShell, IExecutor executor, KaizenFunctions functions,
        string workspace, IReadOnlyDictionary<string, string> environment, string? setupError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(output);
        var debug = job.Debug ?? throw new ArgumentException("Not a debug session.", nameof(job));
        var session = output.Session;
        if (executor is not ITerminalHost host)
        {
            var error = $"The {executor.Name} executor cannot open a terminal.";
            output.Line($"[kaizen] {error}");
            return new JobResult(JobOutcome.Failed, error);
        }

        if (setupError is not null)
        {
            output.Line($"\x1b[33m[kaizen] {setupError} The shell opens anyway.\x1b[0m");
        }

        string? state = null;
        if (debug.RunSetup && setupShell is { IsAlive: true })
        {
            var captured = new MemoryStream();
            var result = await setupShell.RunAsync(DebugFiles.CaptureStateCommand, data =>
            {
                captured.Write(data.Span);
                return ValueTask.CompletedTask;
            }, cancellationToken).ConfigureAwait(false);
            state = result.ExitCode == 0 ? Encoding.UTF8.GetString(captured.ToArray()) : null;
        }

        DebugFiles.WriteCommands(job, workspace, debug.RunSetup);
        var banner = DebugFiles.DebugBanner(job, debug.RunSetup);
        await OpenAsync(session, host, functions, $"debug-{debug.SessionId}", workspace, environment, banner, state, cancellationToken)
            .ConfigureAwait(false);
        return new JobResult(JobOutcome.Passed);
    }

    /// <summary>A shell in a running job's environment, until the session or the job ends.</summary>
    public static async Task AttachAsync(AttachPoint point, AttachRequest request, TerminalSession session, KaizenFunctions functions,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(request);
        using var jobEnded = point.JobEnded.Register(() => session.End(TerminalSession.JobFinished));
        using var jobCanceling = point.JobCanceling.Register(() => session.End(TerminalSession.JobFinished));
        var banner = DebugFiles.AttachBanner(point.Job, session.ExpiresAtUnixMs);
        await OpenAsync(session, point.Host, functions, $"attach-{request.SessionId}", point.Workspace, point.Environment, banner, null,
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task OpenAsync(
        TerminalSession session, ITerminalHost host, KaizenFunctions functions, string tag, string workspace,
        IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> banner, string? state, CancellationToken cancellationToken)
    {
        var rc = DebugFiles.WriteRc(functions, tag, workspace, banner, state, readableByAll: host is not ShellExecutor, host.RcDirectory);
        try
        {
            if (session.Ending.IsCancellationRequested)
            {
                return;
            }

            var terminal = await host.StartTerminalAsync(workspace, environment, rc, session.Size, tag, cancellationToken).ConfigureAwait(false);
            await using (terminal.ConfigureAwait(false))
            {
                // Disposed after the relay: the keys stop working and the SSH shells die with the session, before the rc goes.
                var ssh = session.Ssh is { } access
                    ? await access.OpenAsync(host, workspace, environment, rc, tag, cancellationToken).ConfigureAwait(false)
                    : null;
                await using (ssh)
                {
                    session.SshCommand = ssh?.Command;
                    await session.RelayAsync(terminal, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            File.Delete(rc);
        }
    }
}
