using System.Security.Cryptography;
using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Badges;

/// <summary>
/// Build badges for README files: <c>/badges/{project}.svg</c> (the default branch) and
/// <c>/badges/{project}/{branch}.svg</c>. Public projects only, unless the URL carries the private project's badge
/// token (<c>?token=</c>); anything else is a 404, so a private project's existence is not confirmed.
/// </summary>
public static class BadgeEndpoints
{
    public static IEndpointRouteBuilder MapBadges(this IEndpointRouteBuilder app)
    {
        app.MapGet("/badges/{project}.svg", (string project, string? token, HttpContext http, ProjectStore projects, BuildStore builds,
                CancellationToken ct) => BadgeAsync(project, null, token, http, projects, builds, ct))
            .AllowAnonymous().WithTags("Badges").WithSummary("The default branch's build badge (SVG).");
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
        var svg = BadgeSvg.Render("build", message, color);

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
