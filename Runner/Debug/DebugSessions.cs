using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.Logging;

namespace Kaizen.Runner.Debug;

/// <summary>
/// The runner's side of debug sessions: a claimed assignment with <see cref="JobAssignment.Debug"/> (run in the slot
/// that claimed it, which stays busy until the session ends) and the <see cref="AttachRequest"/>s of heartbeat
/// replies (no slot). Each opens the terminal WebSocket first, so the browser sees the set-up as it happens, and
/// ends with <c>ended</c> and why. Nothing is reported to the job.
/// </summary>
public sealed class DebugSessions(
    JobExecutor executor, KaizenFunctions functions, Func<long, TerminalConnection> connect, ILogger logger, TimeProvider? time = null)
{
    /// <summary>How long an attach request waits for a job that is still setting up.</summary>
    private const int AttachWaitMilliseconds = 20_000;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The runner's sshd, when it offers SSH into sessions (null: it does not).</summary>
    public SshServer? Ssh { get; init; }

    /// <summary>Sets the job up again, opens the shell, and cleans up when the session ends.</summary>
    public async Task RunAsync(JobAssignment job, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(job);
        var debug = job.Debug ?? throw new ArgumentException("Not a debug session.", nameof(job));
        await using var session = new TerminalSession(connect(debug.SessionId), debug.ExpiresAtUnixMs, _time)
        {
            Ssh = Ssh is null ? null : new SshAccess(Ssh, debug.SessionId, debug.SshKeys),
        };
        logger.LogInformation("Debug session {SessionId} of job {JobId} ({Job})", debug.SessionId, job.JobId, job.JobName);
        if (!await session.ConnectAsync(stopping).ConfigureAwait(false))
        {
            logger.LogWarning("Debug session {SessionId}: {Reason}", debug.SessionId, session.EndReason);
            return;
        }

        string? reason = null;
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(stopping, session.Ending);
        try
        {
            var result = await executor.DebugAsync(job, session, ending.Token).ConfigureAwait(false);
            if (result.Outcome == JobOutcome.Failed)
            {
                reason = $"the set-up failed: {result.Error}";
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Debug session {SessionId} failed inside the runner", debug.SessionId);
            reason = $"the runner failed: {ex.Message}";
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
        }

        if (stopping.IsCancellationRequested)
        {
            session.End("the runner stopped");
        }

        await session.CloseAsync(reason).ConfigureAwait(false);
        logger.LogInformation("Debug session {SessionId} ended: {Reason}", debug.SessionId, session.EndReason);
    }

    /// <summary>Opens a shell in the environment of a job running here, until the session or the job ends.</summary>
    public async Task AttachAsync(AttachRequest request, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(request);
        var attached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await using var session = new TerminalSession(connect(request.SessionId), request.ExpiresAtUnixMs, _time)
            {
                Ssh = Ssh is null ? null : new SshAccess(Ssh, request.SessionId, request.SshKeys),
            };
            if (!await session.ConnectAsync(stopping).ConfigureAwait(false))
            {
                logger.LogWarning("Debug session {SessionId}: {Reason}", request.SessionId, session.EndReason);
                return;
            }

            // A job that was just claimed may still be setting up (checkout, its sandbox): its shell takes attachments
            // once it is in the workspace, so wait a little for it rather than turning the person away.
            var point = executor.AttachPointOf(request.JobId);
            for (var waited = 0; point is null && executor.IsRunning(request.JobId) && waited < AttachWaitMilliseconds
                && !session.Ending.IsCancellationRequested; waited += 100)
            {
                await Task.Delay(100, stopping).ConfigureAwait(false);
                point = executor.AttachPointOf(request.JobId);
            }

            if (point is null || !point.TryAttach(attached.Task))
            {
                await session.CloseAsync(TerminalSession.JobNotRunning).ConfigureAwait(false);
                return;
            }

            logger.LogInformation("Debug session {SessionId} attached to job {JobId}", request.SessionId, request.JobId);
            string? reason = null;
            try
            {
                await DebugShell.AttachAsync(point, request, session, functions, stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Debug session {SessionId} failed inside the runner", request.SessionId);
                reason = $"the runner failed: {ex.Message}";
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                reason = "the runner stopped";
            }

            await session.CloseAsync(reason).ConfigureAwait(false);
            logger.LogInformation("Debug session {SessionId} ended: {Reason}", request.SessionId, session.EndReason);
        }
        finally
        {
            attached.TrySetResult();
        }
    }
}
