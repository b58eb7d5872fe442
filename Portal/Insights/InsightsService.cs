using System.Globalization;
using Kaizen.Portal.Api;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Insights;

/// <summary>What to compute: the window in days, how many of its newest builds the command figures come from, and which
/// server counts as production (null: the one named production, else prod).</summary>
public sealed record InsightsQuery(int Days = InsightsService.DefaultDays, int Builds = InsightsService.DefaultBuilds, string? Server = null);

/// <summary>
/// Per-project and cross-project timing insights (see <see cref="InsightsCalculator"/> for what each figure means).
/// Callers decide who may read what: <c>withDelivery</c> is false for visitors, who never see servers or deploys.
/// </summary>
public sealed class InsightsService(InsightsStore store, HiddenCommands hiddenCommands, TimeProvider time)
{
    public const int DefaultDays = 30;
    public const int MaxDays = 365;
    public const int DefaultBuilds = 100;
    public const int MaxBuilds = 1000;

    /// <summary>How many commands and scripts are listed.</summary>
    public const int Top = 20;

    /// <summary>Reads <c>?days=</c>, <c>?builds=</c> and <c>?server=</c>; a bad value is a problem saying what is allowed.</summary>
    public static Outcome<InsightsQuery> Parse(string? days, string? builds, string? server)
    {
        if (!TryRange(days, DefaultDays, MaxDays, out var d))
            return Outcome<InsightsQuery>.Fail(Problem.Invalid, $"days must be a whole number from 1 to {MaxDays} (default {DefaultDays}); got '{days}'.");
        if (!TryRange(builds, DefaultBuilds, MaxBuilds, out var b))
            return Outcome<InsightsQuery>.Fail(Problem.Invalid, $"builds must be a whole number from 1 to {MaxBuilds} (default {DefaultBuilds}); got '{builds}'.");
        return Outcome<InsightsQuery>.Of(new InsightsQuery(d, b, string.IsNullOrWhiteSpace(server) ? null : server.Trim()));
    }

    private static bool TryRange(string? text, int fallback, int max, out int value)
    {
        if (text is null)
        {
            value = fallback;
            return true;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1 && value <= max;
    }

    /// <summary>A project's insights; a <see cref="InsightsQuery.Server"/> the project does not have is not found.</summary>
    public async Task<Outcome<ProjectInsights>> ProjectAsync(ProjectRow project, InsightsQuery query, bool withDelivery,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(query);
        var (from, to) = InsightsCalculator.Window(time.GetUtcNow(), query.Days);
        long fromMs = from.ToUnixTimeMilliseconds(), toMs = to.ToUnixTimeMilliseconds();

        var builds = await store.BuildsAsync(project.Id, fromMs, toMs, ct);
        var commandBuilds = InsightsCalculator.CommandBuilds(builds, query.Builds);
        var commands = commandBuilds.Count == 0 ? [] : await store.CommandsAsync(project.Id, fromMs, toMs, query.Builds, ct);
        var hidden = await hiddenCommands.ListAsync(project.Id, ct);
        var figures = InsightsCalculator.SlowestCommands(commands, commandBuilds, Top,
            hidden.Select(h => new CommandKey(h.Job, h.Phase, h.Command)).ToList());

        TimeToProduction? production = null;
        if (withDelivery)
        {
            production = InsightsCalculator.Production(await store.DeploysAsync(project.Id, fromMs, toMs, ct), query.Server);
            if (query.Server is not null && production.Server is null)
                return Outcome<ProjectInsights>.Fail(Problem.NotFound,
                    $"Project '{project.Slug}' has no server '{query.Server}'" +
                    (production.Servers.Count == 0 ? "; it has no servers." : $"; its servers are {string.Join(", ", production.Servers)}."));
        }

        return Outcome<ProjectInsights>.Of(new ProjectInsights(
            project.Slug, project.Name, project.DefaultBranch, query.Days, from, to,
            InsightsCalculator.Figures(builds),
            InsightsCalculator.Branches(builds, project.DefaultBranch),
            new CommandWindow(query.Builds, commandBuilds.Count, commandBuilds.Count == 0 ? null : commandBuilds[0],
                commandBuilds.Count == 0 ? null : commandBuilds[^1]),
            figures.Commands, figures.Scripts, production)
        {
            RetiredCommands = figures.Retired,
            // Who hid a row is for the team; visitors of a public project see what is hidden, not by whom.
            HiddenCommands = withDelivery ? hidden : hidden.Select(h => h with { HiddenBy = null }).ToList(),
        });
    }

    /// <summary>The figures of every project in <paramref name="projects"/> (the ones the caller may read), by name.</summary>
    public async Task<InsightsOverview> OverviewAsync(IReadOnlyList<ProjectRow> projects, int days, bool withDelivery,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(projects);
        var (from, to) = InsightsCalculator.Window(time.GetUtcNow(), days);
        long fromMs = from.ToUnixTimeMilliseconds(), toMs = to.ToUnixTimeMilliseconds();
        var ids = projects.Select(p => p.Id).ToList();
        var builds = (await store.BuildsAsync(ids, fromMs, toMs, ct)).ToLookup(b => b.ProjectId);
        var deploys = withDelivery ? (await store.ProductionDeploysAsync(ids, fromMs, toMs, ct)).ToLookup(d => d.ProjectId) : null;
        var rows = projects
            .OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase).ThenBy(p => p.Slug, StringComparer.Ordinal)
            .Select(p => new ProjectOverview(p.Slug, p.Name, p.IsPublic, InsightsCalculator.Figures(builds[p.Id]),
                deploys is null ? null : InsightsCalculator.Summary(InsightsCalculator.Production(deploys[p.Id].ToList(), null))))
            .ToList();
        return new InsightsOverview(days, from, to, rows);
    }
}
