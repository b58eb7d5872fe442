using System.Security.Claims;
using Kaizen.Portal.Insights;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

/// <summary>
/// Timing insights: GET /api/v1/projects/{slug}/insights and GET /api/v1/insights. Open like a project's builds: anyone
/// reads a public project's, signed-in people every project's, a private project is a 404 to others. Time to
/// production comes from deploys, which only signed-in people see, so it is null for visitors.
/// </summary>
public static class InsightsEndpoints
{
    /// <summary>What the figures mean, shown in the OpenAPI document.</summary>
    public const string Definitions =
        "Window: the last `days` UTC days including today (1 to 365, default 30), from the start of the oldest day to now; " +
        "a build belongs to the day (UTC) it was requested, a deploy to the day it finished; a branch lists only its days " +
        "with builds. " +
        "Build duration: from the build's start (its first job claimed by a runner) to its end, for passed and failed builds; " +
        "canceled builds are excluded. Queue time: from the build's request to the first of its own jobs starting (claimed " +
        "by a runner). Pass rate: passed / (passed + failed), canceled builds excluded, a fraction from 0 to 1. " +
        "Percentiles (median, p90) interpolate linearly between the closest ranks; durations are whole milliseconds, null " +
        "when there is nothing to measure. Slowest commands: finished commands of the newest `builds` builds of the window " +
        "(1 to 1000, default 100), grouped by job, phase and command text, slowest median first (top 20); the trend compares " +
        "the median over the older half of those builds with the newer half; a shared script counts as one command (its " +
        "section). A command its job no longer has (on every branch where it ran, a newer build of the job ran without it: " +
        "edited or removed) is listed apart in `retiredCommands`; rows a team hid (POST .../insights/hidden) are left out and " +
        "listed in `hiddenCommands`. Slowest scripts: the sections of `run-script NAME[@VERSION] ...` grouped by NAME, each with its slowest " +
        "steps (the script's top-level commands). Time to production: each passed deploy to the production server " +
        "(`server`, else the server named production, else prod, case-insensitive), from the deployed build's request to " +
        "the deploy's end, against a five-minute target; null for callers who are not signed in.";

    public static IEndpointRouteBuilder MapInsightsApi(this IEndpointRouteBuilder app)
    {
        var open = app.MapOpenReads("Insights");
        open.MapGet("/projects/{slug}/insights", ProjectInsights)
            .WithSummary("A project's build duration, queue time and pass rate per branch and day, slowest commands and scripts, " +
                         "and time to production (?days=30&builds=100&server=).")
            .WithDescription(Definitions)
            .Produces<ProjectInsights>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        open.MapGet("/insights", Overview)
            .WithSummary("Every project the caller may read side by side: builds, median and p90 duration, pass rate, queue time and time to production (?days=30).")
            .WithDescription(Definitions)
            .Produces<InsightsOverview>()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        var write = app.MapGroup("/api/v1").RequireAuthorization(ApiEndpoints.WritePolicy).WithTags("Insights");
        write.MapPost("/projects/{slug}/insights/hidden", Hide)
            .WithSummary("Hide a row of the slowest commands ({ job, phase, command } as the insights list it); audited. " +
                         "Hiding leaves the figures stored; DELETE with the same body lists the row again.")
            .Produces<HiddenCommand>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        write.MapDelete("/projects/{slug}/insights/hidden", Show)
            .WithSummary("List a hidden row of the slowest commands again ({ job, phase, command }); audited.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<IResult> Hide(string slug, CommandKey? row, ProjectStore projects, HiddenCommands hidden,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: StatusCodes.Status404NotFound);
        var result = await hidden.HideAsync(project, row, user, ct);
        return result.Ok ? Results.Ok(result.Value) : result.ToProblemResult();
    }

    private static async Task<IResult> Show(string slug, [Microsoft.AspNetCore.Mvc.FromBody] CommandKey? row, ProjectStore projects,
        HiddenCommands hidden, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: StatusCodes.Status404NotFound);
        var result = await hidden.ShowAsync(project, row, user, ct);
        return result.Ok ? Results.NoContent() : result.ToProblemResult();
    }

    private static async Task<IResult> ProjectInsights(string slug, string? days, string? builds, string? server, ProjectStore projects,
        InsightsService insights, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (!ProjectAccess.CanRead(user, project)) return Results.Problem($"No project '{slug}'.", statusCode: StatusCodes.Status404NotFound);
        var query = InsightsService.Parse(days, builds, server);
        if (!query.Ok) return query.ToProblemResult();
        var result = await insights.ProjectAsync(project, query.Value!, ProjectAccess.IsSignedIn(user), ct);
        return result.Ok ? Results.Ok(result.Value) : result.ToProblemResult();
    }

    private static async Task<IResult> Overview(string? days, ProjectStore projects, InsightsService insights, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var query = InsightsService.Parse(days, null, null);
        if (!query.Ok) return query.ToProblemResult();
        var readable = (await projects.ListAsync(ct)).Where(p => ProjectAccess.CanRead(user, p)).ToList();
        return Results.Ok(await insights.OverviewAsync(readable, query.Value!.Days, ProjectAccess.IsSignedIn(user), ct));
    }

}
