using System.Security.Claims;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Secrets;

namespace Kaizen.Portal.Api;

/// <summary>What changes on a project (each field is optional: only those sent change).</summary>
public sealed record ProjectOptionsRequest(bool? Public, string? GithubRepository, IReadOnlyList<string>? ForkSecrets);

public sealed record WebhookSecretResponse(string Secret, string Url);

public sealed record BadgeTokenResponse(string Token, string Badge);

/// <summary>
/// A project's open-source options, for admins: PATCH /api/v1/projects/{slug} (public or private, the GitHub
/// repository webhooks match, the secrets fork pull requests may have), the webhook secret and the badge token.
/// </summary>
public static class ProjectOptionsEndpoints
{
    public static IEndpointRouteBuilder MapProjectOptionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Kaizen");
        api.MapMethods("/projects/{slug}", ["PATCH"], Patch).RequireAdmin()
            .WithSummary("Change { public, githubRepository: \"owner/name\" | \"\", forkSecrets: [names] } (only the fields sent).");
        api.MapPost("/projects/{slug}/webhook-secret", RotateWebhookSecret).RequireAdmin()
            .WithSummary("Replace the webhook secret (GitHub must then be given the new one).");
        api.MapPost("/projects/{slug}/badge-token", NewBadgeToken).RequireAdmin()
            .WithSummary("Make (or replace) the token that shows a private project's badges.");
        api.MapDelete("/projects/{slug}/badge-token", DeleteBadgeToken).RequireAdmin()
            .WithSummary("Remove the badge token: the private project's badges stop showing.");
        return app;
    }

    private static async Task<IResult> Patch(string slug, ProjectOptionsRequest? body, ProjectStore projects, AuditLog audit,
        LiveUpdates live, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound(slug);
        if (body is null)
            return Invalid("Send a JSON body with any of: { \"public\": true, \"githubRepository\": \"owner/name\", \"forkSecrets\": [\"NAME\"] }.");
        var repository = body.GithubRepository?.Trim();
        if (repository is { Length: > 0 } && !GithubRepositoryName.IsValid(repository))
            return Invalid($"'{repository}' is not a GitHub repository; write it as owner/name (e.g. octo-org/web).");
        var forkSecrets = body.ForkSecrets?.Select(n => n?.Trim() ?? "").ToList();
        if (forkSecrets?.FirstOrDefault(n => VariableRules.NameError(n) is not null) is { } bad)
            return Invalid($"'{bad}' cannot be a secret's name: {VariableRules.NameError(bad)}");

        var changes = new List<string>();
        if (body.Public is { } isPublic && isPublic != project.IsPublic)
        {
            await projects.SetPublicAsync(project.Id, isPublic, ct);
            changes.Add(isPublic ? "made public" : "made private");
        }
        if (repository is not null)
        {
            await projects.SetGithubRepositoryAsync(project.Id, repository.Length == 0 ? null : repository, ct);
            changes.Add(repository.Length == 0 ? "GitHub repository removed" : $"GitHub repository {repository}");
        }
        if (forkSecrets is not null)
        {
            var names = forkSecrets.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
            await projects.SetForkSecretsAsync(project.Id, names, ct);
            changes.Add(names.Count == 0 ? "fork pull requests get no secrets" : $"fork pull requests may get {string.Join(", ", names)}");
        }
        if (changes.Count > 0)
        {
            await audit.RecordAsync(user, AuditActions.ProjectChanged, VariableChanges.ProjectTarget(project.Slug), string.Join("; ", changes), ct);
            live.Publish(LiveUpdates.Keys.Project(project.Id), LiveUpdates.Keys.Dashboard);
        }
        var updated = (await projects.FindBySlugAsync(slug, ct))!;
        return Results.Ok(ProjectResponse.From(updated, await projects.BranchesAsync(updated.Id, ct)) with
        {
            BadgeToken = updated.BadgeToken,
            ForkSecrets = updated.ForkSecrets,
        });
    }

    private static async Task<IResult> RotateWebhookSecret(string slug, HttpContext http, ProjectStore projects, WebhookSecrets secrets,
        AuditLog audit, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound(slug);
        var secret = await secrets.RotateAsync(project.Id, ct);
        await audit.RecordAsync(http.User, AuditActions.WebhookSecretRotated, VariableChanges.ProjectTarget(project.Slug), null, ct);
        return Results.Ok(new WebhookSecretResponse(secret, WebhookUrl(http.Request)));
    }

    private static async Task<IResult> NewBadgeToken(string slug, HttpContext http, ProjectStore projects, AuditLog audit, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound(slug);
        var token = Tokens.New("kzb_");
        await projects.SetBadgeTokenAsync(project.Id, token, ct);
        await audit.RecordAsync(http.User, AuditActions.BadgeTokenChanged, VariableChanges.ProjectTarget(project.Slug), "made", ct);
        var request = http.Request;
        return Results.Ok(new BadgeTokenResponse(token, $"{request.Scheme}://{request.Host}{request.PathBase}/badges/{project.Slug}.svg?token={token}"));
    }

    private static async Task<IResult> DeleteBadgeToken(string slug, HttpContext http, ProjectStore projects, AuditLog audit, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound(slug);
        await projects.SetBadgeTokenAsync(project.Id, null, ct);
        await audit.RecordAsync(http.User, AuditActions.BadgeTokenChanged, VariableChanges.ProjectTarget(project.Slug), "removed", ct);
        return Results.NoContent();
    }

    /// <summary>Where GitHub sends deliveries for every project of this portal.</summary>
    public static string WebhookUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}/webhooks/github";

    private static IResult NotFound(string slug) => Results.Problem($"No project '{slug}'.", statusCode: 404);

    private static IResult Invalid(string message) => Results.Problem(message, statusCode: 400);
}
