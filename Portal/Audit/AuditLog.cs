using System.Security.Claims;
using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Audit;

/// <summary>One thing someone did. <see cref="Details"/> never holds a secret's or variable's value.</summary>
public sealed record AuditEntry(long Id, long At, string Actor, string Action, string Target, string? Details);

/// <summary>The actions recorded, as <c>subject.verb</c>.</summary>
public static class AuditActions
{
    public const string SecretCreated = "secret.created";
    public const string SecretReplaced = "secret.replaced";
    public const string SecretDeleted = "secret.deleted";
    public const string VariableSet = "variable.set";
    public const string VariableDeleted = "variable.deleted";
    public const string UserCreated = "user.created";
    public const string UserChanged = "user.changed";
    public const string UserRemoved = "user.removed";
    public const string TokenCreated = "token.created";
    public const string TokenRevoked = "token.revoked";
    public const string SettingsChanged = "settings.changed";
    public const string ProjectCreated = "project.created";
    public const string ProjectChanged = "project.changed";
    public const string ProjectRenamed = "project.renamed";
    public const string ProjectGitUrlChanged = "project.git_url_changed";
    public const string ProjectDeleted = "project.deleted";
    public const string WebhookSecretRotated = "webhook.secret_rotated";
    public const string BadgeTokenChanged = "badge.token_changed";
    public const string ServerCreated = "server.created";
    public const string ServerChanged = "server.changed";
    public const string ServerDeleted = "server.deleted";
    public const string ServerCordoned = "server.cordoned";
    public const string ServerUncordoned = "server.uncordoned";
    public const string DeployRequested = "deploy.requested";
    public const string DeployApproved = "deploy.approved";
    public const string DeployRejected = "deploy.rejected";
    public const string DeployCanceled = "deploy.canceled";
    public const string DeployStarted = "deploy.started";
    public const string DeployFinished = "deploy.finished";
    public const string CacheDeleted = "cache.deleted";
    public const string CachesCleared = "caches.cleared";
    public const string DebugStarted = "debug.started";
    public const string DebugEnded = "debug.ended";
    public const string BuildApproved = "build.approved";
    public const string InsightsHidden = "insights.hidden";
    public const string InsightsShown = "insights.shown";
    public const string BuildStarted = "build.started";
    public const string BuildRerun = "build.rerun";
    public const string BuildCanceled = "build.canceled";
}

/// <summary>
/// Who did what to which target (like <c>project:web/secret:AWS_KEY</c>), and when. Entries are only added, never
/// changed; the caller passes a description, never a value.
/// </summary>
public sealed class AuditLog(Database db, TimeProvider time)
{
    /// <summary>The actor of what the portal does by itself.</summary>
    public const string System = "system";

    public const int MaxLimit = 1000;

    public async Task RecordAsync(string actor, string action, string target, string? details = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(actor);
        ArgumentException.ThrowIfNullOrEmpty(action);
        ArgumentException.ThrowIfNullOrEmpty(target);
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(AuditSql.Insert, new
        {
            At = time.GetUtcNow().ToUnixTimeMilliseconds(), Actor = actor, Action = action, Target = target, Details = details,
        });
    }

    /// <summary>Records an action of the signed-in <paramref name="user"/> (or of the portal itself when there is none).</summary>
    public Task RecordAsync(ClaimsPrincipal? user, string action, string target, string? details = null, CancellationToken ct = default) =>
        RecordAsync(ActorOf(user), action, target, details, ct);

    /// <summary>The newest entries first, at most <paramref name="limit"/> (1 to <see cref="MaxLimit"/>).</summary>
    public async Task<IReadOnlyList<AuditEntry>> NewestAsync(int limit, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<Row>(db.Sql(AuditSql.Newest), new { Limit = Math.Clamp(limit, 1, MaxLimit) });
        return rows.Select(r => new AuditEntry(r.Id, r.At, r.Actor, r.Action, r.Target, r.Details)).ToList();
    }

    /// <summary>
    /// The newest entries that match <paramref name="filter"/>, older than entry <paramref name="before"/> when given (the
    /// next page starts before the last entry of the one before it), at most <paramref name="limit"/> (1 to <see cref="MaxLimit"/>).
    /// </summary>
    public async Task<AuditPage> QueryAsync(AuditFilter filter, long? before, int limit, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        limit = Math.Clamp(limit, 1, MaxLimit);
        await using var c = await db.OpenAsync(ct);
        // One more than asked says whether there is a next page without counting the whole log.
        var rows = (await c.QueryAsync<Row>(db.Sql(AuditSql.Filtered), filter.SqlParameters(before, limit + 1))).ToList();
        var entries = rows.Take(limit).Select(r => new AuditEntry(r.Id, r.At, r.Actor, r.Action, r.Target, r.Details)).ToList();
        return new AuditPage(entries, rows.Count > limit ? entries[^1].Id : null);
    }

    public static string ActorOf(ClaimsPrincipal? user) =>
        user?.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : System;

    private sealed class Row
    {
        public long Id { get; init; }
        public long At { get; init; }
        public string Actor { get; init; } = "";
        public string Action { get; init; } = "";
        public string Target { get; init; } = "";
        public string? Details { get; init; }
    }
}

/// <summary>One page of the audit log; <see cref="NextBefore"/> asks for the next one, null on the last page.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, long? NextBefore);

internal static class AuditSql
{
    private const string Columns = "id, at, actor, action, target, details";

    public const string Insert =
        "INSERT INTO audit_log (at, actor, action, target, details) VALUES (@At, @Actor, @Action, @Target, @Details)";

    public static readonly SqlText Newest = new(
        "SELECT " + Columns + " FROM audit_log ORDER BY id DESC LIMIT @Limit",
        "SELECT TOP (@Limit) " + Columns + " FROM audit_log ORDER BY id DESC");

    // A parameter left null filters nothing. A project matches its own entries and those of its parts ("project:web/...").
    private const string Where =
        " WHERE (@Actor IS NULL OR actor = @Actor)" +
        " AND (@Project IS NULL OR target = @Project OR target LIKE @ProjectParts)" +
        " AND (@Action IS NULL OR action = @Action OR action LIKE @ActionSubject)" +
        " AND (@From IS NULL OR at >= @From)" +
        " AND (@To IS NULL OR at < @To)" +
        " AND (@Before IS NULL OR id < @Before)";

    public static readonly SqlText Filtered = new(
        "SELECT " + Columns + " FROM audit_log" + Where + " ORDER BY id DESC LIMIT @Limit",
        "SELECT TOP (@Limit) " + Columns + " FROM audit_log" + Where + " ORDER BY id DESC");
}
