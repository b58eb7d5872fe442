using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Git;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Secrets;
using Kaizen.Portal.Storage;
using Kaizen.Runner.Checkout;

namespace Kaizen.Portal.Projects;

/// <summary>A project's name and repository as someone wants them; a null field stays as it is.</summary>
public sealed record ProjectIdentityChange(string? Name = null, string? GitUrl = null);

/// <summary>A checked change: the new name and repository (null: unchanged), and the repository's default branch.</summary>
public sealed record PreparedIdentityChange(string? Name, string? GitUrl, string? DefaultBranch)
{
    public bool Changes => Name is not null || GitUrl is not null;
}

/// <summary>
/// Renaming a project, pointing it at another repository and deleting it, the same from the API and the pages. Each is
/// audited. The slug (the project's address) never changes: links, badges, API scripts and webhooks keep working after a
/// rename.
/// </summary>
public sealed class ProjectLifecycle(ProjectStore projects, ProjectService service, ProjectRemoval removal, GitMirror git,
    RemotePoller poller, AuditLog audit, LiveUpdates live,
    [FromKeyedServices(BlobAreas.Artifacts)] IBlobStorage artifacts, [FromKeyedServices(BlobAreas.Caches)] IBlobStorage caches,
    ILogger<ProjectLifecycle> logger)
{
    /// <summary>Renames the project and/or points it at the repository at <see cref="ProjectIdentityChange.GitUrl"/>
    /// (checked as at creation: an address <paramref name="user"/> may use, where a repository answers). Nothing
    /// changes unless everything asked for is valid. The project as it is afterwards.</summary>
    public async Task<Outcome<ProjectRow>> ChangeAsync(ProjectRow project, ProjectIdentityChange change, ClaimsPrincipal user,
        CancellationToken ct = default)
    {
        var prepared = await PrepareAsync(project, change, user, ct);
        return prepared.Ok ? await ApplyAsync(project, prepared.Value!, user, ct) : Outcome<ProjectRow>.Fail(prepared.Problem!.Value, prepared.Message!);
    }

    /// <summary>Checks <paramref name="change"/> without changing anything: what <see cref="ApplyAsync"/> then does, or
    /// why it may not (the field named in the message).</summary>
    public async Task<Outcome<PreparedIdentityChange>> PrepareAsync(ProjectRow project, ProjectIdentityChange change, ClaimsPrincipal user,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(user);
        var name = change.Name?.Trim();
        if (name is not null && ProjectService.NameError(name) is { } nameError) return Outcome<PreparedIdentityChange>.Fail(Problem.Invalid, nameError);

        string? url = null, defaultBranch = null;
        // The address as it is shown (credentials masked) means "as it is": sending back what was read changes nothing.
        if (change.GitUrl is not null && change.GitUrl.Trim() != project.GitUrl && change.GitUrl.Trim() != GitUrlCredentials.Hide(project.GitUrl))
        {
            var checkedUrl = await service.CheckRepositoryAsync(change.GitUrl, user, ct);
            if (!checkedUrl.Ok) return Outcome<PreparedIdentityChange>.Fail(checkedUrl.Problem!.Value, checkedUrl.Message!);
            if (checkedUrl.Value.Url != project.GitUrl) (url, defaultBranch) = checkedUrl.Value;
        }
        return Outcome<PreparedIdentityChange>.Of(new PreparedIdentityChange(name == project.Name ? null : name, url, defaultBranch));
    }

    /// <summary>Makes a change <see cref="PrepareAsync"/> checked; the project as it is afterwards.</summary>
    public async Task<Outcome<ProjectRow>> ApplyAsync(ProjectRow project, PreparedIdentityChange change, ClaimsPrincipal user,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(change);
        var target = VariableChanges.ProjectTarget(project.Slug);
        if (change.Name is { } name)
        {
            await projects.RenameAsync(project.Id, name, ct);
            await audit.RecordAsync(user, AuditActions.ProjectRenamed, target, $"renamed from '{project.Name}' to '{name}'", ct);
        }
        if (change.GitUrl is { } url)
        {
            await MoveRepositoryAsync(project, url, change.DefaultBranch!, ct);
            await audit.RecordAsync(user, AuditActions.ProjectGitUrlChanged, target,
                $"git URL changed from {GitUrlCredentials.Hide(project.GitUrl)} to {GitUrlCredentials.Hide(url)}", ct);
        }
        if (change.Changes) live.Publish(LiveUpdates.Keys.Project(project.Id), LiveUpdates.Keys.Dashboard);
        var updated = await projects.FindBySlugAsync(project.Slug, ct);
        return updated is null
            ? Outcome<ProjectRow>.Fail(Problem.NotFound, $"No project '{project.Slug}'.")
            : Outcome<ProjectRow>.Of(updated);
    }

    private async Task MoveRepositoryAsync(ProjectRow project, string url, string defaultBranch, CancellationToken ct)
    {
        await projects.SetGitUrlAsync(project.Id, url, defaultBranch, ct);
        // The GitHub repository webhooks match follows the address when it was the one the old address named.
        if (project.GithubRepository is not null && GithubRepositoryName.FromUrl(project.GitUrl) is { } old
            && string.Equals(old, project.GithubRepository, StringComparison.OrdinalIgnoreCase))
            await projects.SetGithubRepositoryAsync(project.Id, GithubRepositoryName.FromUrl(url), ct);
        // Nothing of the old repository is kept: a fresh mirror, its branches, and a poller that compares with them
        // (not with the old repository's heads, which would make every branch look pushed).
        await git.RemoveAsync(project.Id, ct);
        poller.Forget(project.Id);
        var refreshed = await service.RefreshBranchesAsync(project.Id, url, ct);
        if (!refreshed.Ok)
            logger.LogWarning("The new repository of {Project} could not be mirrored yet: {Problem}", project.Slug, refreshed.Message);
    }

    /// <summary>
    /// Deletes the project with everything that is its own (builds, jobs, logs, test reports, artifacts and caches with
    /// their stored bytes, servers and deploys, variables and secrets, webhook deliveries, its git mirror), when
    /// <paramref name="confirmation"/> is its name or slug. Refused while one of its jobs runs: cancel the build first.
    /// The audit entry stays.
    /// </summary>
    public async Task<Outcome<RemovedProject>> DeleteAsync(ProjectRow project, string? confirmation, ClaimsPrincipal user,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(user);
        if (!Confirms(project, confirmation))
            return Outcome<RemovedProject>.Fail(Problem.Invalid, string.IsNullOrWhiteSpace(confirmation)
                ? $"confirm is required: deleting a project cannot be undone; send confirm={project.Slug} (its slug or its name) to delete it."
                : $"confirm '{ApiEndpoints.Truncated(confirmation.Trim())}' is neither the project's name nor its slug ('{project.Slug}'); nothing was deleted.");

        var (removed, runningBuild) = await removal.RemoveAsync(project.Id, ct);
        if (removed is null)
            return Outcome<RemovedProject>.Fail(Problem.Conflict,
                $"Build {runningBuild} of '{project.Name}' is running: cancel it (or wait until it ends), then delete the project.");

        await audit.RecordAsync(user, AuditActions.ProjectDeleted, VariableChanges.ProjectTarget(project.Slug),
            $"deleted '{project.Name}' ({GitUrlCredentials.Hide(project.GitUrl)}): {removed.Builds} builds, {removed.Jobs} jobs, " +
            $"{removed.Artifacts} artifacts, {removed.Caches} caches, {removed.Servers} servers", ct);
        // The rows are gone, so nothing points at these bytes any more; a failure leaves an orphan file, never a broken row.
        foreach (var key in removed.ArtifactKeys) await TryDeleteAsync(artifacts, key);
        foreach (var key in removed.CacheKeys) await TryDeleteAsync(caches, key);
        try
        {
            await git.RemoveAsync(project.Id, CancellationToken.None);
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "Could not remove the git mirror of the deleted project {Project}", project.Slug);
        }
        poller.Forget(project.Id);
        live.Publish(LiveUpdates.Keys.Project(project.Id), LiveUpdates.Keys.Dashboard);
        return Outcome<RemovedProject>.Of(removed);
    }

    /// <summary>Whether <paramref name="confirmation"/> names the project: its name or slug, exactly (spaces around aside).</summary>
    public static bool Confirms(ProjectRow project, string? confirmation)
    {
        ArgumentNullException.ThrowIfNull(project);
        var typed = confirmation?.Trim();
        return !string.IsNullOrEmpty(typed) && (typed == project.Name || typed == project.Slug);
    }

    private async Task TryDeleteAsync(IBlobStorage storage, string key)
    {
        try
        {
            await storage.DeleteAsync(key, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not delete the stored bytes {Key} of a deleted project", key);
        }
    }
}
