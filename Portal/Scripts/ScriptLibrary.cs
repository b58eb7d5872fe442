using System.Text;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Scripts;

/// <summary>
/// The organization's shared script library: what the Scripts pages, the API, build planning and settings validation
/// use. Every save of a changed script makes a new immutable version; in a git-backed library scripts come from the
/// repository and saves and deletes here are refused with the reason.
/// </summary>
public sealed class ScriptLibrary(ScriptStore store, ProjectStore projects, AuditLog audit)
{
    /// <summary>The largest script body, in UTF-8 bytes.</summary>
    public const int MaxBodyBytes = 256 * 1024;

    /// <summary>The longest description.</summary>
    public const int MaxDescriptionLength = 2000;

    /// <summary>How many runs <see cref="RecentRunsAsync"/> returns by default.</summary>
    public const int DefaultRunLimit = 20;

    // Saves of one portal are serialized: two people saving one script at once get v4 and v5, not a conflict.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Every script (not deleted) by name, with its latest version and who changed it last, when.</summary>
    public Task<IReadOnlyList<ScriptSummary>> ListAsync(CancellationToken ct = default) => store.ListAsync(ct);

    /// <summary>A script with all its versions (newest first); null when there is none by that name (or it was deleted).</summary>
    public async Task<ScriptDetails?> GetAsync(string name, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var script = await store.FindAsync(name, ct);
        if (script is null || script.DeletedAt is not null) return null;
        return new ScriptDetails(script.ToSummary(), await store.VersionsAsync(name, ct));
    }

    /// <summary>Version <paramref name="version"/> of a script, or null. Versions of deleted scripts stay readable:
    /// builds that ran them link to them.</summary>
    public Task<ScriptVersion?> GetVersionAsync(string name, int version, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return store.VersionAsync(name, version, ct);
    }

    /// <summary>
    /// Saves a script as <paramref name="user"/>: a new version when the body or description changed (or the script is
    /// new), none when both are unchanged. Fails with <see cref="Problem.Invalid"/> for a bad name or body and
    /// <see cref="Problem.Conflict"/> when the library is git-backed.
    /// </summary>
    public async Task<Outcome<ScriptSaved>> SaveAsync(string name, string? body, string? description, string user, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        if (await ReadOnlyReasonAsync(ct) is { } readOnly) return Outcome<ScriptSaved>.Fail(Problem.Conflict, readOnly);
        var checkedBody = Check(name, body, description, out var problem);
        if (checkedBody is null) return Outcome<ScriptSaved>.Fail(Problem.Invalid, problem!);
        var saved = await SaveCheckedAsync(name, checkedBody, description?.Trim() ?? "", user, null, ct);
        if (saved.Changed)
            await audit.RecordAsync(user, ScriptAuditActions.Saved, ScriptAuditActions.Target(name), $"version {saved.Version}", ct);
        return Outcome<ScriptSaved>.Of(saved);
    }

    /// <summary>
    /// Deletes a script as <paramref name="user"/>. Refused (<see cref="Problem.Conflict"/>) while build settings or
    /// servers use it, naming them, and in a git-backed library. Builds that already ran keep the text they ran.
    /// </summary>
    public async Task<Outcome<bool>> DeleteAsync(string name, string user, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        if (await ReadOnlyReasonAsync(ct) is { } readOnly) return Outcome<bool>.Fail(Problem.Conflict, readOnly);
        var script = await store.FindAsync(name, ct);
        if (script is null || script.DeletedAt is not null) return Outcome<bool>.Fail(Problem.NotFound, $"No script '{name}'.");
        var usages = await UsagesAsync(name, ct);
        if (usages.Count > 0)
            return Outcome<bool>.Fail(Problem.Conflict,
                $"Script '{name}' is still used by {DescribeUsages(usages)}; change those commands first. " +
                "(Builds that already ran keep the text they ran either way.)");
        if (!await store.DeleteAsync(name, user, ct)) return Outcome<bool>.Fail(Problem.NotFound, $"No script '{name}'.");
        await audit.RecordAsync(user, ScriptAuditActions.Deleted, ScriptAuditActions.Target(name), $"latest was version {script.LatestVersion}", ct);
        return Outcome<bool>.Of(true);
    }

    /// <summary>Whether the library is git-backed, from where, how its last sync went, and why edits here are off.</summary>
    public async Task<ScriptLibraryMode> ModeAsync(CancellationToken ct = default)
    {
        var row = await store.LibraryAsync(ct);
        return row is null
            ? ScriptLibraryMode.Portal
            : new ScriptLibraryMode(true, row.GitUrl, row.GitBranch, row.GitFolder, ReadOnlyReason(row.GitUrl), row.SyncedAt,
                row.SyncedCommit, row.SyncError);
    }

    /// <summary>Where a script is used now: build settings of projects and deploy commands of servers that run it.</summary>
    public async Task<IReadOnlyList<ScriptUsage>> UsagesAsync(string name, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var result = new List<ScriptUsage>();
        foreach (var project in await projects.ListAsync(ct))
        {
            foreach (var (where, command) in Commands(project.Settings))
                Add(project.Slug, null, where, command);
        }
        foreach (var server in await store.ServerCommandsAsync(ct))
        {
            var commands = ServerSpec.ParseCommands(server.CommandsJson);
            for (var i = 0; i < commands.Count; i++) Add(server.ProjectSlug, server.ServerName, $"commands[{i}]", commands[i]);
        }
        return result;

        void Add(string project, string? server, string where, string command)
        {
            if (ScriptReference.Parse(command, out _) is { } reference && reference.Name == name)
                result.Add(new ScriptUsage(project, server, where, command.Trim(), reference.Version));
        }
    }

    /// <summary>The script's most recent runs (its sections in jobs and deploys), newest first, with their durations.</summary>
    public Task<IReadOnlyList<ScriptRunTime>> RecentRunsAsync(string name, int limit = DefaultRunLimit, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return store.RunsAsync(name, limit, ct);
    }

    /// <summary>
    /// Problems with the <c>run-script</c> lines of build settings (unknown script or version, malformed line), each
    /// naming the command; empty when all are fine. Call it with <see cref="BuildSettings.Validate"/> before saving.
    /// </summary>
    public Task<IReadOnlyList<string>> CheckSettingsAsync(BuildSettings settings, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return CheckAsync(Commands(settings), ct);
    }

    /// <summary>Problems with the <c>run-script</c> lines of a server's deploy commands; empty when all are fine.</summary>
    public Task<IReadOnlyList<string>> CheckServerCommandsAsync(IReadOnlyList<string> commands, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(commands);
        return CheckAsync(commands.Select((c, i) => ($"commands[{i}]", c)), ct);
    }

    /// <summary>Problems with <c>run-script</c> lines given as (where, command) pairs.</summary>
    public async Task<IReadOnlyList<string>> CheckAsync(IEnumerable<(string Where, string Command)> commands, CancellationToken ct = default)
    {
        var errors = new List<string>();
        var scripts = new Dictionary<string, ScriptRow?>(StringComparer.Ordinal);
        foreach (var (where, command) in commands)
        {
            if (await ProblemAsync(command, scripts, ct) is { } problem) errors.Add($"{where} ('{Shorten(command)}'): {problem}");
        }
        return errors;
    }

    /// <summary>What is wrong with one command as a <c>run-script</c> line (a bad reference, a script or version the library
    /// does not have), in words fit to show under the command's own field; null when it is fine or not a script call.
    /// <paramref name="seen"/> remembers scripts already looked up, across calls.</summary>
    public async Task<string?> ProblemAsync(string command, Dictionary<string, ScriptRow?> seen, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(seen);
        if (!ScriptReference.IsScriptCommand(command)) return null;
        var reference = ScriptReference.Parse(command, out var error);
        if (reference is null) return error;
        if (!seen.TryGetValue(reference.Name, out var script))
            seen[reference.Name] = script = await store.FindAsync(reference.Name, ct);
        if (script is null || script.DeletedAt is not null) return $"there is no script '{reference.Name}' in the library.";
        if (reference.Version is { } v && v > script.LatestVersion)
            return $"script '{reference.Name}' has no version {v} (its versions are 1 to {script.LatestVersion}).";
        return null;
    }

    /// <summary>Every command of build settings with where it sits (<c>setup[0]</c>, <c>jobs[test][1]</c>, <c>epilogue[0]</c>).</summary>
    public static IEnumerable<(string Where, string Command)> Commands(BuildSettings settings)
    {
        for (var i = 0; i < (settings.Setup?.Count ?? 0); i++) yield return ($"setup[{i}]", settings.Setup![i]);
        foreach (var job in settings.Jobs ?? [])
        {
            if (job?.Commands is null) continue;
            for (var i = 0; i < job.Commands.Count; i++) yield return ($"jobs[{job.Name}][{i}]", job.Commands[i]);
        }
        // Blocks, and the prologues and epilogues of blocks and jobs, may name shared scripts too.
        foreach (var (path, commands) in Builds.Pipeline.CommandLists(settings).Where(l => !l.Path.StartsWith("jobs[", StringComparison.Ordinal)
                     || !l.Path.EndsWith(" commands", StringComparison.Ordinal)))
        {
            for (var i = 0; i < commands.Count; i++) yield return ($"{path}[{i}]", commands[i]);
        }
        for (var i = 0; i < (settings.Epilogue?.Count ?? 0); i++) yield return ($"epilogue[{i}]", settings.Epilogue![i]);
    }

    /// <summary>Why saves and deletes are refused here (git-backed library), or null when they are allowed.</summary>
    public async Task<string?> ReadOnlyReasonAsync(CancellationToken ct = default) =>
        (await store.LibraryAsync(ct)) is { } row ? ReadOnlyReason(row.GitUrl) : null;

    internal static string ReadOnlyReason(string gitUrl) =>
        $"Scripts come from {gitUrl}; change them there (this library is git-backed, so edits in the portal are off).";

    /// <summary>Saves a checked body without the read-only check (what a git sync uses).</summary>
    internal async Task<ScriptSaved> SaveCheckedAsync(string name, string body, string description, string user, string? commitSha,
        CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return await store.SaveAsync(name, body, description, user, commitSha, ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The body to store (line ends made LF), or null with the problem.</summary>
    internal static string? Check(string? name, string? body, string? description, out string? problem)
    {
        problem = ScriptReference.NameProblem(name);
        if (problem is not null) return null;
        if (string.IsNullOrWhiteSpace(body))
        {
            problem = "A script needs a body (the bash it runs).";
            return null;
        }
        // Scripts saved from Windows editors would otherwise fail with "$'\r': command not found".
        body = body.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (Encoding.UTF8.GetByteCount(body) > MaxBodyBytes)
        {
            problem = $"A script is at most {MaxBodyBytes / 1024} KB.";
            return null;
        }
        if (body.Contains('\0'))
        {
            problem = "A script cannot contain NUL bytes (bash cannot run them).";
            return null;
        }
        if (description is { Length: > MaxDescriptionLength })
        {
            problem = $"A description is at most {MaxDescriptionLength} characters.";
            return null;
        }
        if (Text.DisplayNames.Problem(description, "A script description", lineBreaks: true) is { } shown)
        {
            problem = shown;
            return null;
        }
        return body;
    }

    private static string DescribeUsages(IReadOnlyList<ScriptUsage> usages)
    {
        var parts = usages.Select(u => u.ServerName is null
            ? $"project {u.ProjectSlug} ({u.Where})"
            : $"server {u.ServerName} of project {u.ProjectSlug} ({u.Where})").Distinct().ToList();
        return parts.Count <= 5 ? string.Join(", ", parts) : string.Join(", ", parts.Take(5)) + $" and {parts.Count - 5} more";
    }

    private static string Shorten(string command)
    {
        var line = command.Trim().Split('\n')[0];
        return line.Length <= 80 ? line : line[..80] + "…";
    }
}
