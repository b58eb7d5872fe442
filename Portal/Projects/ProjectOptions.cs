using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Secrets;

namespace Kaizen.Portal.Projects;

/// <summary>What changes on a project's open-source options; a null field stays as it is. An empty repository removes it.</summary>
public sealed record ProjectOptionsChange(bool? Public = null, string? GithubRepository = null, IReadOnlyList<string>? ForkSecrets = null,
    string? ForkApproval = null);

/// <summary>
/// A project's open-source options, for admins, the same from the API and the pages: public or private, the GitHub
/// repository webhooks are matched by, the secrets fork pull requests may have, which fork pull requests wait for
/// approval, the webhook secret and the badge token. Every change is audited and tells open pages.
/// </summary>
public sealed class ProjectOptions(ProjectStore projects, WebhookSecrets secrets, AuditLog audit, LiveUpdates live)
{
    /// <summary>Applies <paramref name="change"/>; the project as it is afterwards, or why nothing changed.</summary>
    public async Task<Outcome<ProjectRow>> ChangeAsync(ProjectRow project, ProjectOptionsChange change, ClaimsPrincipal user,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(change);
        var repository = change.GithubRepository?.Trim();
        if (RepositoryError(repository) is { } repositoryError) return Outcome<ProjectRow>.Fail(Problem.Invalid, repositoryError);
        var forkSecrets = change.ForkSecrets?.Select(n => n?.Trim() ?? "").ToList();
        if (forkSecrets?.FirstOrDefault(n => VariableRules.NameError(n) is not null) is { } bad)
            return Outcome<ProjectRow>.Fail(Problem.Invalid, $"'{bad}' cannot be a secret's name: {VariableRules.NameError(bad)}");
        var forkApproval = change.ForkApproval?.Trim().ToLowerInvariant();
        if (Projects.ForkApproval.Error(forkApproval) is { } approvalError) return Outcome<ProjectRow>.Fail(Problem.Invalid, approvalError);

        var changes = new List<string>();
        if (change.Public is { } isPublic && isPublic != project.IsPublic)
        {
            await projects.SetPublicAsync(project.Id, isPublic, ct);
            changes.Add(isPublic ? "made public" : "made private");
        }
        if (repository is not null && repository != (project.GithubRepository ?? ""))
        {
            await projects.SetGithubRepositoryAsync(project.Id, repository.Length == 0 ? null : repository, ct);
            changes.Add(repository.Length == 0 ? "GitHub repository removed" : $"GitHub repository {repository}");
        }
        if (forkSecrets is not null)
        {
            var names = forkSecrets.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
            if (!names.SequenceEqual(project.ForkSecrets))
            {
                await projects.SetForkSecretsAsync(project.Id, names, ct);
                changes.Add(names.Count == 0 ? "fork pull requests get no secrets" : $"fork pull requests may get {string.Join(", ", names)}");
            }
        }
        if (forkApproval is not null && forkApproval != project.ForkApproval)
        {
            await projects.SetForkApprovalAsync(project.Id, forkApproval, ct);
            changes.Add($"fork pull request approval: {forkApproval}");
        }
        if (changes.Count > 0)
        {
            await audit.RecordAsync(user, AuditActions.ProjectChanged, VariableChanges.ProjectTarget(project.Slug), string.Join("; ", changes), ct);
            live.Publish(LiveUpdates.Keys.Project(project.Id), LiveUpdates.Keys.Dashboard);
        }
        var updated = await projects.FindBySlugAsync(project.Slug, ct);
        return updated is null
            ? Outcome<ProjectRow>.Fail(Problem.NotFound, $"No project '{project.Slug}'.")
            : Outcome<ProjectRow>.Of(updated);
    }

    /// <summary>Why <paramref name="repository"/> cannot be a project's GitHub repository, or null when it can
    /// (an empty one removes it).</summary>
    public static string? RepositoryError(string? repository)
    {
        var trimmed = repository?.Trim();
        return trimmed is { Length: > 0 } && !GithubRepositoryName.IsValid(trimmed)
            ? $"'{trimmed}' is not a GitHub repository; write it as owner/name (e.g. octo-org/web)."
            : null;
    }

    /// <summary>The project's webhook secret, made now if it has none; null when the stored one cannot be read any more.</summary>
    public Task<string?> WebhookSecretAsync(ProjectRow project, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        return secrets.GetOrCreateAsync(project.Id, ct);
    }

    /// <summary>Replaces the webhook secret; GitHub must then be given the new one.</summary>
    public async Task<string> RotateWebhookSecretAsync(ProjectRow project, ClaimsPrincipal user, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        var secret = await secrets.RotateAsync(project.Id, ct);
        await audit.RecordAsync(user, AuditActions.WebhookSecretRotated, VariableChanges.ProjectTarget(project.Slug), null, ct);
        return secret;
    }

    /// <summary>Makes (or replaces) the token that shows a private project's badges; returns it.</summary>
    public async Task<string> MakeBadgeTokenAsync(ProjectRow project, ClaimsPrincipal user, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        var token = Tokens.New("kzb_");
        await projects.SetBadgeTokenAsync(project.Id, token, ct);
        await audit.RecordAsync(user, AuditActions.BadgeTokenChanged, VariableChanges.ProjectTarget(project.Slug), "made", ct);
        live.Publish(LiveUpdates.Keys.Project(project.Id));
        return token;
    }

    /// <summary>Removes the badge token: the private project's badges stop showing.</summary>
    public async Task RemoveBadgeTokenAsync(ProjectRow project, ClaimsPrincipal user, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        await projects.SetBadgeTokenAsync(project.Id, null, ct);
        await audit.RecordAsync(user, AuditActions.BadgeTokenChanged, VariableChanges.ProjectTarget(project.Slug), "removed", ct);
        live.Publish(LiveUpdates.Keys.Project(project.Id));
    }

    /// <summary>Where GitHub sends deliveries for every project of this portal, under <paramref name="baseUrl"/>.</summary>
    public static string WebhookUrl(string baseUrl) => $"{baseUrl.TrimEnd('/')}/webhooks/github";

    /// <summary>The default branch's badge of <paramref name="project"/> under <paramref name="baseUrl"/>, with its
    /// token when the project is private and has one.</summary>
    public static string BadgeUrl(string baseUrl, ProjectRow project, string? token = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        var url = $"{baseUrl.TrimEnd('/')}/badges/{Uri.EscapeDataString(project.Slug)}.svg";
        token ??= project.IsPublic ? null : project.BadgeToken;
        return token is null ? url : $"{url}?token={Uri.EscapeDataString(token)}";
    }
}
