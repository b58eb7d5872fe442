using System.Security.Cryptography;
using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;
using Kaizen.Portal.TestReports;

namespace Kaizen.Portal.Badges;

/// <summary>
/// Build badges for README files: <c>/badges/{project}.svg</c> (the default branch, or <c>?branch=</c>) and
/// <c>/badges/{project}/{branch}.svg</c>. Public projects only, unless the URL carries the private project's badge
/// token (<c>?token=</c>); anything else is a 404, so a private project's existence is not confirmed.
/// <c>/badges/{project}/coverage.svg</c> (<c>?branch=</c>, default: the default branch) shows the line coverage of the
/// branch's latest build with a coverage report, under the same rules.
/// </summary>
public static class BadgeEndpoints
{
    public static IEndpointRouteBuilder MapBadges(this IEndpointRouteBuilder app)
    {
        app.MapGet("/badges/{project}.svg", (string project, string? branch, string? token, HttpContext http, ProjectStore projects,
                BuildStore builds, CancellationToken ct) =>
                BadgeAsync(project, string.IsNullOrEmpty(branch) ? null : branch, token, http, projects, builds, ct))
            .AllowAnonymous().WithTags("Badges").WithSummary("A branch's build badge (SVG): ?branch=, default: the default branch.");
        // A literal segment wins over the catch-all below, so this is the coverage badge even for a branch named "coverage"
        // (whose build badge is then /badges/{project}.svg?branch=coverage).
        app.MapGet("/badges/{project}/coverage.svg", CoverageBadgeAsync)
            .AllowAnonymous().WithTags("Badges").WithSummary("The line coverage badge (SVG) of a branch (?branch=, default: the default branch).");
        app.MapGet("/badges/{project}/{**branch}", (string project, string branch, string? token, HttpContext http, ProjectStore projects,
                BuildStore builds, CancellationToken ct) =>
                branch.EndsWith(".svg", StringComparison.Ordinal) && branch.Length > 4
                    ? BadgeAsync(project, branch[..^4], token, http, projects, builds, ct)
                    : Task.FromResult(Results.NotFound()))
            .AllowAnonymous().WithTags("Badges").WithSummary("A branch's build badge (SVG); the branch may contain '/'.");
        return app;
    }

    /// <summary>What a build status reads as on a badge, and its colour.</summary>
    public static (string Message, string Color) Describe(string? status) => status switch
    {
        Status.Passed => ("passing", BadgeSvg.Passing),
        Status.Failed => ("failing", BadgeSvg.Failing),
        Status.Running or Status.Queued => ("running", BadgeSvg.Running),
        Status.Canceled => ("canceled", BadgeSvg.Unknown),
        _ => ("unknown", BadgeSvg.Unknown),
    };

    private static async Task<IResult> BadgeAsync(string slug, string? branch, string? token, HttpContext http, ProjectStore projects,
        BuildStore builds, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null || !(project.IsPublic || TokenMatches(project.BadgeToken, token)))
            return Results.NotFound();
        branch ??= project.DefaultBranch;
        var latest = (await builds.LatestPerBranchAsync(project.Id, ct)).FirstOrDefault(b => b.Branch == branch);
        var (message, color) = Describe(latest?.Status);
        return Svg(http, BadgeSvg.Render("build", message, color));
    }

    /// <summary>A coverage percentage's colour, as shields.io's coverage badges use them.</summary>
    public static string CoverageColor(double percent) => percent switch
    {
        >= 90 => BadgeSvg.Passing,
        >= 75 => "#a4a61d",
        >= 60 => BadgeSvg.Running,
        _ => BadgeSvg.Failing,
    };

    private static async Task<IResult> CoverageBadgeAsync(string project, string? branch, string? token, HttpContext http,
        ProjectStore projects, TestResultService results, CancellationToken ct)
    {
        var row = await projects.FindBySlugAsync(project, ct);
        if (row is null || !(row.IsPublic || TokenMatches(row.BadgeToken, token)))
            return Results.NotFound();
        var latest = (await results.CoverageTrendAsync(row.Id, string.IsNullOrEmpty(branch) ? row.DefaultBranch : branch, 1, ct))
            .LastOrDefault();
        var svg = latest is null
            ? BadgeSvg.Render("coverage", "unknown", BadgeSvg.Unknown)
            : BadgeSvg.Render("coverage", TestResultService.Percent(Math.Floor(latest.Percent * 10) / 10), CoverageColor(latest.Percent));
        return Svg(http, svg);
    }

    private static IResult Svg(HttpContext http, string svg)
    {
        // Image proxies and browsers revalidate every time (no-cache) and get a 304 while the status is unchanged.
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(svg)))[..20] + "\"";
        http.Response.Headers.CacheControl = "no-cache, max-age=0, must-revalidate";
        http.Response.Headers.ETag = etag;
        if (http.Request.Headers.IfNoneMatch.Contains(etag)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Text(svg, "image/svg+xml; charset=utf-8");
    }

    private static bool TokenMatches(string? expected, string? given) =>
        !string.IsNullOrEmpty(expected) && !string.IsNullOrEmpty(given) &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(given));
}
