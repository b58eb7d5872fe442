using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Data;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Insights;

/// <summary>
/// Rows a team hid from a project's slowest commands (a deliberate wait, a command it knows about): stored per job, phase
/// and exact text, left out of the figures until shown again. Hiding and showing are audited; the row's figures are
/// never deleted, only not listed.
/// </summary>
public sealed class HiddenCommands(Database db, AuditLog audit, LiveUpdates live, TimeProvider time)
{
    /// <summary>The phases a command has (<c>setup</c>, <c>main</c>, …) are short words; anything else is not a row.</summary>
    private const int MaxPhaseLength = 20;

    public async Task<IReadOnlyList<HiddenCommand>> ListAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<Row>(new CommandDefinition(HiddenSql.List, new { ProjectId = projectId }, cancellationToken: ct));
        return rows.Select(r => new HiddenCommand(r.Job, r.Phase, r.Command, r.HiddenBy, DateTimeOffset.FromUnixTimeMilliseconds(r.HiddenAt)))
            .ToList();
    }

    /// <summary>Hides a row (again: nothing changes but who and when); a problem when the row is not one a job could have.</summary>
    public async Task<Outcome<HiddenCommand>> HideAsync(ProjectRow project, CommandKey? key, ClaimsPrincipal? user, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        if (Problem(key) is { } problem) return Outcome<HiddenCommand>.Fail(Api.Problem.Invalid, problem);
        var at = time.GetUtcNow();
        var actor = AuditLog.ActorOf(user);
        await using (var c = await db.OpenAsync(ct))
        {
            await using var tx = await c.BeginTransactionAsync(ct);
            var args = Args(project.Id, key!);
            await c.ExecuteAsync(new CommandDefinition(HiddenSql.Delete, args, tx, cancellationToken: ct));
            await c.ExecuteAsync(new CommandDefinition(HiddenSql.Insert,
                new { args.ProjectId, args.Job, args.Phase, args.Hash, key!.Command, HiddenBy = actor, HiddenAt = at.ToUnixTimeMilliseconds() },
                tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        await audit.RecordAsync(user, AuditActions.InsightsHidden, Target(project, key!), Describe(key!), ct);
        live.Publish(LiveUpdates.Keys.Dashboard);
        return Outcome<HiddenCommand>.Of(new HiddenCommand(key!.Job, key.Phase, key.Command, actor, at));
    }

    /// <summary>Lists a hidden row again; not found when it was not hidden.</summary>
    public async Task<Outcome<bool>> ShowAsync(ProjectRow project, CommandKey? key, ClaimsPrincipal? user, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        if (Problem(key) is { } problem) return Outcome<bool>.Fail(Api.Problem.Invalid, problem);
        int removed;
        await using (var c = await db.OpenAsync(ct))
            removed = await c.ExecuteAsync(new CommandDefinition(HiddenSql.Delete, Args(project.Id, key!), cancellationToken: ct));
        if (removed == 0)
            return Outcome<bool>.Fail(Api.Problem.NotFound, $"The command {Describe(key!)} is not hidden in project '{project.Slug}'.");
        await audit.RecordAsync(user, AuditActions.InsightsShown, Target(project, key!), Describe(key!), ct);
        live.Publish(LiveUpdates.Keys.Dashboard);
        return Outcome<bool>.Of(true);
    }

    /// <summary>What is wrong with a row named by a request, or null.</summary>
    public static string? Problem(CommandKey? key)
    {
        if (key is null) return "Name the row: { \"job\": \"test\", \"phase\": \"main\", \"command\": \"pytest -q\" }.";
        if (string.IsNullOrEmpty(key.Job)) return "$.job: expected the job's name, as the insights list it.";
        if (key.Job.Length > 200) return "$.job: a job name is at most 200 characters.";
        if (string.IsNullOrEmpty(key.Phase)) return "$.phase: expected the command's phase (setup, main, …), as the insights list it.";
        if (key.Phase.Length > MaxPhaseLength) return $"$.phase: a phase is at most {MaxPhaseLength} characters.";
        if (string.IsNullOrEmpty(key.Command)) return "$.command: expected the command's text, as the insights list it.";
        if (key.Command.Length > BuildSettings.MaxCommandLength)
            return $"$.command: a command is at most {BuildSettings.MaxCommandLength:N0} characters.";
        return null;
    }

    private static string Target(ProjectRow project, CommandKey key) => $"project:{project.Slug}/insights/job:{key.Job}";

    private static string Describe(CommandKey key)
    {
        var text = key.Command.ReplaceLineEndings(" ");
        return $"'{(text.Length > 120 ? text[..117] + "..." : text)}' of job {key.Job} ({key.Phase})";
    }

    private static KeyArgs Args(long projectId, CommandKey key) =>
        new(projectId, key.Job, key.Phase, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.Command))));

    private sealed record KeyArgs(long ProjectId, string Job, string Phase, string Hash);

    private sealed class Row
    {
        public string Job { get; init; } = "";
        public string Phase { get; init; } = "";
        public string Command { get; init; } = "";
        public string HiddenBy { get; init; } = "";
        public long HiddenAt { get; init; }
    }
}

internal static class HiddenSql
{
    public const string List =
        "SELECT job, phase, command, hidden_by AS HiddenBy, hidden_at AS HiddenAt FROM insights_hidden " +
        "WHERE project_id = @ProjectId ORDER BY hidden_at DESC, job, phase";

    public const string Delete =
        "DELETE FROM insights_hidden WHERE project_id = @ProjectId AND job = @Job AND phase = @Phase AND command_hash = @Hash";

    public const string Insert =
        "INSERT INTO insights_hidden (project_id, job, phase, command_hash, command, hidden_by, hidden_at) " +
        "VALUES (@ProjectId, @Job, @Phase, @Hash, @Command, @HiddenBy, @HiddenAt)";
}
