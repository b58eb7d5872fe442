namespace Kaizen.Sdk;

/// <summary>Who a plugin is. <see cref="Id"/> is stable, lower-case, and matches its entry in plugins.json.</summary>
public sealed record PluginInfo(string Id, string Name, string Version, string Author, string Description = "");

/// <summary>The plugin's settings from plugins.json.</summary>
public sealed record PluginSettings(IReadOnlyDictionary<string, string> Values)
{
    public static PluginSettings Empty { get; } = new(new Dictionary<string, string>());

    public string? Get(string key) => Values.TryGetValue(key, out var value) ? value : null;

    public string Get(string key, string fallback) => Get(key) ?? fallback;
}

/// <summary>
/// A read-only view of a repository at one commit. Paths use '/' and are relative to the repository root.
/// </summary>
public interface IRepositoryView
{
    string CommitSha { get; }

    /// <summary>Every file of the commit (not directories).</summary>
    IReadOnlyList<string> Files { get; }

    bool Exists(string path);

    /// <summary>A text file's content; null when it is missing, binary, or larger than 1 MiB.</summary>
    string? ReadText(string path);
}

/// <summary>
/// One stack found in a repository. <see cref="Directory"/> is where it lives ("" for the root, "frontend" for a
/// sub-folder); <see cref="Facts"/> carries what the planner needs later (e.g. "toxenvs" = "py27,py36").
/// </summary>
/// <remarks>
/// A stack whose <see cref="Facts"/> has <c>"ownsDeploy" = "true"</c> (a Serverless service) deploys its folder as a
/// whole: the portal leaves out other stacks' deploy suggestions for the same folder.
/// </remarks>
public sealed record DetectedStack(
    string PluginId,
    string Stack,
    string Directory,
    string Summary,
    IReadOnlyDictionary<string, string>? Facts = null)
{
    public string? Fact(string name) => Facts is not null && Facts.TryGetValue(name, out var v) ? v : null;
}

public sealed record BuildPlanContext(IRepositoryView Repository, DetectedStack Stack);

/// <summary>
/// What a plugin suggests for a build. <see cref="Setup"/> runs at the start of every suggested job (after tools
/// and caches are in place); each of <see cref="Jobs"/> runs in parallel. Commands are plain bash run in one session
/// per job, starting in the repository root.
/// </summary>
public sealed record BuildPlan(
    IReadOnlyList<ToolSpec> Tools,
    IReadOnlyList<CacheSpec> Caches,
    IReadOnlyList<string> Setup,
    IReadOnlyList<JobSpec> Jobs)
{
    public static BuildPlan Empty { get; } = new([], [], [], []);

    /// <summary>
    /// What people should know before applying the plan, in plain words: a requirement that will need the package
    /// index, a version the repository pins that differs from the tool's. Shown beside the suggestion. A property
    /// rather than a constructor parameter so plugins built against an earlier Sdk keep loading.
    /// </summary>
    public IReadOnlyList<string>? Notes { get; init; }
}

/// <summary>A suggested parallel job. <see cref="TestReports"/> are JUnit XML globs the job writes, if any.</summary>
public sealed record JobSpec(string Name, IReadOnlyList<string> Commands, IReadOnlyList<string>? TestReports = null)
{
    /// <summary>
    /// Cobertura XML globs the job writes (coverage.py, jest, coverlet), if any. A property rather than a constructor
    /// parameter so plugins built against an earlier Sdk keep loading.
    /// </summary>
    public IReadOnlyList<string>? Coverage { get; init; }
}

/// <summary>
/// A dependency cache kept by the runner. Its key is <c>{Name}-{checksum of KeyFiles}</c>, so a change of e.g.
/// <c>yarn.lock</c> makes a new entry; when the exact key is missing the newest entry starting with
/// <c>{Name}-</c> is restored (the fallback). <see cref="Paths"/> are saved after a passing job and restored before
/// the job's commands. Paths and key files are relative to the repository root.
/// </summary>
public sealed record CacheSpec(string Name, IReadOnlyList<string> KeyFiles, IReadOnlyList<string> Paths)
{
    /// <summary>
    /// True when the plan's <see cref="BuildPlan.Setup"/> fills the paths (an install): the cache is stored right after
    /// the setup, so a job whose tests then fail still keeps its install for the next build. False (the default, as
    /// for plugins built against an earlier Sdk): the job's own commands fill it (a Gradle build downloading as it
    /// compiles), so it is stored after them, when they passed.
    /// </summary>
    public bool StoreAfterSetup { get; init; }
}

/// <summary>
/// A tool installed once per runner and reused by every later job, e.g. the Serverless Framework. The install
/// commands run with <c>$KAIZEN_TOOL_PREFIX</c> set to the tool's own empty folder; <see cref="PathEntries"/> are
/// folders under it that go on <c>PATH</c> (e.g. "node_modules/.bin").
/// </summary>
public sealed record ToolSpec(string Name, string Version, IReadOnlyList<string> Install, IReadOnlyList<string> PathEntries);

/// <summary>
/// Planning a deploy of a detected stack to a server. <see cref="Variables"/> are the names (never the values) of
/// the variables and secrets the server's environment defines.
/// </summary>
public sealed record DeployPlanContext(
    IRepositoryView Repository,
    DetectedStack Stack,
    string Server,
    IReadOnlyCollection<string> Variables);

/// <summary>
/// What a deploy runs. <see cref="RequiredVariables"/> names the variables the commands expect (e.g.
/// AWS_ACCESS_KEY_ID); the portal warns when a server does not define them.
/// </summary>
public sealed record DeployPlan(
    IReadOnlyList<string> Commands,
    IReadOnlyList<string> RequiredVariables,
    IReadOnlyList<ToolSpec>? Tools = null);
