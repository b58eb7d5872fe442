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
        }
        if (Setup.Any(string.IsNullOrWhiteSpace)) errors.Add("setup has an empty command.");
        if (Epilogue.Any(string.IsNullOrWhiteSpace)) errors.Add("epilogue has an empty command.");
        return errors;
    }
}

public sealed record JobSettings(string Name, IReadOnlyList<string> Commands);
