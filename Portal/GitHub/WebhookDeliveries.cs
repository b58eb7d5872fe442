using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.GitHub;

public sealed class WebhookDeliveryRow
{
    public long Id { get; init; }
    public long? ProjectId { get; init; }
    public string? DeliveryId { get; init; }
    public string Event { get; init; } = "";
    public string? Action { get; init; }
    public long ReceivedAt { get; init; }
    public int StatusCode { get; init; }
    public string Outcome { get; init; } = "";
}

/// <summary>What came of each webhook delivery, newest first per project; only the newest few hundred are kept. And which
/// delivery ids each project has acted on, for <see cref="ReplayWindow"/>, so that one delivery acts once.</summary>
public sealed class WebhookDeliveries(Database db, TimeProvider time)
{
    public const int Kept = 200;

    /// <summary>How long a delivery id is remembered. GitHub redelivers on request for a few days; a captured delivery
    /// replayed later than this would act again, so the window is generous.</summary>
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromDays(30);

    /// <summary>Records that <paramref name="projectId"/> acts on <paramref name="deliveryId"/> now; false when it already
    /// did within <see cref="ReplayWindow"/> (two copies arriving at once: exactly one gets true).</summary>
    public async Task<bool> ClaimAsync(long projectId, string deliveryId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deliveryId);
        var now = time.GetUtcNow();
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(WebhookSql.ForgetIdsBefore, new { Before = (now - ReplayWindow).ToUnixTimeMilliseconds() });
        return await c.ExecuteAsync(db.Sql(WebhookSql.ClaimId),
            new { ProjectId = projectId, DeliveryId = Clip(deliveryId, 100), At = now.ToUnixTimeMilliseconds() }) == 1;
    }

    /// <summary>Forgets a claimed delivery id, so a redelivery of a delivery that failed on the portal's side may act.</summary>
    public async Task ReleaseAsync(long projectId, string deliveryId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(WebhookSql.ReleaseId, new { ProjectId = projectId, DeliveryId = Clip(deliveryId, 100) });
    }

    public async Task RecordAsync(long? projectId, string? deliveryId, string @event, string? action, int statusCode, string outcome,
        CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(WebhookSql.Insert, new
        {
            ProjectId = projectId, DeliveryId = Clip(deliveryId, 100), Event = Clip(@event, 50), Action = Clip(action, 50),
            At = time.GetUtcNow().ToUnixTimeMilliseconds(), StatusCode = statusCode, Outcome = Clip(outcome, 2000),
        });
        if (projectId is not null) await c.ExecuteAsync(db.Sql(WebhookSql.Prune), new { ProjectId = projectId, Kept });
    }

    public async Task<IReadOnlyList<WebhookDeliveryRow>> NewestAsync(long projectId, int limit, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<WebhookDeliveryRow>(db.Sql(WebhookSql.Newest), new { ProjectId = projectId, Limit = Math.Clamp(limit, 1, Kept) })).AsList();
    }

    private static string? Clip(string? text, int max) => text is { } t && t.Length > max ? t[..max] : text;
}

internal static class WebhookSql
{
    private const string Columns =
        "id, project_id AS ProjectId, delivery_id AS DeliveryId, event, action, received_at AS ReceivedAt, status_code AS StatusCode, outcome";

    public const string Insert =
        "INSERT INTO webhook_deliveries (project_id, delivery_id, event, action, received_at, status_code, outcome) " +
        "VALUES (@ProjectId, @DeliveryId, @Event, @Action, @At, @StatusCode, @Outcome)";

    public static readonly SqlText Prune = new(
        "DELETE FROM webhook_deliveries WHERE project_id = @ProjectId AND id NOT IN " +
        "(SELECT id FROM webhook_deliveries WHERE project_id = @ProjectId ORDER BY id DESC LIMIT @Kept)",
        "DELETE FROM webhook_deliveries WHERE project_id = @ProjectId AND id NOT IN " +
        "(SELECT TOP (@Kept) id FROM webhook_deliveries WHERE project_id = @ProjectId ORDER BY id DESC)");

    public static readonly SqlText ClaimId = new(
        "INSERT INTO webhook_delivery_ids (project_id, delivery_id, received_at) VALUES (@ProjectId, @DeliveryId, @At) ON CONFLICT DO NOTHING",
        "INSERT INTO webhook_delivery_ids (project_id, delivery_id, received_at) SELECT @ProjectId, @DeliveryId, @At " +
        "WHERE NOT EXISTS (SELECT 1 FROM webhook_delivery_ids WITH (UPDLOCK, HOLDLOCK) WHERE project_id = @ProjectId AND delivery_id = @DeliveryId)");

    public const string ReleaseId = "DELETE FROM webhook_delivery_ids WHERE project_id = @ProjectId AND delivery_id = @DeliveryId";

    public const string ForgetIdsBefore = "DELETE FROM webhook_delivery_ids WHERE received_at < @Before";

    public static readonly SqlText Newest = new(
        "SELECT " + Columns + " FROM webhook_deliveries WHERE project_id = @ProjectId ORDER BY id DESC LIMIT @Limit",
        "SELECT TOP (@Limit) " + Columns + " FROM webhook_deliveries WHERE project_id = @ProjectId ORDER BY id DESC");
}
