using System.Security.Claims;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

/// <summary>What changes on a project (each field is optional: only those sent change).</summary>
public sealed record ProjectOptionsRequest(bool? Public, string? GithubRepository, IReadOnlyList<string>? ForkSecrets,
    string? ForkPullRequestApproval = null, string? Name = null, string? GitUrl = null);

/// <summary>What deleting a project removed.</summary>
public sealed record DeletedProjectResponse(string Slug, string Name, int Builds, int Jobs, int Artifacts, int Caches, int Servers);

public sealed record WebhookSecretResponse(string Secret, string Url);

public sealed record BadgeTokenResponse(string Token, string Badge);

/// <summary>
/// A project's name, repository and open-source options, for admins: PATCH /api/v1/projects/{slug} (its name and git URL,
/// public or private, the GitHub
/// repository webhooks match, the secrets fork pull requests may have, which fork pull requests wait for approval), the
/// webhook secret and the badge token; DELETE /api/v1/projects/{slug}?confirm=... deletes it.
/// </summary>
public static class ProjectOptionsEndpoints
{
    public static IEndpointRouteBuilder MapProjectOptionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Kaizen");
        api.MapMethods("/projects/{slug}", ["PATCH"], Patch).RequireAdmin()
            .WithSummary("Change { name, gitUrl, public, githubRepository: \"owner/name\" | \"\", forkSecrets: [names], " +
                "forkPullRequestApproval: \"always\" | \"first-time\" | \"never\" } (only the fields sent; the slug stays).");
        api.MapDelete("/projects/{slug}", Delete).RequireAdmin()
            .WithSummary("Delete the project with its builds, logs, artifacts, caches, servers, deploys, variables and secrets; " +
                "?confirm= its name or slug. Refused (409) while one of its jobs runs.");
        api.MapPost("/projects/{slug}/webhook-secret", RotateWebhookSecret).RequireAdmin()
            .WithSummary("Replace the webhook secret (GitHub must then be given the new one).");
        api.MapPost("/projects/{slug}/badge-token", NewBadgeToken).RequireAdmin()
            .WithSummary("Make (or replace) the token that shows a private project's badges.");
        api.MapDelete("/projects/{slug}/badge-token", DeleteBadgeToken).RequireAdmin()
            .WithSummary("Remove the badge token: the private project's badges stop showing.");
        return app;
    }

    private static async Task<IResult> Patch(string slug, ProjectOptionsRequest? body, ProjectStore projects, ProjectOptions options,
        ProjectLifecycle lifecycle, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound(slug);
        if (body is null)
            return Invalid("Send a JSON body with any of: { \"name\": \"...\", \"gitUrl\": \"...\", \"public\": true, " +
                "\"githubRepository\": \"owner/name\", \"forkSecrets\": [\"NAME\"], \"forkPullRequestApproval\": \"always\" | \"first-time\" | \"never\" }.");
        // Everything sent is checked before anything changes: a bad git URL leaves the name and the options as they were.
        if (body.Name is not null && ProjectService.NameError(body.Name) is { } nameError) return FieldProblem("name", nameError);
        var identity = await lifecycle.PrepareAsync(project, new ProjectIdentityChange(body.Name, body.GitUrl), user, ct);
        if (!identity.Ok)
            return identity.Problem == Problem.Invalid ? FieldProblem("gitUrl", identity.Message!) : identity.ToProblemResult();
        var changed = await options.ChangeAsync(project,
            new ProjectOptionsChange(body.Public, body.GithubRepository, body.ForkSecrets, body.ForkPullRequestApproval), user, ct);
        if (!changed.Ok) return changed.ToProblemResult();
        if (identity.Value!.Changes)
        {
            changed = await lifecycle.ApplyAsync(project, identity.Value, user, ct);
            if (!changed.Ok) return changed.ToProblemResult();
        }
        var updated = changed.Value!;
        return Results.Ok(ProjectResponse.From(updated, await projects.BranchesAsync(updated.Id, ct)) with
        {
            BadgeToken = updated.BadgeToken,
            ForkSecrets = updated.ForkSecrets,
        });
    }

    private static async Task<IResult> Delete(string slug, string? confirm, ProjectStore projects, ProjectLifecycle lifecycle,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound(slug);
        var deleted = await lifecycle.DeleteAsync(project, confirm, user, ct);
        if (!deleted.Ok) return deleted.ToProblemResult();
        var removed = deleted.Value!;
        return Results.Ok(new DeletedProjectResponse(project.Slug, project.Name, removed.Builds, removed.Jobs, removed.Artifacts,
            removed.Caches, removed.Servers));
    }

    private static async Task<IResult> RotateWebhookSecret(string slug, HttpContext http, ProjectStore projects, ProjectOptions options,
        CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound(slug);
        var secret = await options.RotateWebhookSecretAsync(project, http.User, ct);
        return Results.Ok(new WebhookSecretResponse(secret, WebhookUrl(http.Request)));
    }

    private static async Task<IResult> NewBadgeToken(string slug, HttpContext http, ProjectStore projects, ProjectOptions options, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound(slug);
        var token = await options.MakeBadgeTokenAsync(project, http.User, ct);
        return Results.Ok(new BadgeTokenResponse(token, ProjectOptions.BadgeUrl(BaseUrl(http.Request), project, token)));
    }

    private static async Task<IResult> DeleteBadgeToken(string slug, HttpContext http, ProjectStore projects, ProjectOptions options, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound(slug);
        await options.RemoveBadgeTokenAsync(project, http.User, ct);
        return Results.NoContent();
    }

    private static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";

    /// <summary>Where GitHub sends deliveries for every project of this portal.</summary>
    public static string WebhookUrl(HttpRequest request) => ProjectOptions.WebhookUrl(BaseUrl(request));

    private static IResult NotFound(string slug) => Results.Problem($"No project '{slug}'.", statusCode: 404);

    /// <summary>A 400 that names the field, in the detail and in <c>errors</c>, as the settings endpoints answer.</summary>
    private static IResult FieldProblem(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] },
            detail: message.StartsWith(field, StringComparison.Ordinal) ? message : $"{field}: {message}");

    private static IResult Invalid(string message) => Results.Problem(message, statusCode: 400);
}
