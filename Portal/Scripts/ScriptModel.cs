namespace Kaizen.Portal.Scripts;

/// <summary>A script of the library as lists show it: its newest version and who saved it when (Unix ms).</summary>
public sealed record ScriptSummary(string Name, string Description, int LatestVersion, long UpdatedAt, string UpdatedBy);

/// <summary>One immutable version of a script. <see cref="CommitSha"/>: the commit that made it, in a git-backed library.</summary>
public sealed record ScriptVersion(
    string Name, int Version, string Body, string Description, string Author, long CreatedAt, string? CommitSha = null);

/// <summary>A script with every version, newest first.</summary>
public sealed record ScriptDetails(ScriptSummary Script, IReadOnlyList<ScriptVersion> Versions);

/// <summary>What a save did: the version now latest, and whether it is new (an unchanged save makes none).</summary>
public sealed record ScriptSaved(string Name, int Version, bool Changed);

/// <summary>
/// A place that runs a script: a project's build settings (<see cref="ServerName"/> null) or a server's deploy
/// commands. <see cref="Where"/> says which command (<c>setup[0]</c>, <c>jobs[test][2]</c>, <c>epilogue[1]</c>,
/// <c>commands[0]</c>); <see cref="PinnedVersion"/> is null when it runs the latest version.
/// </summary>
public sealed record ScriptUsage(string ProjectSlug, string? ServerName, string Where, string Command, int? PinnedVersion);

/// <summary>One run of a script (its section in a job), newest first in lists. Times are Unix ms.</summary>
public sealed record ScriptRunTime(
    long BuildId, long JobId, string ProjectSlug, string JobName, bool Deploy, int Version, string Status,
    long? StartedAt, long? DurationMs, int? ExitCode);

/// <summary>
/// Where the library's scripts come from. In a git-backed library (<see cref="GitUrl"/> set) people cannot edit them
/// here; <see cref="ReadOnlyReason"/> says so in words for the UI and the API.
/// </summary>
public sealed record ScriptLibraryMode(
    bool GitBacked,
    string? GitUrl,
    string? GitBranch,
    string? GitFolder,
    string? ReadOnlyReason,
    long? SyncedAt,
    string? SyncedCommit,
    string? SyncError)
{
    public static ScriptLibraryMode Portal { get; } = new(false, null, null, null, null, null, null, null);
}

/// <summary>The audit actions of the script library.</summary>
public static class ScriptAuditActions
{
    public const string Saved = "script.saved";
    public const string Deleted = "script.deleted";
    public const string Synced = "script.synced";
    public const string LibraryChanged = "script.library_changed";

    /// <summary>The audit target of a script.</summary>
    public static string Target(string name) => $"script:{name}";

    public const string LibraryTarget = "scripts";
}
