using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Scripts;

namespace Kaizen.Portal.Builds;

/// <summary>The settings a build runs with as read from <see cref="SettingsLocations.FileName"/> at its commit, or why
/// they could not be (<see cref="Errors"/>, each with its line where the file says where). <see cref="Yaml"/>: the file.</summary>
public sealed record RepositorySettingsRead(BuildSettings? Settings, string? Yaml, IReadOnlyList<string> Errors)
{
    public bool Ok => Settings is not null;
}

/// <summary>
/// Reads a project's settings file at one commit from the portal's git mirror of the repository. The file is checked
/// exactly as settings saved in the portal are (shape, <see cref="BuildSettings.Validate"/>, the shared scripts it names
/// must exist), so a branch or a pull request can change what its build runs but can never name anything settings
/// saved in the portal could not. Secrets never come from settings: who gets them stays the build's business (a fork's
/// pull request gets none, whatever its file says).
/// </summary>
public sealed class RepositorySettings(GitMirror git, ScriptLibrary scripts)
{
    /// <summary>Settings are a few kilobytes; a far larger file is a mistake, not settings.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    public async Task<RepositorySettingsRead> ReadAsync(ProjectRow project, string sha, int? pullRequest, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(project);
        var file = SettingsLocations.FileName;
        var shortSha = sha[..Math.Min(12, sha.Length)];
        if (sha.Length == 0 || !sha.All(Uri.IsHexDigit)) return Fail($"'{shortSha}' is not a commit, so {file} could not be read.");
        var mirror = git.MirrorPath(project.Id);
        if (!await HasCommitAsync(mirror, sha, ct))
        {
            // A pull request's head is not a branch of the repository: fetch it as the forge keeps it.
            if (pullRequest is { } number)
                await git.ReadAsync(mirror, ct, "fetch", "--quiet", "--", project.GitUrl, $"+refs/pull/{number}/head:refs/kaizen/pull/{number}");
            else
                await git.SyncAsync(project.Id, project.GitUrl, ct);
            if (!await HasCommitAsync(mirror, sha, ct))
                return Fail($"The commit {shortSha} could not be read from the repository, so {file} could not be read.");
        }
        var size = await git.ReadAsync(mirror, ct, "cat-file", "-s", $"{sha}:{file}");
        if (!size.Ok)
            return Fail($"There is no {file} at commit {shortSha}. This project keeps its build settings in the repository: " +
                $"add {file} at the root (export the settings as YAML for a start) or keep the settings in the portal.");
        if (long.TryParse(size.Value!.Trim(), out var bytes) && bytes > MaxFileBytes)
            return Fail($"{file} at commit {shortSha} is larger than 1 MB; build settings are much smaller.");
        var text = await git.ReadAsync(mirror, ct, "cat-file", "blob", $"{sha}:{file}");
        if (!text.Ok) return Fail($"{file} at commit {shortSha} could not be read: {text.Error}");

        var (settings, errors) = BuildSettingsYaml.FromYaml(text.Value!);
        if (settings is null) return new RepositorySettingsRead(null, text.Value, errors);
        var invalid = settings.Validate();
        if (invalid.Count == 0) invalid = await scripts.CheckSettingsAsync(settings, ct);
        if (invalid.Count == 0 && !settings.HasJobs) invalid = [$"{file} has no jobs: add at least one job with commands."];
        return invalid.Count > 0
            ? new RepositorySettingsRead(null, text.Value, invalid)
            : new RepositorySettingsRead(settings with { Jobs = settings.Jobs.Select(j => j with { Name = j.Name.Trim() }).ToList() },
                text.Value, []);
    }

    /// <summary>The file of the default branch's head as it is now (for the settings page), or why there is none.</summary>
    public async Task<RepositorySettingsRead> ReadDefaultBranchAsync(ProjectRow project, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(project);
        var head = await git.ReadAsync(git.MirrorPath(project.Id), ct, "rev-parse", "--verify", "--quiet", $"refs/heads/{project.DefaultBranch}^{{commit}}");
        return head.Ok ? await ReadAsync(project, head.Value!.Trim(), null, ct)
            : Fail($"The default branch {project.DefaultBranch} has not been read from the repository yet.");
    }

    /// <summary>A web page to edit the file, for repositories on GitHub-like hosts (https or git@ URLs); null otherwise.</summary>
    public static string? EditUrl(ProjectRow project)
    {
        ArgumentNullException.ThrowIfNull(project);
        var url = project.GitUrl.Trim();
        string? web = null;
        if (url.StartsWith("git@", StringComparison.Ordinal) && url.IndexOf(':') is var colon and > 4)
            web = $"https://{url[4..colon]}/{url[(colon + 1)..]}";
        else if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http")
            web = $"{uri.Scheme}://{uri.Host}{(uri.IsDefaultPort ? "" : $":{uri.Port}")}{uri.AbsolutePath}";
        if (web is null) return null;
        if (web.EndsWith(".git", StringComparison.Ordinal)) web = web[..^4];
        return $"{web.TrimEnd('/')}/edit/{project.DefaultBranch}/{SettingsLocations.FileName}";
    }

    private async Task<bool> HasCommitAsync(string mirror, string sha, CancellationToken ct) =>
        Directory.Exists(mirror) && (await git.ReadAsync(mirror, ct, "cat-file", "-e", $"{sha}^{{commit}}")).Ok;

    private static RepositorySettingsRead Fail(string error) => new(null, null, [error]);
}
