using Dapper;
using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Builds;

/// <summary>
/// Finds what conditions (<see cref="WhenSettings"/>) are decided on, with real git in the project's mirror: the tags
/// that point at the commit (asked of the repository), and the files changed since the previous build of the branch, or
/// else since the merge base with the default branch. Asks git only when the settings have a condition that needs it.
/// </summary>
public sealed class BuildFactsReader(GitMirror git, Data.Database db, ILogger<BuildFactsReader> logger)
{
    public async Task<BuildFacts> ReadAsync(ProjectRow project, BuildSettings settings, string branch, string sha, bool pullRequest,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(settings);
        var conditions = Conditions(settings).ToList();
        var facts = BuildFacts.Of(branch, pullRequest);
        if (conditions.Count == 0) return facts;
        var mirror = git.MirrorPath(project.Id);
        if (conditions.Any(w => w.Tag is not null))
        {
            var tags = await git.ReadAsync(mirror, ct, "ls-remote", "--tags", "--", project.GitUrl);
            if (tags.Value is { } lines)
            {
                facts = facts with
                {
                    Tags = lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t'))
                        .Where(f => f.Length == 2 && f[0] == sha && f[1].StartsWith("refs/tags/", StringComparison.Ordinal))
                        .Select(f => f[1]["refs/tags/".Length..].Replace("^{}", "", StringComparison.Ordinal)).Distinct().ToList(),
                };
            }
            else logger.LogWarning("Tags of project {Project} could not be read: {Error}", project.Slug, tags.Error);
        }
        if (conditions.Any(w => w.Changed is not null))
        {
            var (since, files) = await ChangedAsync(project, mirror, branch, sha, ct);
            facts = facts with { ChangedFiles = files, ComparedWith = since };
        }
        return facts;
    }

    private static IEnumerable<WhenSettings> Conditions(BuildSettings settings) =>
        (settings.Blocks ?? []).Select(b => b.When).Concat(Pipeline.AllJobs(settings).Select(j => j.Job?.When)).OfType<WhenSettings>();

    private async Task<(string? Since, IReadOnlyList<string>? Files)> ChangedAsync(ProjectRow project, string mirror, string branch,
        string sha, CancellationToken ct)
    {
        if ((await git.ReadAsync(mirror, ct, "cat-file", "-e", $"{sha}^{{commit}}")).Error is not null) return (null, null);
        string? since = null;
        await using (var c = await db.OpenAsync(ct))
        {
            var previous = await c.QueryFirstOrDefaultAsync<string>(
                "SELECT commit_sha FROM builds WHERE project_id = @ProjectId AND branch = @Branch AND commit_sha <> @Sha ORDER BY id DESC",
                new { ProjectId = project.Id, Branch = branch, Sha = sha });
            if (previous is not null && (await git.ReadAsync(mirror, ct, "cat-file", "-e", $"{previous}^{{commit}}")).Error is null)
                since = previous;
        }
        if (since is null && branch != project.DefaultBranch)
        {
            var mergeBase = await git.ReadAsync(mirror, ct, "merge-base", $"refs/heads/{project.DefaultBranch}", sha);
            if (mergeBase.Value is { } found && found.Trim().Length > 0) since = found.Trim();
        }
        // A first build of the default branch has nothing to compare with: unknown, so changed terms hold.
        if (since is null) return (null, null);
        var diff = await git.ReadAsync(mirror, ct, "diff", "--name-only", "--no-renames", "-z", since, sha, "--");
        if (diff.Value is not { } names) return (null, null);
        return (since[..Math.Min(12, since.Length)], names.Split('\0', StringSplitOptions.RemoveEmptyEntries));
    }
}
