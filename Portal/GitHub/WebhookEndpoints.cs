using Kaizen.Portal.Api;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.GitHub;

public sealed record WebhookDeliveryResponse(
    string? DeliveryId, string Event, string? Action, DateTimeOffset ReceivedAt, int StatusCode, string Outcome);

/// <summary>POST /webhooks/github (GitHub signs every delivery) and, for admins, each project's recent deliveries.</summary>
public static class WebhookEndpoints
{
    public static IEndpointRouteBuilder MapGithubWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhooks/github", ReceiveAsync).AllowAnonymous().DisableAntiforgery().WithTags("Webhooks")
            .WithSummary("GitHub webhook deliveries (push, pull_request, create, delete, ping), signed with the project's secret.");
        app.MapGet("/api/v1/projects/{slug}/webhook-deliveries", async (string slug, ProjectStore projects, WebhookDeliveries deliveries,
                CancellationToken ct, int limit = 50) =>
            {
                var project = await projects.FindBySlugAsync(slug, ct);
                if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
                return Results.Ok((await deliveries.NewestAsync(project.Id, limit, ct)).Select(d => new WebhookDeliveryResponse(
                    d.DeliveryId, d.Event, d.Action, DateTimeOffset.FromUnixTimeMilliseconds(d.ReceivedAt), d.StatusCode, d.Outcome)));
            })
            .RequireAuthorization().RequireAdmin().WithTags("Webhooks").WithSummary("The project's newest webhook deliveries and what came of each.");
        return app;
    }

    private static async Task<IResult> ReceiveAsync(HttpContext http, GithubWebhook webhook, CancellationToken ct)
    {
        var request = http.Request;
        var result = await webhook.HandleAsync(request.Headers["X-GitHub-Event"], request.Headers["X-GitHub-Delivery"],
            request.Headers["X-Hub-Signature-256"], request.ContentLength, request.Body, ct);
        return result.StatusCode < 300
            ? Results.Json(new { message = result.Message }, statusCode: result.StatusCode)
            : Results.Problem(result.Message, statusCode: result.StatusCode);
    }
}
