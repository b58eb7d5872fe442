namespace Kaizen.Portal.Builds;

/// <summary>
/// One block as a build runs it: its <see cref="Name"/> (null for the one implicit block of flat settings), its jobs and
/// the blocks it needs, with "no dependencies written" already turned into "the block before".
/// </summary>
public sealed record PipelineBlock(string? Name, int Index, BlockSettings Settings, IReadOnlyList<string> Needs);

/// <summary>
/// One job of a build after blocks and matrices are expanded: what <see cref="BuildStore.Plan"/> records and runners run.
/// <see cref="Env"/> is the project's settings' variables, then the block's, then the job's, then the matrix values (the
/// later wins). <see cref="Prologue"/>: the block's then the job's; <see cref="Epilogue"/>: the job's then the block's.
/// <see cref="Needs"/>: the blocks that must pass before it may start.
/// </summary>
public sealed record PipelineJob(
    string? Block,
    string Name,
    JobSettings Job,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<string> Prologue,
    IReadOnlyList<string> Epilogue,
    IReadOnlyList<string> Needs,
    WhenSettings? BlockWhen,
    TimeSpan TimeLimit);

/// <summary>How settings turn into the jobs of a build: blocks in order, dependencies, matrices.</summary>
public static class Pipeline
{
    /// <summary>The blocks of <paramref name="settings"/>: the written ones, or one implicit block of the flat jobs.</summary>
    public static IReadOnlyList<PipelineBlock> Blocks(BuildSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.HasBlocks) return [new PipelineBlock(null, 0, new BlockSettings("", settings.Jobs ?? []), [])];
        var blocks = settings.Blocks!;
        return blocks.Select((b, i) => new PipelineBlock(b.Name.Trim(), i, b,
            b.Dependencies is { } deps ? deps.Select(d => d.Trim()).ToList()
            : i == 0 ? [] : [blocks[i - 1].Name.Trim()])).ToList();
    }

    /// <summary>Every job of a build, matrices expanded, in the order written. <paramref name="defaultLimit"/>: a job's
    /// limit when neither it nor the settings name one (the portal's <c>Kaizen:Builds:DefaultJobTimeLimit</c>; else
    /// <see cref="TimeLimits.DefaultJob"/>).</summary>
    public static IReadOnlyList<PipelineJob> Expand(BuildSettings settings, TimeSpan? defaultLimit = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var limit = TimeLimits.TryParse(settings.TimeLimit, out var l) ? l : defaultLimit ?? TimeLimits.DefaultJob;
        var jobs = new List<PipelineJob>();
        foreach (var block in Blocks(settings))
        {
            var b = block.Settings;
            foreach (var job in b.Jobs)
            {
                var jobLimit = TimeLimits.TryParse(job.TimeLimit, out var own) ? own : limit;
                foreach (var (name, values) in Combinations(job))
                {
                    var env = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var source in new[] { settings.Env, b.Env, job.Env, values })
                        foreach (var (k, v) in source ?? new Dictionary<string, string>()) env[k] = v ?? "";
                    jobs.Add(new PipelineJob(block.Name, name, job, env, [.. b.Prologue ?? [], .. job.Prologue ?? []],
                        [.. job.Epilogue ?? [], .. b.Epilogue ?? []], block.Needs, b.When, jobLimit));
                }
            }
        }
        return jobs;
    }

    /// <summary>A job's names and matrix values: one "name" without a matrix, else "name (A=1, B=x)" per combination.</summary>
    public static IEnumerable<(string Name, IReadOnlyDictionary<string, string>? Values)> Combinations(JobSettings job)
    {
        var name = job.Name.Trim();
        var axes = (job.Matrix ?? []).Where(a => a is not null).ToList();
        if (axes.Count == 0)
        {
            yield return (name, null);
            yield break;
        }
        var index = new int[axes.Count];
        while (true)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var a = 0; a < axes.Count; a++) values[axes[a].Name.Trim()] = axes[a].Values[index[a]];
            yield return ($"{name} ({string.Join(", ", axes.Select((a, i) => $"{a.Name.Trim()}={a.Values[index[i]]}"))})", values);
            var k = axes.Count - 1;
            while (k >= 0 && ++index[k] == axes[k].Values.Count) index[k--] = 0;
            if (k < 0) yield break;
        }
    }

    /// <summary>The expanded names of <paramref name="job"/> (nothing when its matrix is empty or too big to list).</summary>
    public static IEnumerable<string> ExpandedNames(JobSettings job) =>
        MatrixSize(job) is var n && n is > 0 and <= BuildSettings.MaxJobs ? Combinations(job).Select(c => c.Name) : [];

    /// <summary>How many jobs <paramref name="job"/> is: the product of its axes' sizes (saturated, never overflowing).</summary>
    public static long MatrixSize(JobSettings? job)
    {
        long n = 1;
        foreach (var axis in job?.Matrix ?? [])
            n = Math.Min(n * Math.Max(0, axis?.Values?.Count ?? 0), 1_000_000_000L);
        return n;
    }

    /// <summary>How many jobs a build of <paramref name="settings"/> has, matrices expanded.</summary>
    public static long CountJobs(BuildSettings settings) =>
        AllJobs(settings).Sum(j => MatrixSize(j.Job));

    /// <summary>The largest matrix and its path, for the "too many jobs" error.</summary>
    public static (string Path, long Count)? LargestMatrix(BuildSettings settings) =>
        AllJobs(settings).Where(j => j.Job?.Matrix is { Count: > 0 }).Select(j => ($"{j.Path}.matrix", MatrixSize(j.Job)))
            .OrderByDescending(m => m.Item2).Cast<(string, long)?>().FirstOrDefault();

    /// <summary>Every job as written, with its JSON path.</summary>
    public static IEnumerable<(string Path, JobSettings? Job)> AllJobs(BuildSettings settings)
    {
        for (var i = 0; i < (settings.Jobs?.Count ?? 0); i++) yield return ($"jobs[{i}]", settings.Jobs![i]);
        for (var b = 0; b < (settings.Blocks?.Count ?? 0); b++)
            for (var i = 0; i < (settings.Blocks![b]?.Jobs?.Count ?? 0); i++)
                yield return ($"blocks[{b}].jobs[{i}]", settings.Blocks[b].Jobs[i]);
    }

    /// <summary>Every list of commands in the settings but setup and epilogue, with its path (for the limits).</summary>
    public static IEnumerable<(string Path, IReadOnlyList<string> Commands)> CommandLists(BuildSettings settings)
    {
        foreach (var (path, job) in AllJobs(settings))
        {
            yield return ($"{path} ('{job?.Name}') commands", job?.Commands ?? []);
            yield return ($"{path}.prologue", job?.Prologue ?? []);
            yield return ($"{path}.epilogue", job?.Epilogue ?? []);
        }
        for (var b = 0; b < (settings.Blocks?.Count ?? 0); b++)
        {
            yield return ($"blocks[{b}].prologue", settings.Blocks![b]?.Prologue ?? []);
            yield return ($"blocks[{b}].epilogue", settings.Blocks[b]?.Epilogue ?? []);
        }
    }
}

/// <summary>The checks of blocks, dependencies, matrices, variables, conditions and limits (see <see cref="BuildSettings.Validate"/>).</summary>
internal static class PipelineRules
{
    /// <summary>Most values on one matrix axis, and most axes.</summary>
    public const int MaxAxes = 6;

    public static void CheckEnv(IReadOnlyDictionary<string, string>? env, string path, List<string> errors)
    {
        foreach (var (name, value) in env ?? new Dictionary<string, string>())
        {
            if (!ContainerRules.VariableName().IsMatch(name))
                errors.Add($"{path}.{name}: '{name}' is not a variable name (letters, digits and '_', not starting with a digit).");
            else if (name.StartsWith("KAIZEN_", StringComparison.OrdinalIgnoreCase))
                errors.Add($"{path}.{name}: names starting with KAIZEN_ are the runner's own; choose another name.");
            else if (value is null)
                errors.Add($"{path}.{name}: the value is empty; write \"\" for an empty value.");
            else if (value.Length > BuildSettings.MaxCommandLength)
                errors.Add($"{path}.{name}: a value is at most {BuildSettings.MaxCommandLength:N0} characters.");
        }
    }

    public static void CheckJobExtras(JobSettings job, string path, List<string> errors)
    {
        CheckEnv(job.Env, $"{path}.env", errors);
        if (job.Prologue?.Any(string.IsNullOrWhiteSpace) == true) errors.Add($"{path}.prologue has an empty command.");
        if (job.Epilogue?.Any(string.IsNullOrWhiteSpace) == true) errors.Add($"{path}.epilogue has an empty command.");
        if (job.TimeLimit is not null && TimeLimits.Problem(job.TimeLimit, TimeLimits.MaxJob) is { } limit)
            errors.Add($"{path}.timeLimit: {limit}");
        CheckWhen(job.When, $"{path}.when", errors);
        if (job.Matrix is not { } matrix) return;
        if (matrix.Count == 0) errors.Add($"{path}.matrix: a matrix needs at least one axis: [{{ name: NODE, values: [\"18\", \"20\"] }}].");
        if (matrix.Count > MaxAxes) errors.Add($"{path}.matrix: at most {MaxAxes} axes.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var a = 0; a < matrix.Count; a++)
        {
            var axis = matrix[a];
            var at = $"{path}.matrix[{a}]";
            if (axis is null) { errors.Add($"{at} is empty."); continue; }
            if (string.IsNullOrWhiteSpace(axis.Name) || !ContainerRules.VariableName().IsMatch(axis.Name.Trim()))
                errors.Add($"{at}.name: '{axis.Name}' is not a variable name (letters, digits and '_', not starting with a digit).");
            else if (axis.Name.Trim().StartsWith("KAIZEN_", StringComparison.OrdinalIgnoreCase))
                errors.Add($"{at}.name: names starting with KAIZEN_ are the runner's own; choose another name.");
            else if (!names.Add(axis.Name.Trim()))
                errors.Add($"{at}.name: another axis is already named '{axis.Name.Trim()}'.");
            if (axis.Values is null || axis.Values.Count == 0)
                errors.Add($"{at}.values: an axis needs at least one value.");
            else
            {
                for (var v = 0; v < axis.Values.Count; v++)
                {
                    if (axis.Values[v] is null || axis.Values[v].Length > 200 || axis.Values[v].Any(char.IsControl))
                        errors.Add($"{at}.values[{v}]: a value is text of at most 200 characters without control characters.");
                }
                if (axis.Values.Distinct(StringComparer.Ordinal).Count() != axis.Values.Count)
                    errors.Add($"{at}.values: a value appears twice.");
            }
        }
    }

    public static void CheckWhen(WhenSettings? when, string path, List<string> errors)
    {
        if (when is null) return;
        if (when.IsEmpty) errors.Add($"{path}: a condition needs at least one of branch, tag, pullRequest and changed.");
        foreach (var (key, patterns) in new[] { ("branch", when.Branch), ("tag", when.Tag), ("changed", when.Changed) })
        {
            if (patterns is null) continue;
            if (patterns.Count == 0) errors.Add($"{path}.{key}: give at least one pattern (or leave {key} out).");
            for (var i = 0; i < patterns.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(patterns[i]) || patterns[i].Length > 500 || patterns[i].Any(char.IsControl))
                    errors.Add($"{path}.{key}[{i}]: a pattern is text of at most 500 characters, e.g. 'main', 'release/*' or 'lambda/'.");
            }
        }
    }

    /// <summary>Names, dependencies (known, not itself, no cycle), prologues, variables and conditions of the blocks.</summary>
    public static void CheckBlocks(BuildSettings settings, HashSet<string> seenJobs, List<string> errors)
    {
        var blocks = settings.Blocks!;
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var path = $"blocks[{b}]";
            if (block is null) { errors.Add($"{path} is empty."); continue; }
            if (string.IsNullOrWhiteSpace(block.Name)) errors.Add($"{path}.name: a block needs a name.");
            else if (block.Name.Length > 200) errors.Add($"{path}.name: the name is longer than 200 characters.");
            else if (Text.DisplayNames.Problem(block.Name, "A block name") is { } nameProblem) errors.Add($"{path}.name: {nameProblem}");
            else if (!names.TryAdd(block.Name.Trim(), b)) errors.Add($"{path}.name: another block is already named '{block.Name.Trim()}'.");
            if (block.Jobs is null || block.Jobs.Count == 0) errors.Add($"{path}.jobs: a block needs at least one job.");
            for (var i = 0; i < (block.Jobs?.Count ?? 0); i++) settings.CheckJob(block.Jobs![i], $"{path}.jobs[{i}]", seenJobs, errors);
            if (block.Prologue?.Any(string.IsNullOrWhiteSpace) == true) errors.Add($"{path}.prologue has an empty command.");
            if (block.Epilogue?.Any(string.IsNullOrWhiteSpace) == true) errors.Add($"{path}.epilogue has an empty command.");
            CheckEnv(block.Env, $"{path}.env", errors);
            CheckWhen(block.When, $"{path}.when", errors);
        }
        if (blocks.Any(b => b is null || string.IsNullOrWhiteSpace(b.Name))) return;

        var known = string.Join(", ", names.Keys);
        for (var b = 0; b < blocks.Count; b++)
        {
            var deps = blocks[b].Dependencies ?? [];
            for (var d = 0; d < deps.Count; d++)
            {
                var dep = deps[d]?.Trim() ?? "";
                if (!names.ContainsKey(dep))
                    errors.Add($"blocks[{b}].dependencies[{d}]: no block is named '{dep}' (the blocks are {known}).");
                else if (dep == blocks[b].Name.Trim())
                    errors.Add($"blocks[{b}].dependencies[{d}]: block '{dep}' cannot depend on itself.");
            }
        }
        if (errors.Count > 0) return;
        if (Cycle(Pipeline.Blocks(settings)) is { } cycle)
            errors.Add($"blocks[{names[cycle[0]]}].dependencies: the dependencies go round in a circle ({string.Join(" → ", cycle)}); a block cannot wait for itself.");
    }

    /// <summary>A cycle among the blocks' needs as block names (first repeated at the end), or null.</summary>
    private static List<string>? Cycle(IReadOnlyList<PipelineBlock> blocks)
    {
        var needs = blocks.ToDictionary(b => b.Name!, b => b.Needs, StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1: on the path, 2: done
        var path = new List<string>();
        List<string>? Visit(string name)
        {
            state[name] = 1;
            path.Add(name);
            foreach (var next in needs[name])
            {
                if (state.GetValueOrDefault(next) == 1) return [.. path.SkipWhile(n => n != next), next];
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found) return found;
            }
            path.RemoveAt(path.Count - 1);
            state[name] = 2;
            return null;
        }
        foreach (var block in blocks)
        {
            if (state.GetValueOrDefault(block.Name!) == 0 && Visit(block.Name!) is { } cycle) return cycle;
        }
        return null;
    }
}

/// <summary>Validation errors as an API answers them: all under <c>field</c> (as before), and each one that names a place
/// also under its JSON path (<c>$.blocks[1].dependencies[0]</c>), so a client can point at the field.</summary>
public static partial class SettingsErrors
{
    public static Dictionary<string, string[]> ByPath(string field, IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [.. errors] };
        foreach (var group in errors.Select(e => (Path: PathOf(e), Error: e)).Where(e => e.Path is not null).GroupBy(e => e.Path!))
            result[group.Key] = [.. group.Select(e => e.Error)];
        return result;
    }

    /// <summary>The JSON path an error starts with (<c>$.jobs[0].matrix</c>), or null.</summary>
    public static string? PathOf(string error)
    {
        var m = LeadingPath().Match(error);
        return m.Success ? "$." + m.Groups[1].Value : null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^((?:setup|epilogue|image|env|jobs|blocks|timeLimit|buildTimeLimit)(?:\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)*)(?=[: ])")]
    private static partial System.Text.RegularExpressions.Regex LeadingPath();
}
