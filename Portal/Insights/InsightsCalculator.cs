using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Insights;

/// <summary>
/// The insights' figures, computed from the rows <see cref="InsightsStore"/> reads. Definitions (also in the API's
/// description and the README):
/// <list type="bullet">
/// <item>Window: the last N UTC days including today, from the start of the oldest day to now. A build belongs to the
/// window, and to a day, by when it was requested (queued_at, UTC); a deploy by when it finished.</item>
/// <item>Build duration: from the build's start (its first job claimed by a runner) to its end, of passed and failed
/// builds. Canceled builds are excluded: their duration says when someone stopped them.</item>
/// <item>Queue time: from the build's request to the first of its own jobs starting (claimed by a runner); builds none of
/// whose jobs ever started have none.</item>
/// <item>Pass rate: passed ÷ (passed + failed); canceled builds are excluded; null with neither.</item>
/// <item>Slowest commands: the finished (passed or failed) commands of the newest B builds of the window, grouped by job,
/// phase and command text, slowest median first. Their trend compares the median over the older ⌊n/2⌋ of those builds
/// with the median over the newer rest. A command its job no longer has (edited or removed: see
/// <see cref="RetiredCommands"/>) is listed apart, and a command the team hid is left out.</item>
/// <item>Slowest scripts: the sections of shared scripts (<c>run-script NAME[@VERSION] ...</c>) grouped by NAME, whatever the
/// version and job, each with its slowest steps; a script's steps are not listed among the commands.</item>
/// <item>Time to production: for each passed deploy to the production server, from the deployed build's request (what
/// a merge triggers, so waiting for a runner counts) to the deploy's end; a rollback (an older build put back) counts
/// from its own request, since its build was made long before; the target is five minutes.</item>
/// </list>
/// Percentiles: <see cref="Percentiles"/>.
/// </summary>
public static class InsightsCalculator
{
    /// <summary>Five minutes from merge to production.</summary>
    public const long ProductionTargetMs = 5 * 60 * 1000;

    /// <summary>The names that make a server the production server, in order of preference (case-insensitive).</summary>
    public static IReadOnlyList<string> ProductionNames { get; } = ["production", "prod"];

    private const string RunScript = "run-script";

    public static (DateTimeOffset From, DateTimeOffset To) Window(DateTimeOffset now, int days)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return (today.AddDays(-(days - 1)), now.ToUniversalTime());
    }

    public static DateOnly Day(long unixMs) => DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime);

    public static BuildFigures Figures(IEnumerable<BuildSample> builds)
    {
        ArgumentNullException.ThrowIfNull(builds);
        int count = 0, passed = 0, failed = 0, canceled = 0;
        var durations = new List<long>();
        var queues = new List<long>();
        foreach (var b in builds)
        {
            count++;
            if (b.Status == Status.Passed) passed++;
            else if (b.Status == Status.Failed) failed++;
            else if (b.Status == Status.Canceled) canceled++;
            if (b.Status is Status.Passed or Status.Failed && b.StartedAt is { } s && b.FinishedAt is { } f)
                durations.Add(Math.Max(0, f - s));
            if (b.FirstJobStartedAt is { } first) queues.Add(Math.Max(0, first - b.QueuedAt));
        }
        var (medianDuration, p90Duration) = Percentiles.MedianAndP90(durations);
        var (medianQueue, p90Queue) = Percentiles.MedianAndP90(queues);
        return new BuildFigures(count, passed, failed, canceled,
            passed + failed == 0 ? null : (double)passed / (passed + failed),
            medianDuration, p90Duration, medianQueue, p90Queue);
    }

    /// <summary>Each branch with builds in the window (the default branch first, then by builds, most first), with its figures
    /// for each UTC day that has builds, oldest first (days without builds are left out: a year of pull request branches
    /// would otherwise be mostly empty days).</summary>
    public static IReadOnlyList<BranchTrend> Branches(IReadOnlyList<BuildSample> builds, string defaultBranch)
    {
        ArgumentNullException.ThrowIfNull(builds);
        return builds.GroupBy(b => b.Branch, StringComparer.Ordinal)
            .OrderByDescending(g => g.Key == defaultBranch)
            .ThenByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new BranchTrend(g.Key, Figures(g),
                g.GroupBy(b => Day(b.QueuedAt)).OrderBy(d => d.Key).Select(d => new DayFigures(d.Key, Figures(d))).ToList()))
            .ToList();
    }

    /// <summary>The newest <paramref name="limit"/> builds (ids), oldest first: the builds whose commands are measured.</summary>
    public static IReadOnlyList<long> CommandBuilds(IEnumerable<BuildSample> builds, int limit) =>
        builds.Select(b => b.Id).OrderDescending().Take(limit).Order().ToList();

    public static SlowestFigures SlowestCommands(IReadOnlyList<CommandSample> commands, IReadOnlyList<long> buildIds, int top,
        IReadOnlyCollection<CommandKey>? hidden = null)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(buildIds);
        // The older half are the first ⌊n/2⌋ builds; rows of builds outside the set (requested since it was read) are ignored.
        var half = new Dictionary<long, bool>();
        for (var i = 0; i < buildIds.Count; i++) half[buildIds[i]] = i < buildIds.Count / 2;
        var inSet = commands.Where(c => half.ContainsKey(c.BuildId)).ToList();
        var measured = inSet.Where(c => c.Finished).ToList();
        // The commands of the settings; a script's steps are listed under their script. Builds from before the library
        // recorded no script name, so a run-script command's text names it.
        var rows = measured.Where(c => c.ParentIdx is null).ToList();
        var steps = measured.Where(c => c.ParentIdx is not null && c.Script is not null).ToLookup(c => c.Script!, StringComparer.Ordinal);
        var retired = RetiredCommands(inSet.Where(c => c.ParentIdx is null));
        var hide = new HashSet<CommandKey>(hidden ?? []);

        var grouped = rows.GroupBy(c => new CommandKey(c.Job, c.Phase, c.Text))
            .Where(g => !hide.Contains(g.Key))
            .Select(g =>
            {
                var (median, p90) = Percentiles.MedianAndP90(g.Select(c => c.DurationMs));
                return new SlowCommand(g.Key.Job, g.Key.Phase, g.Key.Command, g.First().Script ?? ScriptName(g.Key.Command), g.Count(),
                    median!.Value, p90!.Value, g.Sum(c => c.DurationMs), TrendOf(g, half), g.Max(c => c.BuildId));
            })
            .OrderByDescending(c => c.MedianMs).ThenByDescending(c => c.P90Ms).ThenByDescending(c => c.TotalMs)
            .ThenBy(c => c.Job, StringComparer.Ordinal).ThenBy(c => c.Command, StringComparer.Ordinal)
            .ToList();
        var slowest = grouped.Where(c => !retired.Contains(c.Key)).Take(top).ToList();
        var gone = grouped.Where(c => retired.Contains(c.Key)).Take(top).ToList();

        var scripts = rows.Select(c => (Row: c, Script: c.Script ?? ScriptName(c.Text)))
            .Where(x => x.Script is not null)
            .GroupBy(x => x.Script!, StringComparer.Ordinal)
            .Select(g =>
            {
                var (median, p90) = Percentiles.MedianAndP90(g.Select(x => x.Row.DurationMs));
                return new SlowScript(g.Key, g.Count(), median!.Value, p90!.Value, g.Sum(x => x.Row.DurationMs),
                    g.Select(x => x.Row.Job).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
                    TrendOf(g.Select(x => x.Row), half), StepsOf(steps[g.Key]));
            })
            .OrderByDescending(s => s.MedianMs).ThenByDescending(s => s.P90Ms).ThenBy(s => s.Script, StringComparer.Ordinal)
            .Take(top)
            .ToList();
        return new SlowestFigures(slowest, scripts, gone);
    }

    /// <summary>
    /// Commands a job no longer has: on every branch where the command ran, a newer build of its job (in the measured
    /// builds) ran without it, finished or not. An edited command is such a command, and its new text is a new row, so
    /// the old text's figures stop topping the list. Branches are looked at on their own: a branch whose pipeline
    /// differs (settings kept in the repository) retires nothing on the others.
    /// </summary>
    public static IReadOnlySet<CommandKey> RetiredCommands(IEnumerable<CommandSample> commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var list = commands.ToList();
        var newestOfJob = list.GroupBy(c => (c.Job, c.Branch)).ToDictionary(g => g.Key, g => g.Max(c => c.BuildId));
        return list.GroupBy(c => new CommandKey(c.Job, c.Phase, c.Text))
            .Where(g => g.GroupBy(c => c.Branch, StringComparer.Ordinal)
                .All(b => newestOfJob[(g.Key.Job, b.Key)] > b.Max(c => c.BuildId)))
            .Select(g => g.Key)
            .ToHashSet();
    }

    /// <summary>The slowest ten steps of a script, slowest median first.</summary>
    private static IReadOnlyList<ScriptStep> StepsOf(IEnumerable<CommandSample> steps) => steps
        .GroupBy(c => c.Text, StringComparer.Ordinal)
        .Select(g =>
        {
            var (median, p90) = Percentiles.MedianAndP90(g.Select(c => c.DurationMs));
            return new ScriptStep(g.Key, g.Count(), median!.Value, p90!.Value, g.Sum(c => c.DurationMs));
        })
        .OrderByDescending(s => s.MedianMs).ThenByDescending(s => s.P90Ms).ThenBy(s => s.Command, StringComparer.Ordinal)
        .Take(10)
        .ToList();

    private static Trend TrendOf(IEnumerable<CommandSample> rows, IReadOnlyDictionary<long, bool> older)
    {
        var list = rows.ToList();
        var earlier = Percentiles.Of(list.Where(c => older[c.BuildId]).Select(c => c.DurationMs), Percentiles.Median);
        var later = Percentiles.Of(list.Where(c => !older[c.BuildId]).Select(c => c.DurationMs), Percentiles.Median);
        double? change = earlier is > 0 && later is { } l ? Math.Round((l - earlier.Value) * 100.0 / earlier.Value, 1) : null;
        return new Trend(earlier, later, change);
    }

    /// <summary>The script a command runs: NAME of <c>run-script NAME[@VERSION] [ARGS...]</c>, else null.</summary>
    public static string? ScriptName(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parts = command.Trim().Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || parts[0] != RunScript) return null;
        var at = parts[1].IndexOf('@');
        var name = at < 0 ? parts[1] : parts[1][..at];
        return name.Length == 0 ? null : name;
    }

    /// <summary>The production server among <paramref name="servers"/>: the one <paramref name="requested"/> names, else the
    /// one named production, else prod (case-insensitive); null when there is none. Returns the server's own spelling.</summary>
    public static string? ProductionServer(IEnumerable<string> servers, string? requested)
    {
        var names = servers.ToList();
        if (!string.IsNullOrWhiteSpace(requested))
            return names.FirstOrDefault(n => string.Equals(n, requested.Trim(), StringComparison.OrdinalIgnoreCase));
        return ProductionNames.Select(p => names.FirstOrDefault(n => string.Equals(n, p, StringComparison.OrdinalIgnoreCase)))
            .FirstOrDefault(n => n is not null);
    }

    /// <summary>Time to production of one project from its servers and deploys (<see cref="InsightsStore.DeploysAsync"/>).</summary>
    public static TimeToProduction Production(IReadOnlyList<DeploySample> rows, string? requested)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var servers = rows.Select(r => r.Server).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
        var server = ProductionServer(servers, requested);
        var items = rows
            .Where(r => server is not null && string.Equals(r.Server, server, StringComparison.OrdinalIgnoreCase))
            .Where(r => r.DeployId is not null && r.FinishedAt is not null && r.BuildQueuedAt is not null)
            .Select(r =>
            {
                var from = r.TriggerKind == Delivery.DeployTrigger.Rollback && r.RequestedAt is { } asked ? asked : r.BuildQueuedAt!.Value;
                var duration = Math.Max(0, r.FinishedAt!.Value - from);
                return new ProductionDeploy(r.DeployId!.Value, r.BuildId ?? 0, r.Branch ?? "", r.CommitSha ?? "",
                    DateTimeOffset.FromUnixTimeMilliseconds(from), DateTimeOffset.FromUnixTimeMilliseconds(r.FinishedAt.Value),
                    duration, duration <= ProductionTargetMs);
            })
            .OrderBy(d => d.DeployFinishedAt).ThenBy(d => d.DeployId)
            .ToList();
        var (median, p90) = Percentiles.MedianAndP90(items.Select(d => d.DurationMs));
        return new TimeToProduction(server, servers, ProductionTargetMs, items.Count, items.Count(d => d.WithinTarget), median, p90, items);
    }

    public static ProductionSummary Summary(TimeToProduction production) => new(production.Server, production.TargetMs,
        production.Deploys, production.WithinTarget, production.MedianMs, production.P90Ms);
}
