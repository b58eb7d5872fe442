using System.Text.Json.Serialization;

namespace Kaizen.Portal.Builds;

/// <summary>
/// What a project's builds run: <see cref="Setup"/> at the start of every job, the <see cref="Jobs"/> in parallel,
/// and <see cref="Epilogue"/> after every job, pass or fail.
/// </summary>
public sealed record BuildSettings(
    IReadOnlyList<string> Setup,
    IReadOnlyList<JobSettings> Jobs,
    IReadOnlyList<string> Epilogue)
{
    public static BuildSettings Empty { get; } = new([], [], []);

    /// <summary>Problems a person must fix before the settings can be saved; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Setup is null || Jobs is null || Epilogue is null)
        {
            errors.Add("setup, jobs and epilogue must be lists (use [] for none).");
            return errors;
        }
        if (Jobs.Count == 0)
            errors.Add("Add at least one job: { \"name\": \"test\", \"commands\": [\"...\"] }.");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Jobs.Count; i++)
        {
            var job = Jobs[i];
            if (job is null) { errors.Add($"jobs[{i}] is empty."); continue; }
            if (string.IsNullOrWhiteSpace(job.Name))
                errors.Add($"jobs[{i}] needs a name.");
            else if (job.Name.Length > 200)
                errors.Add($"jobs[{i}]: the name is longer than 200 characters.");
            else if (!seen.Add(job.Name.Trim()))
                errors.Add($"jobs[{i}]: another job is already named '{job.Name.Trim()}'.");
            if (job.Commands is null || job.Commands.Count == 0)
                errors.Add($"jobs[{i}] ('{job.Name}') needs at least one command.");
            else if (job.Commands.Any(string.IsNullOrWhiteSpace))
                errors.Add($"jobs[{i}] ('{job.Name}') has an empty command.");
            foreach (var (field, patterns) in new[] { ("testReports", job.TestReports), ("coverage", job.Coverage) })
            {
                foreach (var pattern in patterns ?? [])
                {
                    if (ReportPatterns.Problem(pattern) is { } problem)
                        errors.Add($"jobs[{i}] ('{job.Name}') {field}: {problem}");
                }
            }
        }
        if (Setup.Any(string.IsNullOrWhiteSpace)) errors.Add("setup has an empty command.");
        if (Epilogue.Any(string.IsNullOrWhiteSpace)) errors.Add("epilogue has an empty command.");
        return errors;
    }
}

/// <summary>
/// One parallel job. <see cref="TestReports"/> (JUnit XML) and <see cref="Coverage"/> (Cobertura XML) are globs of
/// report files relative to the workspace, uploaded after the epilogue whether the job passed or failed.
/// </summary>
public sealed record JobSettings(
    string Name,
    IReadOnlyList<string> Commands,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? TestReports = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Coverage = null)
{
    /// <summary>The report globs as the runner protocol carries them (null when the job declares none).</summary>
    public IReadOnlyList<Kaizen.Runner.Protocol.ReportSpec>? ReportSpecs()
    {
        var specs = (TestReports ?? []).Where(p => !string.IsNullOrWhiteSpace(p))
            .Select(p => new Kaizen.Runner.Protocol.ReportSpec(Kaizen.Runner.Protocol.ReportKinds.JUnit, p.Trim()))
            .Concat((Coverage ?? []).Where(p => !string.IsNullOrWhiteSpace(p))
                .Select(p => new Kaizen.Runner.Protocol.ReportSpec(Kaizen.Runner.Protocol.ReportKinds.Coverage, p.Trim())))
            .ToList();
        return specs.Count == 0 ? null : specs;
    }
}

/// <summary>What a report glob may look like: relative to the workspace, never leaving it.</summary>
public static class ReportPatterns
{
    public static string? Problem(string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern)) return "a pattern is empty.";
        var p = pattern.Trim();
        if (p.Length > 500) return "a pattern is longer than 500 characters.";
        if (p.StartsWith('/') || p.StartsWith('\\') || p.StartsWith('~') || (p.Length > 1 && p[1] == ':'))
            return $"'{p}' must be relative to the workspace (e.g. reports/junit.xml).";
        if (p.Split('/', '\\').Any(part => part == ".."))
            return $"'{p}' must stay inside the workspace (no '..').";
        if (p.Any(char.IsControl)) return $"'{p}' contains a control character.";
        return null;
    }
}
