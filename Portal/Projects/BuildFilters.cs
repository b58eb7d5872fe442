using System.Security.Claims;
using Dapper;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Data;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Secrets;

namespace Kaizen.Portal.Projects;

/// <summary>A project's build filter: the branches that build by themselves when a push or polling brings a new commit
/// (<see cref="Branches"/> in the servers' pattern form; empty: every branch).</summary>
public sealed record BuildFilter(string Branches, string? ChangedBy, DateTimeOffset? ChangedAt)
{
    public static readonly BuildFilter All = new("", null, null);

    public bool Builds(string branch) => BranchPatterns.Matches(Branches, branch);

    /// <summary>"every branch" or "main, release/*".</summary>
    public string Describe() => Branches.Length == 0 ? "every branch" : Branches;
}

/// <summary>
/// Which branches build by themselves. Pull requests, manual builds (Run build, the API) and rebuilds are not filtered:
/// someone asked for them. Changes are audited and tell open pages.
/// </summary>
public sealed class BuildFilters(Database db, AuditLog audit, LiveUpdates live, TimeProvider time)
{
    public async Task<BuildFilter> GetAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT branches, changed_by AS ChangedBy, changed_at AS ChangedAt FROM build_filters WHERE project_id = @Id",
            new { Id = projectId }, cancellationToken: ct));
        return row is null ? BuildFilter.All : new BuildFilter(row.Branches, row.ChangedBy, DateTimeOffset.FromUnixTimeMilliseconds(row.ChangedAt));
    }

    /// <summary>Sets the filter (empty or null: every branch); a problem when the pattern cannot name branches.</summary>
    public async Task<Outcome<BuildFilter>> SetAsync(ProjectRow project, string? branches, ClaimsPrincipal? user, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        var pattern = Normalize(branches);
        if (BranchPatterns.Error(pattern) is { } error) return Outcome<BuildFilter>.Fail(Problem.Invalid, $"$.branches: {error}");
        var before = await GetAsync(project.Id, ct);
        if (before.Branches == pattern) return Outcome<BuildFilter>.Of(before);
        var actor = AuditLog.ActorOf(user);
        var at = time.GetUtcNow();
        await using (var c = await db.OpenAsync(ct))
        {
            await using var tx = await c.BeginTransactionAsync(ct);
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM build_filters WHERE project_id = @Id", new { Id = project.Id }, tx, cancellationToken: ct));
            if (pattern.Length > 0)
            {
                await c.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO build_filters (project_id, branches, changed_by, changed_at) VALUES (@Id, @Branches, @Actor, @At)",
                    new { Id = project.Id, Branches = pattern, Actor = actor, At = at.ToUnixTimeMilliseconds() }, tx, cancellationToken: ct));
            }
            await tx.CommitAsync(ct);
        }
        var after = pattern.Length == 0 ? BuildFilter.All : new BuildFilter(pattern, actor, at);
        await audit.RecordAsync(user, AuditActions.ProjectChanged, VariableChanges.ProjectTarget(project.Slug),
            $"builds by themselves: {before.Describe()} → {after.Describe()}", ct);
        live.Publish(LiveUpdates.Keys.Project(project.Id));
        return Outcome<BuildFilter>.Of(after);
    }

    /// <summary>The pattern as stored: entries trimmed, joined by ", "; nothing but commas and spaces is every branch.</summary>
    public static string Normalize(string? branches)
    {
        var parts = (branches ?? "").Split(',', StringSplitOptions.TrimEntries);
        return parts.All(p => p.Length == 0) ? "" : string.Join(", ", parts);
    }

    private sealed class Row
    {
        public string Branches { get; init; } = "";
        public string? ChangedBy { get; init; }
        public long ChangedAt { get; init; }
    }
}
