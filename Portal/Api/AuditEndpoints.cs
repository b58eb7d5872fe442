using Kaizen.Portal.Audit;

namespace Kaizen.Portal.Api;

/// <summary>
/// GET /api/v1/audit: who changed secrets, variables, users and settings, newest first; for admins. Filtered like the
/// audit page (actor, project, action, from, to) and paged: the next page is <c>before=</c> the last entry's id, which
/// the <c>X-Next-Before</c> header gives while there is one.
/// </summary>
public static class AuditEndpoints
{
    public const int DefaultLimit = 100;

    public const string NextBeforeHeader = "X-Next-Before";

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").RequireAuthorization().WithTags("Audit")
            .MapGet("/audit", ReadAsync)
            .RequireAdmin()
            .WithSummary("The audit log, newest first. limit: how many entries (1 to 1000, default 100); actor: a user name; " +
                         "project: a project's slug (its own entries and its parts'); action: like secret.created, or a subject " +
                         "like secret; from, to: a date (2026-12-01, whole days, UTC) or an ISO 8601 time; before: an entry id " +
                         "(the next page, given in the X-Next-Before header). It never holds a secret's value.");
        return app;
    }

    private static async Task<IResult> ReadAsync(HttpContext http, AuditLog audit, CancellationToken ct, string? actor = null,
        string? project = null, string? action = null, string? from = null, string? to = null, string? before = null, string? limit = null)
    {
        var count = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, out count) || count is < 1 or > AuditLog.MaxLimit))
            return Bad("limit", $"limit is from 1 to {AuditLog.MaxLimit} (default {DefaultLimit}).");
        long? beforeId = null;
        if (!string.IsNullOrWhiteSpace(before))
        {
            if (!long.TryParse(before, out var id) || id < 1) return Bad("before", "before is the id of an audit entry (a whole number from 1).");
            beforeId = id;
        }
        var parsed = AuditFilter.Parse(actor, project, action, from, to);
        if (!parsed.Ok) return Bad(parsed.Parameter!, parsed.Error!);

        var page = await audit.QueryAsync(parsed.Filter!, beforeId, count, ct);
        if (page.NextBefore is { } next) http.Response.Headers[NextBeforeHeader] = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Ok(page.Entries);
    }

    private static IResult Bad(string parameter, string detail) =>
        Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: $"Bad query parameter '{parameter}'",
            extensions: new Dictionary<string, object?> { ["parameter"] = parameter });
}
