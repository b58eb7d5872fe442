using System.Text.Json.Serialization;
using Kaizen.Portal.Auth;

namespace Kaizen.Portal.Hosting;

/// <summary>The body of <c>GET /healthz</c>.</summary>
/// <param name="Status"><c>ok</c>, <c>degraded</c> (answered 200: reads work, writes may fail with 507) or
/// <c>unavailable</c> (answered 503: the database does not open).</param>
/// <param name="Reasons">Why it is not ok, one sentence each; empty when ok.</param>
public sealed record HealthResponse(
    string Status,
    IReadOnlyList<string> Reasons,
    long? DataFreeMegabytes,
    long MinFreeMegabytes,
    bool DatabaseWritable,
    DateTimeOffset CheckedAt)
{
    [JsonIgnore]
    public int HttpStatus => Status == StorageStatus.Unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;

    public static HealthResponse From(StorageStatus s) =>
        new(s.Status, s.Reasons, s.DataFreeMegabytes, s.MinFreeMegabytes, s.DatabaseWritable, s.CheckedAt);
}

public static class HealthEndpoints
{
    public static IServiceCollection AddKaizenHealth(this IServiceCollection services)
    {
        services.AddSingleton<StorageHealth>();
        services.AddHostedService<StorageMonitor>();
        services.AddSingleton<TokenUsage>();
        services.AddHostedService(sp => sp.GetRequiredService<TokenUsage>());
        return services;
    }

    /// <summary>
    /// <c>GET /healthz</c>: 200 with <c>{"status":"ok"}</c> when the database opens and takes writes and the data folder's
    /// disk has at least Kaizen:Health:MinFreeMegabytes free; 200 with <c>"degraded"</c> and the reasons otherwise (the
    /// portal still serves reads, so a load balancer keeps it); 503 <c>"unavailable"</c> when the database does not open.
    /// </summary>
    public static void MapHealth(this WebApplication app) =>
        app.MapGet("/healthz", async (StorageHealth health, CancellationToken ct) =>
        {
            var response = HealthResponse.From(await health.CheckAsync(ct));
            return Results.Json(response, statusCode: response.HttpStatus);
        }).AllowAnonymous().WithSummary("The portal's health: ok, degraded (with reasons) or unavailable (503).");
}
