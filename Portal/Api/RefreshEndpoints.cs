using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

/// <summary>New branches and commits found when the portal read the repository, and the builds started for them.</summary>
/// <param name="NotBuilt">Branches with a new head that the project's build filter does not build by themselves.</param>
public sealed record RefreshResponse(IReadOnlyList<string> NewBranches, IReadOnlyList<long> StartedBuilds, IReadOnlyList<string>? NotBuilt = null);

/// <summary><c>POST /api/v1/projects/{slug}/refresh</c>: read the project's repository now, as polling does on its schedule.</summary>
public static class RefreshEndpoints
{
    public static IEndpointRouteBuilder MapRefreshApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").RequireAuthorization(ApiEndpoints.WritePolicy).WithTags("Kaizen")
            .MapPost("/projects/{slug}/refresh", async (string slug, ProjectStore projects, RemotePoller poller, CancellationToken ct) =>
            {
                var project = await projects.FindBySlugAsync(slug, ct);
                if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
                var polled = await poller.PollAsync(project, ct);
                return polled.Ok
                    ? Results.Ok(new RefreshResponse(polled.Value!.NewBranches, polled.Value.StartedBuilds, polled.Value.Filtered))
                    : Results.Problem($"Could not read the repository: {polled.Message}", statusCode: 502);
            })
            .WithSummary("Read the project's repository now: store its branches and build each branch's new commit (as polling does).");
        return app;
    }
}
