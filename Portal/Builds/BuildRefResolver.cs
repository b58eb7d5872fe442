using System.Text.RegularExpressions;
using Kaizen.Portal.Api;
using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Builds;

/// <summary>A branch, tag or commit resolved in the project's repository. <see cref="Branch"/>: the name the build is
/// filed under (the branch; the tag; for a commit, a branch that holds it, the default branch first).</summary>
public sealed record ResolvedRef(string Kind, string Name, string Branch, string Sha, string Message, string Author);

/// <summary>
/// Resolves what a person typed in Run build… (or sent as <c>ref</c>) with real git in the project's mirror, fetched
/// first so a branch or tag pushed a moment ago is found: a branch name, a tag name (<c>refs/heads/…</c> and
/// <c>refs/tags/…</c> say which when a name is both), or a commit id, full or abbreviated (at least 7 characters).
/// Errors name the ref and never a server path or git's own words.
/// </summary>
public sealed partial class BuildRefResolver(GitMirror git, ProjectService projects)
{
    public const int MaxLength = 255;

    public async Task<Outcome<ResolvedRef>> ResolveAsync(ProjectRow project, string? reference, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(project);
        var name = reference?.Trim() ?? "";
        if (name.Length == 0) return Invalid("ref: give a branch, a tag or a commit id.");
        if (name.Length > MaxLength) return Invalid($"ref: at most {MaxLength} characters.");
        if (name.StartsWith('-') || name.Any(char.IsControl) || name.Contains("..", StringComparison.Ordinal) || name.Contains('\\')
            || name.Any(c => c is ' ' or '~' or '^' or ':' or '?' or '*' or '['))
            return Invalid($"ref: '{ApiEndpoints.Truncated(name)}' is not a branch, tag or commit name.");

        // Fetch heads (the Branches list learns of new branches too) and tags; a repository that cannot be read says why.
        var refreshed = await projects.RefreshBranchesAsync(project.Id, project.GitUrl, ct);
        if (!refreshed.Ok) return Outcome<ResolvedRef>.Fail(Problem.Invalid, refreshed.Message!);
        var tags = await git.FetchTagsAsync(project.Id, project.GitUrl, ct);
        if (!tags.Ok) return Outcome<ResolvedRef>.Fail(Problem.Invalid, tags.Error!);
        var mirror = git.MirrorPath(project.Id);

        var onlyBranch = name.StartsWith("refs/heads/", StringComparison.Ordinal);
        var onlyTag = name.StartsWith("refs/tags/", StringComparison.Ordinal);
        var shortName = onlyBranch ? name["refs/heads/".Length..] : onlyTag ? name["refs/tags/".Length..] : name;
        if (!onlyTag && refreshed.Value!.FirstOrDefault(b => b.Name == shortName) is { } branch)
            return Outcome<ResolvedRef>.Of(new ResolvedRef(RefKinds.Branch, branch.Name, branch.Name, branch.HeadSha, branch.HeadMessage, branch.HeadAuthor));
        if (!onlyBranch && await ShaOfAsync(mirror, $"refs/tags/{shortName}", ct) is { } tagged)
            return await DescribedAsync(mirror, RefKinds.Tag, shortName, shortName, tagged, ct);
        if (!onlyBranch && !onlyTag && CommitId().IsMatch(name))
        {
            var matches = await git.ReadAsync(mirror, ct, "rev-parse", $"--disambiguate={name.ToLowerInvariant()}");
            var commits = new List<string>();
            foreach (var candidate in (matches.Value ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
                if (await ShaOfAsync(mirror, candidate, ct) is { } sha && sha == candidate && !commits.Contains(sha)) commits.Add(sha);
            if (commits.Count > 1)
                return Invalid($"ref: commit id '{name}' is ambiguous in the repository ({commits.Count} commits start with it); give more characters.");
            if (commits.Count == 1)
            {
                var holder = await BranchHoldingAsync(mirror, project.DefaultBranch, commits[0], ct);
                if (holder is null)
                    return Invalid($"ref: commit {commits[0][..12]} is on no branch or tag of the repository, so it is not built.");
                return await DescribedAsync(mirror, RefKinds.Commit, commits[0], holder, commits[0], ct);
            }
        }
        var kinds = onlyBranch ? "branch" : onlyTag ? "tag" : "branch, tag or commit";
        return Invalid($"ref: there is no {kinds} '{ApiEndpoints.Truncated(name)}' in the project's repository" +
            (onlyBranch || onlyTag ? "." : " (a commit id needs at least 7 characters, and the commit must have been pushed)."));
    }

    /// <summary>The repository's tags, newest first (at most <paramref name="limit"/>), fetched into the mirror first; empty
    /// when the repository cannot be read (Run build… then still takes a typed name).</summary>
    public async Task<IReadOnlyList<string>> TagsAsync(ProjectRow project, CancellationToken ct, int limit = 100)
    {
        ArgumentNullException.ThrowIfNull(project);
        if (!Directory.Exists(git.MirrorPath(project.Id)) && !(await projects.RefreshBranchesAsync(project.Id, project.GitUrl, ct)).Ok) return [];
        if (!(await git.FetchTagsAsync(project.Id, project.GitUrl, ct)).Ok) return [];
        var read = await git.ReadAsync(git.MirrorPath(project.Id), ct, "for-each-ref", "--sort=-creatordate", $"--count={limit}",
            "--format=%(refname:lstrip=2)", "refs/tags");
        return (read.Value ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static Outcome<ResolvedRef> Invalid(string message) => Outcome<ResolvedRef>.Fail(Problem.Invalid, message);

    /// <summary>The commit <paramref name="rev"/> names, or null.</summary>
    private async Task<string?> ShaOfAsync(string mirror, string rev, CancellationToken ct)
    {
        var read = await git.ReadAsync(mirror, ct, "rev-parse", "--verify", "--quiet", "--end-of-options", $"{rev}^{{commit}}");
        return read.Value?.Trim() is { Length: >= 40 } sha ? sha : null;
    }

    /// <summary>A branch that holds <paramref name="sha"/> (the default branch when it does), else a tag that does; null when none.</summary>
    private async Task<string?> BranchHoldingAsync(string mirror, string defaultBranch, string sha, CancellationToken ct)
    {
        var branches = await git.ReadAsync(mirror, ct, "for-each-ref", "--contains", sha, "--format=%(refname:lstrip=2)", "refs/heads");
        var names = (branches.Value ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (names.Contains(defaultBranch)) return defaultBranch;
        if (names.Length > 0) return names[0];
        var tags = await git.ReadAsync(mirror, ct, "for-each-ref", "--contains", sha, "--format=%(refname:lstrip=2)", "refs/tags");
        return (tags.Value ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
    }

    private async Task<Outcome<ResolvedRef>> DescribedAsync(string mirror, string kind, string name, string branch, string sha,
        CancellationToken ct)
    {
        // %x00 separates fields: a subject may hold any other character.
        var log = await git.ReadAsync(mirror, ct, "log", "-1", "--format=%an <%ae>%x00%s", sha, "--");
        var fields = (log.Value ?? "").TrimEnd('\n').Split('\0');
        return Outcome<ResolvedRef>.Of(new ResolvedRef(kind, name, branch, sha,
            fields.Length > 1 ? fields[1] : "", fields[0]));
    }

    [GeneratedRegex("^[0-9a-fA-F]{7,64}$")]
    private static partial Regex CommitId();
}
