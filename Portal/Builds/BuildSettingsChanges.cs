using System.Security.Claims;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Scripts;

namespace Kaizen.Portal.Builds;

/// <summary>Where a change of build settings came from, as the audit log says it.</summary>
public static class SettingsSources
{
    public const string Api = "the JSON API";
    public const string Yaml = "the YAML API";
    public const string Editor = "the settings editor";
    public const string StackSuggestions = "applied stack suggestions";
}

/// <summary>What a change of build settings did: the settings as saved, or what to fix (nothing was saved).</summary>
public sealed record SettingsChange(BuildSettings? Saved, IReadOnlyList<string> Errors)
{
    public bool Ok => Saved is not null;

    /// <summary>Nothing was saved because the project keeps its settings in the repository (a conflict, not bad input).</summary>
    public bool InRepository { get; init; }
}

/// <summary>
/// Every change of a project's build settings (the JSON and YAML APIs, the settings editor, applied stack suggestions)
/// goes through here: it checks the settings, saves them, records who changed what in the <see cref="AuditLog"/> as a
/// diff of the YAML form, carries the comments of the YAML text kept for the project over to the changed settings, and tells
/// open pages. No other code saves settings, so none can skip the audit.
/// </summary>
public sealed class BuildSettingsChanges(ProjectStore projects, ScriptLibrary scripts, AuditLog audit, LiveUpdates live, SettingsSourceStore sources)
{
    /// <summary>The audit log's details column holds this much (SQL Server: NVARCHAR(2000)).</summary>
    public const int MaxDetailsLength = 2000;

    /// <summary>Checks and saves <paramref name="settings"/> as the settings of <paramref name="project"/>, recording
    /// the change as done by <paramref name="user"/> through <paramref name="source"/> (one of <see cref="SettingsSources"/>).</summary>
    public async Task<SettingsChange> SaveAsync(ProjectRow project, BuildSettings settings, ClaimsPrincipal? user, string source,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(settings);
        // Builds read the repository's file: a copy saved here would never run, whichever route tried to save it.
        var stored = await sources.GetAsync(project.Id, ct);
        if (stored.InRepository)
            return new SettingsChange(null, [InRepositoryMessage(project.Slug)]) { InRepository = true };
        var errors = settings.Validate();
        if (errors.Count == 0) errors = await scripts.CheckSettingsAsync(settings, ct);
        if (errors.Count > 0) return new SettingsChange(null, errors);

        settings = settings with { Jobs = settings.Jobs.Select(j => j with { Name = j.Name.Trim() }).ToList() };
        // The diff is against what is stored now, not what the caller last saw (a page may be open for hours).
        var before = (await projects.FindBySlugAsync(project.Slug, ct))?.Settings ?? project.Settings;
        var diff = Diff(BuildSettingsYaml.ToYaml(before), BuildSettingsYaml.ToYaml(settings));
        if (diff.Count == 0) return new SettingsChange(settings, []);

        await projects.SaveSettingsAsync(project.Id, settings, ct);
        // The YAML kept with its comments follows the change, so comments survive a chain of edits by any route (the YAML
        // API then stores the text it was sent in its place).
        if (!string.IsNullOrEmpty(stored.Yaml))
            await sources.SetYamlAsync(project.Id, YamlComments.Carry(stored.Yaml, BuildSettingsYaml.ToYaml(settings)), ct);
        await audit.RecordAsync(user, AuditActions.SettingsChanged, $"project:{project.Slug}/settings", Describe(source, diff), ct);
        live.Publish(LiveUpdates.Keys.Project(project.Id));
        return new SettingsChange(settings, []);
    }

    /// <summary>Why settings are not saved for a project that keeps them in the repository, and what to do instead.</summary>
    public static string InRepositoryMessage(string slug) =>
        $"Project '{slug}' keeps its build settings in the repository: change {SettingsLocations.FileName} there, " +
        $"or keep them in the portal first (PUT /api/v1/projects/{slug}/settings/source {{ \"source\": \"portal\" }}).";

    /// <summary>The changed lines of the YAML forms, removed ones as <c>- line</c>, added ones as <c>+ line</c>.</summary>
    public static IReadOnlyList<string> Diff(string before, string after)
    {
        var model = InlineDiffBuilder.Diff(before, after, ignoreWhiteSpace: false);
        return model.Lines
            .Where(l => l.Type is ChangeType.Deleted or ChangeType.Inserted)
            .Select(l => (l.Type == ChangeType.Deleted ? "- " : "+ ") + l.Text)
            .ToList();
    }

    /// <summary>"via the YAML API" and the diff's lines, cut to what the audit log holds with a note of what was left out.</summary>
    public static string Describe(string source, IReadOnlyList<string> diff)
    {
        var text = new StringBuilder($"via {source}");
        for (var i = 0; i < diff.Count; i++)
        {
            var more = $"\n… and {diff.Count - i} more changed line(s)";
            var line = diff[i].Length > 300 ? diff[i][..300] + "…" : diff[i];
            var roomForMore = i == diff.Count - 1 ? 0 : more.Length + 40;
            if (text.Length + 1 + line.Length + roomForMore > MaxDetailsLength)
            {
                text.Append(more);
                break;
            }
            text.Append('\n').Append(line);
        }
        return text.ToString();
    }
}
