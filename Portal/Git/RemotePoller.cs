using System.Collections.Concurrent;
using Dapper;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Data;
using Kaizen.Portal.Projects;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Git;

/// <summary>What one look at a project's remote found: branches that appeared and the builds started for new commits.</summary>
/// <param name="Filtered">Branches with a new head that the project's build filter does not build by themselves.</param>
public sealed record PollResult(IReadOnlyList<string> NewBranches, IReadOnlyList<long> StartedBuilds)
{
    public IReadOnlyList<string> Filtered { get; init; } = [];
}

/// <summary>
/// Reads every project's remote on a schedule (<c>Kaizen:Git:PollSeconds</c>, 60 by default; 0 turns it off), so a
/// push to a repository that sends no webhook still shows its branch and gets built: each branch whose head moved
/// since the last look (or that appeared) gets a build of its new head, unless that commit of that branch was built
/// already (a webhook got there first) or the project's build filter leaves the branch out. A remote that cannot be read is tried again later and later (doubling up to 30
/// minutes) and back on schedule once it answers. The Branches section's <b>Refresh</b> looks at once.
/// </summary>
public sealed class RemotePoller(ProjectStore projects, ProjectService projectService, BuildService builds, Database db,
    BuildFilters filters, IOptions<KaizenOptions> options, TimeProvider time, ILogger<RemotePoller> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(30);

    private readonly ConcurrentDictionary<long, Dictionary<string, string>> _seen = new();
    private readonly ConcurrentDictionary<long, (DateTimeOffset Due, int Failures)> _schedule = new();
    private readonly ConcurrentDictionary<long, SemaphoreSlim> _locks = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = options.Value.Git.PollSeconds;
        if (seconds <= 0) return;
        var interval = TimeSpan.FromSeconds(seconds);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(seconds / 4, 1, 15)), time);
        do
        {
            try
            {
                foreach (var project in await projects.ListAsync(stoppingToken))
                {
                    var now = time.GetUtcNow();
                    var (due, failures) = _schedule.GetOrAdd(project.Id, _ => (now, 0));
                    if (due > now) continue;
                    var polled = await PollAsync(project, stoppingToken);
                    failures = polled.Ok ? 0 : failures + 1;
                    var wait = polled.Ok ? interval : TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, interval.Ticks << Math.Min(failures, 10)));
                    _schedule[project.Id] = (time.GetUtcNow() + wait, failures);
                    if (!polled.Ok && failures is 1 or 5)
                        logger.LogWarning("Could not read the repository of {Project} ({Failures} tries): {Problem}; next try in {Wait}",
                            project.Slug, failures, polled.Message, wait);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Polling the projects' repositories failed; trying again at the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// Fetches <paramref name="project"/>'s remote, stores its branches and builds the new heads. One look per project
    /// at a time; the first look after the portal starts compares with the branches it had stored.
    /// </summary>
    public async Task<Outcome<PollResult>> PollAsync(ProjectRow project, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(project);
        var gate = _locks.GetOrAdd(project.Id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var before = _seen.TryGetValue(project.Id, out var seen)
                ? seen
                : (await projects.BranchesAsync(project.Id, ct)).ToDictionary(b => b.Name, b => b.HeadSha, StringComparer.Ordinal);
            var refreshed = await projectService.RefreshBranchesAsync(project.Id, project.GitUrl, ct);
            if (!refreshed.Ok) return Outcome<PollResult>.Fail(refreshed.Problem!.Value, refreshed.Message!);

            var heads = refreshed.Value!;
            var current = await projects.FindBySlugAsync(project.Slug, ct) ?? project;
            var newBranches = new List<string>();
            var started = new List<long>();
            var filtered = new List<string>();
            var filter = await filters.GetAsync(project.Id, ct);
            foreach (var head in heads)
            {
                var known = before.TryGetValue(head.Name, out var sha);
                if (!known) newBranches.Add(head.Name);
                if (known && sha == head.HeadSha) continue;
                // A project read for the first time has nothing to compare with: its branches are not "new commits".
                if (before.Count == 0) continue;
                if (!filter.Builds(head.Name))
                {
                    filtered.Add(head.Name);
                    continue;
                }
                if (await BuiltAsync(project.Id, head.Name, head.HeadSha, ct)) continue;
                var build = await builds.StartCommitAsync(current, new CommitBuildRequest(head.Name, head.HeadSha,
                    FirstLine(head.HeadMessage), head.HeadAuthor, Trigger.Poll, null), ct);
                if (build.Ok) started.Add(build.Value);
            }
            _seen[project.Id] = heads.ToDictionary(b => b.Name, b => b.HeadSha, StringComparer.Ordinal);
            return Outcome<PollResult>.Of(new PollResult(newBranches, started) { Filtered = filtered });
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Forgets what the last look at the project's remote saw (its repository moved, or the project is gone):
    /// the next look compares with the branches stored then.</summary>
    public void Forget(long projectId)
    {
        _seen.TryRemove(projectId, out _);
        _schedule.TryRemove(projectId, out _);
    }

    private async Task<bool> BuiltAsync(long projectId, string branch, string sha, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM builds WHERE project_id = @ProjectId AND branch = @Branch AND commit_sha = @Sha",
            new { ProjectId = projectId, Branch = branch, Sha = sha }, cancellationToken: ct)) > 0;
    }

    private static string FirstLine(string? message) => (message ?? "").Split('\n', 2)[0].Trim();
}
