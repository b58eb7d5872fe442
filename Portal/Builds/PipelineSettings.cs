using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Kaizen.Portal.Builds;

/// <summary>
/// A block: jobs that run in parallel once the blocks it depends on have passed. <see cref="Dependencies"/> null means
/// "the block written before this one" (the first block: none); an empty list means none (it starts with the build).
/// <see cref="Prologue"/> runs after the project's setup and before each job's own prologue; <see cref="Epilogue"/> after
/// each job's own epilogue and before the project's. <see cref="Env"/> is set in every job of the block (a job's own
/// variables win). <see cref="When"/>: the block runs only when it holds; otherwise all its jobs show as skipped with why.
/// </summary>
public sealed record BlockSettings(
    string Name,
    IReadOnlyList<JobSettings> Jobs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Dependencies = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Prologue = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Epilogue = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Env = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] WhenSettings? When = null);

/// <summary>One axis of a job's matrix: the variable <see cref="Name"/> takes each of <see cref="Values"/> in turn.</summary>
public sealed record MatrixAxis(string Name, IReadOnlyList<string> Values);

/// <summary>
/// When a block or job runs. Every term given must hold; a list holds when any of its patterns matches. Patterns are
/// globs: <c>*</c> any characters but <c>/</c>, <c>**</c> any characters, <c>?</c> one character.
/// <list type="bullet">
/// <item><see cref="Branch"/>: the build's branch (a pull request's build is of <c>pull/N</c>).</item>
/// <item><see cref="Tag"/>: a tag of the repository that points at the built commit.</item>
/// <item><see cref="PullRequest"/>: true: only builds of pull requests; false: never those.</item>
/// <item><see cref="Changed"/>: a path changed since the previous build of the branch (else since the merge base
/// with the default branch); a leading <c>/</c> is optional and a pattern ending in <c>/</c> means everything under it.
/// When the portal cannot tell what changed (a first build of the default branch, a commit it cannot read), it counts as
/// changed: work is never skipped on a guess.</item>
/// </list>
/// </summary>
public sealed record WhenSettings(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Branch = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Tag = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? PullRequest = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Changed = null)
{
    public bool IsEmpty => Branch is null && Tag is null && PullRequest is null && Changed is null;

    /// <summary>Whether the condition holds for <paramref name="facts"/>; when not, why (for "skipped: …").</summary>
    public (bool Holds, string? Why) Evaluate(BuildFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (Branch is { } branches && !branches.Any(p => Glob.Matches(p, facts.Branch)))
            return (false, $"branch {facts.Branch} does not match {Words(branches)}");
        if (Tag is { } tags && !facts.Tags.Any(t => tags.Any(p => Glob.Matches(p, t))))
            return (false, facts.Tags.Count == 0 ? $"the commit has no tag matching {Words(tags)}" : $"no tag of the commit matches {Words(tags)}");
        if (PullRequest is { } pr && pr != facts.PullRequest)
            return (false, pr ? "not a pull request" : "a pull request");
        if (Changed is { } paths && facts.ChangedFiles is { } changed && !changed.Any(f => paths.Any(p => Glob.MatchesPath(p, f))))
            return (false, $"no changed file matches {Words(paths)}{(facts.ComparedWith is { } since ? $" (compared with {since})" : "")}");
        return (true, null);
    }

    private static string Words(IReadOnlyList<string> patterns) => string.Join(" or ", patterns.Select(p => $"'{p}'"));
}

/// <summary>What conditions are decided on, found when a build is planned. <see cref="ChangedFiles"/> null: unknown
/// (every <c>changed</c> term holds). <see cref="ComparedWith"/>: the commit the changes are counted from, for the reason.</summary>
public sealed record BuildFacts(string Branch, bool PullRequest, IReadOnlyList<string> Tags, IReadOnlyList<string>? ChangedFiles,
    string? ComparedWith = null)
{
    /// <summary>Facts where nothing is known but the branch: every tag and path term is decided as documented.</summary>
    public static BuildFacts Of(string branch, bool pullRequest = false) => new(branch, pullRequest, [], null);
}

/// <summary>Glob patterns of conditions (see <see cref="WhenSettings"/>).</summary>
public static class Glob
{
    public static bool Matches(string pattern, string text) => Regex(pattern).IsMatch(text);

    /// <summary>A changed-path pattern: relative to the repository's root, a trailing <c>/</c> means "under it".</summary>
    public static bool MatchesPath(string pattern, string path)
    {
        var p = pattern.Trim().TrimStart('/');
        if (p.Length == 0) return true;
        if (p.EndsWith('/')) p += "**";
        return Regex(p).IsMatch(path) || Regex(p + "/**").IsMatch(path);
    }

    private static Regex Regex(string pattern)
    {
        var sb = new System.Text.StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*') { sb.Append(".*"); i++; }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else sb.Append(System.Text.RegularExpressions.Regex.Escape(c.ToString()));
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
    }
}

/// <summary>Portal-wide defaults of builds (section <c>Kaizen:Builds</c>).</summary>
public sealed class BuildOptions
{
    /// <summary>How the settings page shows the job limit of settings that name none: "60m", or the operator's.</summary>
    public string JobLimitText => string.IsNullOrWhiteSpace(DefaultJobTimeLimit) ? "60m" : DefaultJobTimeLimit.Trim();

    /// <summary>How the settings page shows the build limit of settings that name none: null when there is none.</summary>
    public string? BuildLimitText => string.IsNullOrWhiteSpace(DefaultBuildTimeLimit) ? null : DefaultBuildTimeLimit.Trim();

    /// <summary>A job's time limit when neither it nor its project's settings name one (written like a settings limit:
    /// <c>90s</c>, <c>10m</c>, <c>1h30m</c>); unset: 60 minutes.</summary>
    public string? DefaultJobTimeLimit { get; set; }

    /// <summary>A build's time limit when its settings name none; unset: none.</summary>
    public string? DefaultBuildTimeLimit { get; set; }
}

/// <summary>Time limits as written in settings: <c>90s</c>, <c>10m</c>, <c>1h</c>, <c>1h30m</c>, or a bare number of minutes.</summary>
public static partial class TimeLimits
{
    /// <summary>A job's limit when neither it nor the settings name one.</summary>
    public static readonly TimeSpan DefaultJob = TimeSpan.FromMinutes(60);

    public static readonly TimeSpan MaxJob = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaxBuild = TimeSpan.FromHours(72);

    /// <summary>The operator's limits for settings that name none (<c>Kaizen:Builds</c>), checked at start: a limit that
    /// does not read, or is over <see cref="MaxJob"/> / <see cref="MaxBuild"/>, stops the portal with the key and why.</summary>
    public static (TimeSpan Job, TimeSpan? Build) Defaults(BuildOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var job = DefaultJob;
        if (!string.IsNullOrWhiteSpace(options.DefaultJobTimeLimit))
        {
            if (Problem(options.DefaultJobTimeLimit, MaxJob) is { } problem)
                throw new InvalidOperationException($"Kaizen:Builds:DefaultJobTimeLimit: {problem}");
            TryParse(options.DefaultJobTimeLimit, out job);
        }
        TimeSpan? build = null;
        if (!string.IsNullOrWhiteSpace(options.DefaultBuildTimeLimit))
        {
            if (Problem(options.DefaultBuildTimeLimit, MaxBuild) is { } problem)
                throw new InvalidOperationException($"Kaizen:Builds:DefaultBuildTimeLimit: {problem}");
            TryParse(options.DefaultBuildTimeLimit, out var b);
            build = b;
        }
        return (job, build);
    }

    public static bool TryParse(string? text, out TimeSpan limit)
    {
        limit = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var minutes))
        {
            limit = TimeSpan.FromMinutes(minutes);
            return minutes > 0;
        }
        var m = Duration().Match(t);
        if (!m.Success || t.Length == 0) return false;
        long Part(string name) => m.Groups[name].Success ? long.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : 0;
        var seconds = Part("h") * 3600 + Part("m") * 60 + Part("s");
        if (seconds <= 0 || seconds > (long)MaxBuild.TotalSeconds * 10) return false;
        limit = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>Why <paramref name="text"/> cannot be a limit of at most <paramref name="max"/>, or null.</summary>
    public static string? Problem(string? text, TimeSpan max)
    {
        if (!TryParse(text, out var limit))
            return $"'{text}' is not a time limit; write it as 90s, 10m, 1h or 1h30m.";
        return limit > max ? $"{text} is longer than the most allowed, {Words(max)}." : null;
    }

    /// <summary>"10 min", "90 s", "2 h": as the failure reason says it.</summary>
    public static string Words(TimeSpan limit) =>
        limit.TotalSeconds % 60 != 0 ? $"{(long)limit.TotalSeconds} s"
        : limit.TotalMinutes % 60 != 0 || limit.TotalHours < 2 ? $"{(long)limit.TotalMinutes} min"
        : $"{(long)limit.TotalHours} h";

    /// <summary>The failure reason of a job stopped at its limit.</summary>
    public static string Reached(TimeSpan limit) => $"time limit of {Words(limit)} reached";

    [GeneratedRegex(@"^(?:(?<h>\d{1,4})h)?(?:(?<m>\d{1,6})m)?(?:(?<s>\d{1,8})s)?$")]
    private static partial Regex Duration();
}
