using System.Text.Json;

namespace Kaizen.Portal.Builds;

/// <summary>
/// A shared script version a build ran with. <see cref="Pinned"/>: a command names this version itself
/// (<c>run-script name@3</c>); otherwise it was the newest version when the build was created.
/// </summary>
public sealed record SnapshotScript(string Name, int Version, bool Pinned)
{
    /// <summary><c>name@version</c>, as logs and the build page show it.</summary>
    public string Target => $"{Name}@{Version}";
}

/// <summary>
/// What a build ran with, recorded once when it is created and never changed: the project's build settings at that
/// moment and the version of every shared script that its settings and its project's deploy commands named. A deploy of
/// the build runs this setup with these script versions, so changing the project or publishing a script afterwards
/// never changes what an approved deploy of an older build runs. <see cref="TakenAt"/> is Unix ms.
/// </summary>
public sealed record BuildSnapshot(BuildSettings Settings, IReadOnlyList<SnapshotScript> Scripts, long TakenAt)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The versions that stand in for "the newest" of each script a command names without a version.</summary>
    public IReadOnlyDictionary<string, int> Unpinned => Scripts.Where(s => !s.Pinned)
        .GroupBy(s => s.Name, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Max(s => s.Version), StringComparer.Ordinal);

    public static string SerializeSettings(BuildSettings settings) => JsonSerializer.Serialize(settings, Json);

    public static string SerializeScripts(IReadOnlyList<SnapshotScript> scripts) => JsonSerializer.Serialize(scripts, Json);

    public static BuildSnapshot From(string settingsJson, string scriptsJson, long takenAt) => new(
        Projects.ProjectStore.ParseSettings(settingsJson),
        JsonSerializer.Deserialize<List<SnapshotScript>>(scriptsJson, Json) ?? [],
        takenAt);
}

/// <summary>A row of <c>build_snapshots</c>.</summary>
internal sealed class BuildSnapshotRow
{
    public long BuildId { get; init; }
    public string SettingsJson { get; init; } = "{}";
    public string ScriptsJson { get; init; } = "[]";
    public long TakenAt { get; init; }

    public BuildSnapshot ToSnapshot() => BuildSnapshot.From(SettingsJson, ScriptsJson, TakenAt);
}
