using Kaizen.Portal.Audit;

namespace Kaizen.Portal.Api;

/// <summary>GET /api/v1/audit: who changed secrets, variables, users and settings, newest first; for admins.</summary>
public static class AuditEndpoints
{
    public const int DefaultLimit = 100;

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").RequireAuthorization().WithTags("Audit")
            .MapGet("/audit", async (AuditLog audit, CancellationToken ct, int limit = DefaultLimit) =>
                limit is < 1 or > AuditLog.MaxLimit
                    ? Results.Problem($"limit is from 1 to {AuditLog.MaxLimit} (default {DefaultLimit}).", statusCode: 400)
                    : Results.Ok(await audit.NewestAsync(limit, ct)))
            .RequireAdmin()
            .WithSummary("The audit log, newest first (limit: how many entries, default 100). It never holds a secret's value.");
        return app;
    }
}
