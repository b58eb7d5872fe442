using System.Text;
using System.Text.Json;
using Kaizen.Portal.Secrets;

namespace Kaizen.Portal.Builds;

/// <summary>
/// The extra variables a person gives one build (Run build…, or <c>variables</c> in the API). They are plain values,
/// shown on the build page and in the API to everyone who reads the build, never secrets. In each of the build's jobs
/// they replace variables of the same name from the organization, the project and the build settings; a secret of the
/// same name still wins (a build's variables cannot replace a secret), and the variables the runner sets for every job
/// (<c>CI</c>, <c>KAIZEN_*</c>, the <c>SEMAPHORE_*</c> ones, the sandbox's <c>PATH</c>, <c>HOME</c> …) cannot be given.
/// Reruns keep them.
/// </summary>
public static class RunVariables
{
    public const int MaxCount = 50;
    public const int MaxValueBytes = 4 * 1024;
    public const int MaxTotalBytes = 32 * 1024;

    /// <summary>Names the runner or the job's sandbox sets itself: a build must not be able to misstate them.</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "CI", "KAIZEN", "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "LANG", "TERM", "PWD",
        "BASH_ENV", "ENV", "LD_PRELOAD", "LD_LIBRARY_PATH",
    };

    /// <summary>Null when <paramref name="name"/> may be given for a build, else why not.</summary>
    public static string? NameError(string name)
    {
        if (VariableRules.NameError(name) is { } error) return error;
        if (Reserved.Contains(name) || name.StartsWith("SEMAPHORE_", StringComparison.OrdinalIgnoreCase))
            return $"'{name}' is set by the runner for every job, so a build cannot give it. Choose another name.";
        return null;
    }

    /// <summary>The errors of <paramref name="variables"/>, each starting with the field it is about
    /// (<c>variables.NAME</c>); empty when they may be used.</summary>
    public static IReadOnlyList<string> Errors(IReadOnlyList<KeyValuePair<string, string?>> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var errors = new List<string>();
        if (variables.Count > MaxCount)
            errors.Add($"variables: at most {MaxCount} variables for one build; {variables.Count} were given.");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var total = 0;
        foreach (var (rawName, value) in variables)
        {
            var name = rawName ?? "";
            var field = $"variables.{Shown(name)}";
            if (NameError(name) is { } nameError) { errors.Add($"{field}: {nameError}"); continue; }
            if (!seen.Add(name)) { errors.Add($"{field}: the name is given twice (names do not depend on case)."); continue; }
            if (value is null) { errors.Add($"{field}: give a value (text; it may be empty)."); continue; }
            var bytes = Encoding.UTF8.GetByteCount(value);
            total += bytes + Encoding.UTF8.GetByteCount(name);
            if (bytes > MaxValueBytes) errors.Add($"{field}: the value is larger than {MaxValueBytes / 1024} KiB.");
            else if (value.Contains('\0')) errors.Add($"{field}: an environment variable cannot hold a NUL character.");
        }
        if (total > MaxTotalBytes) errors.Add($"variables: together they are larger than {MaxTotalBytes / 1024} KiB.");
        return errors;
    }

    private static string Shown(string name) => name.Length <= 60 ? name : name[..60] + "…";

    /// <summary>The stored form (null for none): a JSON object in name order.</summary>
    public static string? Serialize(IReadOnlyDictionary<string, string>? variables) =>
        variables is not { Count: > 0 }
            ? null
            : JsonSerializer.Serialize(new SortedDictionary<string, string>(variables.ToDictionary(), StringComparer.Ordinal));

    public static IReadOnlyDictionary<string, string> Parse(string? stored) =>
        string.IsNullOrEmpty(stored)
            ? new SortedDictionary<string, string>(StringComparer.Ordinal)
            : new SortedDictionary<string, string>(JsonSerializer.Deserialize<Dictionary<string, string>>(stored) ?? [], StringComparer.Ordinal);

    /// <summary>Each job's variables with <paramref name="variables"/> laid over them.</summary>
    public static NewBuild Apply(NewBuild plan, IReadOnlyDictionary<string, string>? variables)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (variables is not { Count: > 0 }) return plan;
        return plan with
        {
            Variables = variables,
            Jobs = plan.Jobs.Select(job =>
            {
                var env = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (name, value) in job.Env ?? new Dictionary<string, string>())
                {
                    // Names compare without case where variables are kept, so a build's FOO replaces the settings' foo.
                    if (!variables.Keys.Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))) env[name] = value;
                }
                foreach (var (name, value) in variables) env[name] = value;
                return job with { Env = env };
            }).ToList(),
        };
    }
}
