using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Debug;
using Kaizen.Portal.Delivery;

namespace Kaizen.Portal.Runners;

/// <summary>
/// What admins do to runners and pools: revoke a runner (its token stops working, its jobs and debug sessions end), and
/// set the runner labels of projects and servers. Each change is in the audit log.
/// </summary>
public sealed class RunnerAdmin(
    RunnerStore runners, RunnerLabelSettings labels, DebugSessionStore debugStore, DebugSessionService debugSessions,
    DeployService deploys, AuditLog audit, LiveUpdates live, ILogger<RunnerAdmin> logger)
{
    /// <summary>The audit log's action for a revoke.</summary>
    public const string RevokedAction = "runner.revoked";

    /// <summary>The audit log's action for a change of a project's or server's runner labels.</summary>
    public const string LabelsAction = "runner-labels.set";

    /// <summary>Revokes runner <paramref name="runnerId"/>; null when there is no such runner.</summary>
    public async Task<RevokedRunner?> RevokeAsync(long runnerId, ClaimsPrincipal admin, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var actor = admin.Identity?.Name ?? AuditLog.System;
        var revoked = await runners.RevokeAsync(runnerId, actor, ct);
        if (revoked is null) return null;
        await audit.RecordAsync(admin, RevokedAction, $"runner:{runnerId} ({revoked.Runner.Name})",
            revoked.FailedJobIds.Count == 0 ? null : $"failed jobs {string.Join(", ", revoked.FailedJobIds)}", ct);
        foreach (var session in (await debugStore.NotEndedAsync(ct)).Where(s => s.RunnerId == runnerId))
            await debugSessions.EndAsync(session, actor, "runner revoked", ct);
        foreach (var jobId in revoked.FailedJobIds) live.Publish(LiveUpdates.Keys.Job(jobId));
        foreach (var buildId in revoked.BuildIds)
        {
            live.Publish(LiveUpdates.Keys.Build(buildId));
            // A failed deploy job frees its server for the next deploy; the lease reaper's sweep retries if this fails.
            try
            {
                foreach (var jobId in revoked.FailedJobIds) await deploys.JobFinishedAsync(jobId, buildId, CancellationToken.None);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Delivery after revoking runner {RunnerId} failed", runnerId);
            }
        }
        live.Publish(LiveUpdates.Keys.Dashboard);
        return revoked;
    }

    public async Task<Outcome<ProjectRunnerLabels>> SetProjectLabelsAsync(long projectId, string projectSlug, IReadOnlyList<string>? required,
        IReadOnlyList<string>? forkPullRequests, ClaimsPrincipal admin, CancellationToken ct)
    {
        var (requiredText, requiredError) = RunnerPools.Normalize(required);
        var (forkText, forkError) = RunnerPools.Normalize(forkPullRequests);
        if ((requiredError ?? forkError) is { } error) return Outcome<ProjectRunnerLabels>.Fail(Problem.Invalid, error);
        await labels.SetProjectAsync(projectId, requiredText!, forkText!, ct);
        await audit.RecordAsync(admin, LabelsAction, $"{Secrets.VariableChanges.ProjectTarget(projectSlug)}/runner-labels", $"required [{requiredText}], fork pull requests [{forkText}]", ct);
        return Outcome<ProjectRunnerLabels>.Of(await labels.OfProjectAsync(projectId, ct));
    }

    public async Task<Outcome<ServerRunnerLabels>> SetServerLabelsAsync(ServerRow server, IReadOnlyList<string>? required, ClaimsPrincipal admin,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(server);
        var (requiredText, error) = RunnerPools.Normalize(required);
        if (error is not null) return Outcome<ServerRunnerLabels>.Fail(Problem.Invalid, error);
        await labels.SetServerAsync(server.Id, requiredText!, ct);
        await audit.RecordAsync(admin, LabelsAction, $"{DeployService.ServerTarget(server.ProjectSlug, server.Name)}/runner-labels", $"required [{requiredText}]", ct);
        return Outcome<ServerRunnerLabels>.Of(await labels.OfServerAsync(server.Id, ct));
    }
}
