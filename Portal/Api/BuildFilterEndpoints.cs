using System.Security.Claims;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

public sealed record BuildFilterRequest(string? Branches);

public sealed record BuildFilterResponse(string Branches, bool EveryBranch, string? ChangedBy, DateTimeOffset? ChangedAt)
{
    public static BuildFilterResponse From(BuildFilter filter) =>
        new(filter.Branches, filter.Branches.Length == 0, filter.ChangedBy, filter.ChangedAt);
}

/// <summary>A project's build filter: which branches build by themselves on a push or a new commit seen by polling.</summary>
public static class BuildFilterEndpoints
{
    public static IEndpointRouteBuilder MapBuildFilterApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Kaizen");
        api.MapGet("/projects/{slug}/build-filter", Get)
            .WithSummary("Which branches build by themselves on a push or polling: { branches: \"main, release/*\" | \"\" (every branch) }.");
        api.MapPut("/projects/{slug}/build-filter", Put).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Set which branches build by themselves ({ branches: \"main, release/*\" }; \"\" for every branch); audited. " +
                         "Pull requests and builds asked for by hand are not filtered.");
        return app;
    }

    private static async Task<IResult> Get(string slug, ProjectStore projects, BuildFilters filters, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: StatusCodes.Status404NotFound);
        return Results.Ok(BuildFilterResponse.From(await filters.GetAsync(project.Id, ct)));
    }

    private static async Task<IResult> Put(string slug, BuildFilterRequest? body, ProjectStore projects, BuildFilters filters,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: StatusCodes.Status404NotFound);
        if (body?.Branches is null)
            return Results.Problem("$.branches: expected a string of branch names and patterns, e.g. { \"branches\": \"main, release/*\" } (\"\" builds every branch).",
                statusCode: StatusCodes.Status400BadRequest);
        var set = await filters.SetAsync(project, body.Branches, user, ct);
        return set.Ok ? Results.Ok(BuildFilterResponse.From(set.Value!)) : set.ToProblemResult();
    }
}
