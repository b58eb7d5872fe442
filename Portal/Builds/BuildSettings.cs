using System.Text.Json.Serialization;

namespace Kaizen.Portal.Builds;

/// <summary>
/// What a project's builds run: <see cref="Setup"/> at the start of every job, the <see cref="Jobs"/> in parallel,
/// and <see cref="Epilogue"/> after every job, pass or fail. <see cref="Image"/>: every job runs in a container from
/// it (a job's own image wins); none runs jobs on the runner's shell.
/// <para>
/// A pipeline of several stages uses <see cref="Blocks"/> instead of <see cref="Jobs"/> (one or the other): each block
/// its parallel jobs, with dependencies between blocks (see <see cref="BlockSettings"/> and <see cref="Pipeline"/>).
/// Flat settings are one implicit block. <see cref="Env"/>: variables of every job. <see cref="TimeLimit"/>: each job's
/// limit unless it names its own (default <see cref="TimeLimits.DefaultJob"/>); <see cref="BuildTimeLimit"/>: the whole
/// build's (none by default). <see cref="FailFast"/>: the first failed job stops the rest of the build.
/// <see cref="AutoCancel"/>: a newer push to a branch cancels that branch's queued and running builds.
/// </para>
/// </summary>
public sealed record BuildSettings(
    IReadOnlyList<string> Setup,
    IReadOnlyList<JobSettings> Jobs,
    IReadOnlyList<string> Epilogue,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Image = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<BlockSettings>? Blocks = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Env = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TimeLimit = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? BuildTimeLimit = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? FailFast = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? AutoCancel = null)
{
    /// <summary>The image <paramref name="job"/> runs in (its own, else the project's), or null for the shell executor.</summary>
    public string? ImageOf(JobSettings job) =>
        !string.IsNullOrWhiteSpace(job.Image) ? job.Image.Trim() : string.IsNullOrWhiteSpace(Image) ? null : Image.Trim();

    public static BuildSettings Empty { get; } = new([], [], []);

    /// <summary>Whether the settings use blocks (else they are today's flat list of jobs).</summary>
    [JsonIgnore]
    public bool HasBlocks => Blocks is { Count: > 0 };

    /// <summary>Whether there is anything to build: a job, or a block with one.</summary>
    [JsonIgnore]
    public bool HasJobs => (Jobs?.Count ?? 0) > 0 || (Blocks ?? []).Any(b => b?.Jobs is { Count: > 0 });

    /// <summary>Most jobs one build may have (a build page and a runner pool stay usable; 256-job fan-outs fit).</summary>
    public const int MaxJobs = 500;

    /// <summary>Most blocks in one build.</summary>
    public const int MaxBlocks = 100;

    /// <summary>Most commands in one list (a job's commands, setup, epilogue).</summary>
    public const int MaxCommands = 5_000;

    /// <summary>Longest command, in characters (a long inline script fits; a 25 MB blob does not).</summary>
    public const int MaxCommandLength = 100_000;

    /// <summary>Most characters of text in all the settings together (names, commands, patterns, images).</summary>
    public const int MaxTotalLength = 1_000_000;

    /// <summary>Problems a person must fix before the settings can be saved; empty when valid. Each starts with the
    /// JSON path of what it is about (<c>blocks[1].dependencies[0]: …</c>) when it is about one place.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Setup is null || Jobs is null || Epilogue is null)
        {
            errors.Add("setup, jobs and epilogue must be lists (use [] for none).");
            return errors;
        }
        if (HasBlocks && Jobs.Count > 0)
            errors.Add("jobs: use either jobs (one stage of parallel jobs) or blocks, not both; move these jobs into a block.");
        else if (!HasJobs)
            errors.Add("Add at least one job: { \"name\": \"test\", \"commands\": [\"...\"] }.");
        if (Blocks is { Count: > MaxBlocks })
        {
            errors.Add($"blocks: a build has at most {MaxBlocks} blocks; these settings have {Blocks.Count}.");
            return errors;
        }
        var jobCount = Pipeline.CountJobs(this);
        if (jobCount > MaxJobs)
        {
            // One message, not one per job: the rest of the checks would only repeat it.
            errors.Add(Pipeline.LargestMatrix(this) is { } matrix
                ? $"{matrix.Path}: the matrix expands to {matrix.Count:N0} jobs; with the other jobs the build would have {jobCount:N0}, and a build has at most {MaxJobs} jobs (each combination of a matrix is a job)."
                : $"A build has at most {MaxJobs} jobs; these settings have {jobCount:N0}.");
            return errors;
        }
        foreach (var (list, commands) in new[] { ("setup", Setup), ("epilogue", Epilogue) }
                     .Concat(Pipeline.CommandLists(this)))
        {
            if (commands.Count > MaxCommands)
                errors.Add($"{list}: at most {MaxCommands} commands; found {commands.Count}.");
            for (var c = 0; c < commands.Count; c++)
            {
                if (commands[c]?.Length > MaxCommandLength)
                    errors.Add($"{list}[{c}]: a command is at most {MaxCommandLength:N0} characters; this one has {commands[c].Length:N0} (put long scripts in the repository or the script library).");
            }
        }
        if (TotalLength() is var total && total > MaxTotalLength)
            errors.Add($"The settings hold {total:N0} characters of text; at most {MaxTotalLength:N0} are allowed.");
        if (Image is not null && ContainerRules.ImageProblem(Image) is { } imageProblem)
            errors.Add($"image: {imageProblem}");
        PipelineRules.CheckEnv(Env, "env", errors);
        if (TimeLimit is not null && TimeLimits.Problem(TimeLimit, TimeLimits.MaxJob) is { } limitProblem)
            errors.Add($"timeLimit: {limitProblem}");
        if (BuildTimeLimit is not null && TimeLimits.Problem(BuildTimeLimit, TimeLimits.MaxBuild) is { } buildLimitProblem)
            errors.Add($"buildTimeLimit: {buildLimitProblem}");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Jobs.Count; i++) CheckJob(Jobs[i], $"jobs[{i}]", seen, errors);
        if (HasBlocks) PipelineRules.CheckBlocks(this, seen, errors);
        if (Setup.Any(string.IsNullOrWhiteSpace)) errors.Add("setup has an empty command.");
        if (Epilogue.Any(string.IsNullOrWhiteSpace)) errors.Add("epilogue has an empty command.");
        return errors;
    }

    /// <summary>The checks of one job at <paramref name="path"/>; <paramref name="seen"/> collects the build's job names
    /// (a matrix job's expanded names), which must differ.</summary>
    internal void CheckJob(JobSettings? job, string path, HashSet<string> seen, List<string> errors)
    {
        if (job is null) { errors.Add($"{path} is empty."); return; }
        if (string.IsNullOrWhiteSpace(job.Name))
            errors.Add($"{path} needs a name.");
        else if (job.Name.Length > 200)
            errors.Add($"{path}: the name is longer than 200 characters.");
        else if (Text.DisplayNames.Problem(job.Name, "A job name") is { } nameProblem)
            errors.Add($"{path}: {nameProblem}");
        else
        {
            foreach (var name in Pipeline.ExpandedNames(job))
            {
                if (!seen.Add(name)) { errors.Add($"{path}: another job is already named '{name}'."); break; }
            }
        }
        if (job.Commands is null || job.Commands.Count == 0)
            errors.Add($"{path} ('{job.Name}') needs at least one command.");
        else if (job.Commands.Any(string.IsNullOrWhiteSpace))
            errors.Add($"{path} ('{job.Name}') has an empty command.");
        foreach (var (field, patterns) in new[] { ("testReports", job.TestReports), ("coverage", job.Coverage) })
        {
            foreach (var pattern in patterns ?? [])
            {
                if (ReportPatterns.Problem(pattern) is { } problem)
                    errors.Add($"{path} ('{job.Name}') {field}: {problem}");
            }
        }
        if (job.Image is not null && ContainerRules.ImageProblem(job.Image) is { } jobImageProblem)
            errors.Add($"{path} ('{job.Name}') image: {jobImageProblem}");
        if (job.Services is { Count: > 0 } services)
        {
            if (ImageOf(job) is null)
                errors.Add($"{path} ('{job.Name}') has services but no image: services need the job to run in a container (set the job's or the project's image).");
            var aliases = new HashSet<string>(StringComparer.Ordinal);
            for (var s = 0; s < services.Count; s++)
            {
                foreach (var problem in ContainerRules.ServiceProblems(services[s], aliases))
                    errors.Add($"{path} ('{job.Name}') services[{s}]: {problem}");
            }
        }
        PipelineRules.CheckJobExtras(job, path, errors);
    }

    /// <summary>Characters of text in the settings (long, to count a hostile document without overflowing).</summary>
    private long TotalLength()
    {
        static long Sum(IEnumerable<string?>? texts) => texts?.Sum(t => (long)(t?.Length ?? 0)) ?? 0;
        static long Vars(IReadOnlyDictionary<string, string>? env) => Sum(env?.Keys) + Sum(env?.Values);
        static long When(WhenSettings? w) => w is null ? 0 : Sum(w.Branch) + Sum(w.Tag) + Sum(w.Changed);
        static long Job(JobSettings? j) => j is null ? 0
            : (j.Name?.Length ?? 0) + Sum(j.Commands) + Sum(j.TestReports) + Sum(j.Coverage) + (j.Image?.Length ?? 0)
              + (j.Services ?? []).Sum(s => (long)((s?.Image?.Length ?? 0) + (s?.Alias?.Length ?? 0) + (s?.Ready?.Length ?? 0)
                                              + Sum(s?.Env?.Keys) + Sum(s?.Env?.Values)))
              + Sum(j.Prologue) + Sum(j.Epilogue) + Vars(j.Env) + When(j.When) + (j.TimeLimit?.Length ?? 0)
              + (j.Matrix ?? []).Sum(a => (long)(a?.Name?.Length ?? 0) + Sum(a?.Values));
        return Sum(Setup) + Sum(Epilogue) + (Image?.Length ?? 0) + Jobs.Sum(Job) + Vars(Env)
               + (Blocks ?? []).Sum(b => b is null ? 0 : (b.Name?.Length ?? 0) + (b.Jobs ?? []).Sum(Job) + Sum(b.Dependencies)
                                           + Sum(b.Prologue) + Sum(b.Epilogue) + Vars(b.Env) + When(b.When));
    }
}

/// <summary>
/// One parallel job. <see cref="TestReports"/> (JUnit XML) and <see cref="Coverage"/> (Cobertura XML) are globs of
/// report files relative to the workspace, uploaded after the epilogue whether the job passed or failed.
/// </summary>
/// <see cref="Env"/>, <see cref="Prologue"/> and <see cref="Epilogue"/> are the job's own, beside its block's and the
/// project's. <see cref="Matrix"/>: the job runs once per combination of the axes' values, as "name (A=1, B=x)", with
/// the variables set. <see cref="When"/>: it runs only when that holds. <see cref="TimeLimit"/>: its own limit.
public sealed record JobSettings(
    string Name,
    IReadOnlyList<string> Commands,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? TestReports = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Coverage = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Image = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ServiceSettings>? Services = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Env = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Prologue = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Epilogue = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<MatrixAxis>? Matrix = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] WhenSettings? When = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TimeLimit = null)
{
    /// <summary>The services as the runner protocol carries them (null when the job has none).</summary>
    public IReadOnlyList<Kaizen.Runner.Protocol.ServiceSpec>? ServiceSpecs() => Services is { Count: > 0 }
        ? [.. Services.Select(s => new Kaizen.Runner.Protocol.ServiceSpec(s.Image.Trim(), s.Alias.Trim(),
            s.Env is { Count: > 0 } env ? new Dictionary<string, string>(env) : null, string.IsNullOrWhiteSpace(s.Ready) ? null : s.Ready.Trim()))]
        : null;

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

/// <summary>
/// A service container next to a job: reachable from the job as <see cref="Alias"/>, with <see cref="Env"/>; the job
/// starts once it is <see cref="Ready"/>: a TCP port number that accepts connections, or a command that exits 0 in the
/// service's container (none: once started).
/// </summary>
public sealed record ServiceSettings(
    string Image,
    string Alias,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Env = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Ready = null);

/// <summary>What image references, service aliases and service settings may look like.</summary>
public static partial class ContainerRules
{
    /// <summary>Why <paramref name="image"/> is not an image reference (<c>[registry[:port]/]name[:tag][@sha256:digest]</c>), or null.</summary>
    public static string? ImageProblem(string? image)
    {
        if (string.IsNullOrWhiteSpace(image)) return "the image is empty (leave it out to run on the runner's shell).";
        var value = image.Trim();
        if (value.Length > 255) return $"'{value[..40]}...' is longer than 255 characters.";
        if (!ImageReference().IsMatch(value))
            return $"'{value}' is not an image reference; write it as docker pull would, e.g. python:3.12-slim, node:20 or registry.example.com:5000/team/app:1.4.";
        return null;
    }

    /// <summary>Problems of one service; <paramref name="aliases"/> collects the job's aliases to find duplicates.</summary>
    public static IEnumerable<string> ServiceProblems(ServiceSettings? service, HashSet<string> aliases)
    {
        if (service is null) { yield return "the service is empty."; yield break; }
        if (ImageProblem(service.Image) is { } image) yield return $"image: {image}";
        if (string.IsNullOrWhiteSpace(service.Alias))
            yield return "needs an alias: the host name the job reaches it by (e.g. db).";
        else if (!Alias().IsMatch(service.Alias.Trim()))
            yield return $"alias '{service.Alias.Trim()}' must be a host name: lower-case letters, digits and '-', starting with a letter, at most 63 characters.";
        else if (!aliases.Add(service.Alias.Trim()))
            yield return $"another service is already called '{service.Alias.Trim()}'.";
        foreach (var name in (service.Env ?? new Dictionary<string, string>()).Keys)
        {
            if (!VariableName().IsMatch(name)) yield return $"env: '{name}' is not a variable name (letters, digits and '_', not starting with a digit).";
        }
        if (service.Ready is { } ready && !string.IsNullOrWhiteSpace(ready) && ready.Trim().All(char.IsAsciiDigit)
            && (!int.TryParse(ready.Trim(), out var port) || port is < 1 or > 65535))
            yield return $"ready: {ready.Trim()} is not a port (1 to 65535).";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$")]
    private static partial System.Text.RegularExpressions.Regex ImageReference();

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial System.Text.RegularExpressions.Regex Alias();

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    internal static partial System.Text.RegularExpressions.Regex VariableName();
}
