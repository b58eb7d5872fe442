namespace Kaizen.Portal.Insights;

// What the insights API returns and the pages show. Durations are whole milliseconds; a figure with nothing to
// compute it from is null. The definitions are in InsightsCalculator and in the endpoints' descriptions.

/// <summary>A project's insights over the window <see cref="From"/> (the start of a UTC day) to <see cref="To"/> (now).</summary>
public sealed record ProjectInsights(
    string Project,
    string Name,
    string DefaultBranch,
    int Days,
    DateTimeOffset From,
    DateTimeOffset To,
    BuildFigures Summary,
    IReadOnlyList<BranchTrend> Branches,
    CommandWindow Commands,
    IReadOnlyList<SlowCommand> SlowestCommands,
    IReadOnlyList<SlowScript> SlowestScripts,
    TimeToProduction? TimeToProduction)
{
    /// <summary>Commands of the measured builds that their job no longer runs (edited or removed), slowest first: their
    /// old figures are kept apart from <see cref="SlowestCommands"/>.</summary>
    public IReadOnlyList<SlowCommand> RetiredCommands { get; init; } = [];

    /// <summary>Commands the team hid from the insights, newest first; <see cref="HiddenCommand.HiddenBy"/> is only given to
    /// people signed in.</summary>
    public IReadOnlyList<HiddenCommand> HiddenCommands { get; init; } = [];
}

/// <summary>Figures of a set of builds (a day, a branch, a project). <see cref="Builds"/> counts every build requested,
/// also those still queued or running. Durations and pass rates count only passed and failed builds; canceled builds are
/// counted but excluded from both. Queue time counts every build one of whose jobs started.</summary>
public sealed record BuildFigures(
    int Builds,
    int Passed,
    int Failed,
    int Canceled,
    double? PassRate,
    long? MedianDurationMs,
    long? P90DurationMs,
    long? MedianQueueMs,
    long? P90QueueMs);

/// <summary>One UTC day of a branch's trend.</summary>
public sealed record DayFigures(DateOnly Day, BuildFigures Figures);

/// <summary>A branch's figures over the window and per UTC day with builds, oldest first.</summary>
public sealed record BranchTrend(string Branch, BuildFigures Summary, IReadOnlyList<DayFigures> Days);

/// <summary>Which builds the command figures come from: the newest <see cref="Builds"/> builds requested in the window
/// (at most <see cref="Limit"/>); the trend compares the older half of them with the newer half.</summary>
public sealed record CommandWindow(int Limit, int Builds, long? FirstBuildId, long? LastBuildId);

/// <summary>A command of the build settings as it ran in one job: grouped by job name and command text.</summary>
public sealed record SlowCommand(
    string Job,
    string Phase,
    string Command,
    string? Script,
    int Runs,
    long MedianMs,
    long P90Ms,
    long TotalMs,
    Trend Trend,
    long LastBuildId = 0)
{
    /// <summary>What identifies the row (and what hiding it names).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public CommandKey Key => new(Job, Phase, Command);
}

/// <summary>A command of a job as the insights group it: job name, phase (setup, main, …) and exact text.</summary>
public sealed record CommandKey(string Job, string Phase, string Command);

/// <summary>A command a team hid from its insights, who hid it and when.</summary>
public sealed record HiddenCommand(string Job, string Phase, string Command, string? HiddenBy, DateTimeOffset HiddenAt);

/// <summary>The command and script figures: the slowest commands the jobs still run, the slowest scripts, and the
/// commands no longer run.</summary>
public sealed record SlowestFigures(IReadOnlyList<SlowCommand> Commands, IReadOnlyList<SlowScript> Scripts, IReadOnlyList<SlowCommand> Retired);

/// <summary>A shared script (run with <c>run-script NAME[@VERSION]</c>), every use grouped by its name, with its slowest
/// steps (its top-level commands, each timed on its own).</summary>
public sealed record SlowScript(string Script, int Runs, long MedianMs, long P90Ms, long TotalMs, IReadOnlyList<string> Jobs, Trend Trend,
    IReadOnlyList<ScriptStep> Steps);

/// <summary>A top-level command of a shared script, grouped by its text over every run of the script.</summary>
public sealed record ScriptStep(string Command, int Runs, long MedianMs, long P90Ms, long TotalMs);

/// <summary>The median duration in the older and the newer half of the builds, and the change in percent (positive: slower).</summary>
public sealed record Trend(long? EarlierMedianMs, long? LaterMedianMs, double? ChangePercent);

/// <summary>Each passed deploy to the production server in the window, from its build's request (a rollback: its own
/// request) to the deploy's end; <see cref="ProductionDeploy.BuildRequestedAt"/> is where that time starts.</summary>
public sealed record TimeToProduction(
    string? Server,
    IReadOnlyList<string> Servers,
    long TargetMs,
    int Deploys,
    int WithinTarget,
    long? MedianMs,
    long? P90Ms,
    IReadOnlyList<ProductionDeploy> Items);

public sealed record ProductionDeploy(
    long DeployId,
    long BuildId,
    string Branch,
    string CommitSha,
    DateTimeOffset BuildRequestedAt,
    DateTimeOffset DeployFinishedAt,
    long DurationMs,
    bool WithinTarget);

/// <summary>Every project the caller may read, side by side, over the same window.</summary>
public sealed record InsightsOverview(int Days, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<ProjectOverview> Projects);

/// <summary>One project's figures over the window (all branches) and its time to production (null when the caller may not
/// see deploys).</summary>
public sealed record ProjectOverview(
    string Project,
    string Name,
    bool IsPublic,
    BuildFigures Figures,
    ProductionSummary? TimeToProduction);

/// <summary>Time to production in short: which server, how many deploys, their median and 90th percentile.</summary>
public sealed record ProductionSummary(string? Server, long TargetMs, int Deploys, int WithinTarget, long? MedianMs, long? P90Ms);
