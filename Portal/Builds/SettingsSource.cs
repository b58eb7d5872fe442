using System.Security.Claims;
using Dapper;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Data;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Builds;

/// <summary>Where a project's build settings live.</summary>
public static class SettingsLocations
{
    /// <summary>Stored in the portal, changed through the settings editor and the API (the default).</summary>
    public const string Portal = "portal";

    /// <summary>In the repository as <see cref="FileName"/>: each build reads the file at its own commit.</summary>
    public const string Repository = "repository";

    /// <summary>The file at the root of the repository that holds the settings in repository mode.</summary>
    public const string FileName = ".kaizen.yml";

    public static readonly IReadOnlyList<string> All = [Portal, Repository];
}

/// <summary>A project's choice of <see cref="SettingsLocations"/> and the YAML text its settings were last saved as.</summary>
public sealed record ProjectSettingsText(string Source, string? Yaml)
{
    public bool InRepository => Source == SettingsLocations.Repository;
}

/// <summary>Reads and writes a project's settings source and the YAML text kept with its comments.</summary>
public sealed class SettingsSourceStore(Database db)
{
    public async Task<ProjectSettingsText> GetAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<Row>(SettingsSourceSql.Get, new { Id = projectId });
        return new ProjectSettingsText(string.IsNullOrEmpty(row?.Source) ? SettingsLocations.Portal : row.Source, row?.Yaml);
    }

    private sealed class Row
    {
        public string Source { get; init; } = "";
        public string? Yaml { get; init; }
    }

    public async Task SetSourceAsync(long projectId, string source, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(SettingsSourceSql.SetSource, new { Id = projectId, Source = source });
    }

    public async Task SetYamlAsync(long projectId, string? yaml, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(SettingsSourceSql.SetYaml, new { Id = projectId, Yaml = yaml });
    }

    /// <summary>
    /// The settings as YAML for export: the text last saved through the YAML API, comments and all, while it still
    /// reads as the same settings as <paramref name="settings"/>; otherwise the settings written out afresh with the
    /// stored text's comments carried over to the nodes they belong to (<see cref="YamlComments.Carry"/>).
    /// </summary>
    public static string Export(BuildSettings settings, string? stored)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var fresh = BuildSettingsYaml.ToYaml(settings);
        if (string.IsNullOrEmpty(stored)) return fresh;
        var (parsed, errors) = BuildSettingsYaml.FromYaml(stored);
        // Given back only while it says exactly what is stored (a name sent with spaces around it was saved trimmed: the
        // export then shows the name as it is).
        return errors.Count == 0 && parsed is not null && BuildSettingsYaml.ToYaml(parsed) == fresh ? stored
            : YamlComments.Carry(stored, fresh);
    }

    /// <summary>Whether two settings say the same, as their YAML forms show (job names compared as saved: trimmed).</summary>
    public static bool SameSettings(BuildSettings a, BuildSettings b) =>
        BuildSettingsYaml.ToYaml(Trimmed(a)) == BuildSettingsYaml.ToYaml(Trimmed(b));

    private static BuildSettings Trimmed(BuildSettings s) =>
        s with { Jobs = (s.Jobs ?? []).Select(j => j with { Name = j.Name.Trim() }).ToList() };
}

/// <summary>Moves a project's settings between the portal and the repository (the API and the settings page alike): checks
/// the word, saves it, records who did it in the <see cref="AuditLog"/> and tells open pages.</summary>
public sealed class SettingsSourceChanges(SettingsSourceStore store, AuditLog audit, LiveUpdates live)
{
    /// <summary>Null when done (or nothing to do); otherwise what is wrong with <paramref name="source"/>.</summary>
    public async Task<string?> ChangeAsync(ProjectRow project, string? source, ClaimsPrincipal? user, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        var wanted = source?.Trim().ToLowerInvariant();
        if (wanted is null || !SettingsLocations.All.Contains(wanted))
            return $"'{source}' is not a settings source; use \"portal\" (settings kept here) or \"repository\" " +
                $"(each build reads {SettingsLocations.FileName} at its commit).";
        var before = (await store.GetAsync(project.Id, ct)).Source;
        if (before == wanted) return null;
        await store.SetSourceAsync(project.Id, wanted, ct);
        await audit.RecordAsync(user, AuditActions.SettingsChanged, $"project:{project.Slug}/settings",
            $"settings source: {before} → {wanted}" +
            (wanted == SettingsLocations.Repository ? $" ({SettingsLocations.FileName} at each build's commit)" : ""), ct);
        live.Publish(LiveUpdates.Keys.Project(project.Id));
        return null;
    }
}

internal static class SettingsSourceSql
{
    public const string Get = "SELECT settings_source AS Source, settings_yaml AS Yaml FROM projects WHERE id = @Id";
    public const string SetSource = "UPDATE projects SET settings_source = @Source WHERE id = @Id";
    public const string SetYaml = "UPDATE projects SET settings_yaml = @Yaml WHERE id = @Id";

    /// <summary>A build that failed before any job could run (its settings file is missing or invalid).</summary>
    public const string FailBuild = "UPDATE builds SET status = 'failed', started_at = @Now, finished_at = @Now WHERE id = @Id";
}
