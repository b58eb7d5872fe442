using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Runners;

/// <summary>A runner as the API shows it.</summary>
public sealed record RunnerResponse(
    long Id, string Name, int Slots, int SlotsInUse, IReadOnlyList<string> Labels, string Sandbox, IReadOnlyList<string> Executors,
    string Version, string? LastAddress, DateTimeOffset LastSeenAt, DateTimeOffset? RevokedAt, string? RevokedBy);

public sealed record RevokeResponse(RunnerResponse Runner, IReadOnlyList<long> FailedJobIds);

/// <summary>Labels to set; a field left out keeps its value.</summary>
public sealed record ProjectRunnerLabelsRequest(IReadOnlyList<string>? Required, IReadOnlyList<string>? ForkPullRequests);

public sealed record ServerRunnerLabelsRequest(IReadOnlyList<string>? Required);

/// <summary>Runners and pools for people: list runners, revoke one (admins), and the runner labels of projects and servers.</summary>
public static class RunnerAdminEndpoints
{
    public static IEndpointRouteBuilder MapRunnerAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Runners");
        api.MapGet("/runners", List).WithSummary("Runners with their labels, sandbox, last address and slots in use.");
        api.MapPost("/runners/{id:long}/revoke", Revoke).RequireAdmin()
            .WithSummary("Revoke a runner: its token is refused at once and its running jobs fail as \"runner revoked\".");
        api.MapDelete("/runners/{id:long}", Revoke).RequireAdmin().WithSummary("Same as POST /runners/{id}/revoke.");
        api.MapGet("/projects/{slug}/runner-labels", ProjectLabels)
            .WithSummary("The labels a runner needs for the project's jobs, and for its builds of fork pull requests.");
        api.MapPut("/projects/{slug}/runner-labels", SetProjectLabels).RequireAdmin()
            .WithSummary("Set { required: [labels], forkPullRequests: [labels] } (only the fields sent).");
        api.MapGet("/projects/{slug}/servers/{name}/runner-labels", ServerLabels)
            .WithSummary("The labels a runner needs for the server's deploys (guarded servers add 'protected').");
        api.MapPut("/projects/{slug}/servers/{name}/runner-labels", SetServerLabels).RequireAdmin()
            .WithSummary("Set { required: [labels] }.");
        return app;
    }

    private static async Task<IResult> List(RunnerStore runners, CancellationToken ct)
    {
        var inUse = await runners.SlotsInUseAsync(ct);
        return Results.Ok((await runners.ListAsync(ct)).Select(r => ToResponse(r, inUse.GetValueOrDefault(r.Id))).ToList());
    }

    private static async Task<IResult> Revoke(long id, RunnerAdmin admin, ClaimsPrincipal user, CancellationToken ct)
    {
        var revoked = await admin.RevokeAsync(id, user, ct);
        return revoked is null
            ? Results.Problem($"No runner {id}.", statusCode: 404)
            : Results.Ok(new RevokeResponse(ToResponse(revoked.Runner, 0), revoked.FailedJobIds));
    }

    private static async Task<IResult> ProjectLabels(string slug, ProjectStore projects, RunnerLabelSettings labels, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (!ProjectAccess.CanRead(user, project)) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        return Results.Ok(await labels.OfProjectAsync(project.Id, ct));
    }

    private static async Task<IResult> SetProjectLabels(string slug, ProjectRunnerLabelsRequest? body, ProjectStore projects,
        RunnerLabelSettings labels, RunnerAdmin admin, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        if (body is null) return Results.Problem("Send { \"required\": [\"label\"], \"forkPullRequests\": [\"label\"] }.", statusCode: 400);
        var current = await labels.OfProjectAsync(project.Id, ct);
        var set = await admin.SetProjectLabelsAsync(project.Id, project.Slug, body.Required ?? current.Required,
            body.ForkPullRequests ?? current.ForkPullRequests, user, ct);
        return set.Ok ? Results.Ok(set.Value) : set.ToProblemResult();
    }

    private static async Task<IResult> ServerLabels(string slug, string name, ProjectStore projects, DeployStore servers,
        RunnerLabelSettings labels, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        var server = ProjectAccess.CanRead(user, project) ? await servers.FindServerAsync(project.Id, name, ct) : null;
        if (server is null) return Results.Problem($"No server '{name}' in project '{slug}'.", statusCode: 404);
        return Results.Ok(await labels.OfServerAsync(server.Id, ct));
    }

    private static async Task<IResult> SetServerLabels(string slug, string name, ServerRunnerLabelsRequest? body, ProjectStore projects,
        DeployStore servers, RunnerAdmin admin, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        var server = project is null ? null : await servers.FindServerAsync(project.Id, name, ct);
        if (server is null) return Results.Problem($"No server '{name}' in project '{slug}'.", statusCode: 404);
        if (body is null) return Results.Problem("Send { \"required\": [\"label\"] }.", statusCode: 400);
        var set = await admin.SetServerLabelsAsync(server, body.Required ?? [], user, ct);
        return set.Ok ? Results.Ok(set.Value) : set.ToProblemResult();
    }

    internal static RunnerResponse ToResponse(RunnerRow r, int slotsInUse) => new(
        r.Id, r.Name, r.Slots, slotsInUse, RunnerPools.Parse(r.Labels), r.Sandbox,
        r.Executors.Split(',', StringSplitOptions.RemoveEmptyEntries), r.Version, r.LastAddress,
        DateTimeOffset.FromUnixTimeMilliseconds(r.LastSeenAt),
        r.RevokedAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null, r.RevokedBy);
}
