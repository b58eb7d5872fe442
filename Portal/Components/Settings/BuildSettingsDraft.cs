using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Shared;

namespace Kaizen.Portal.Components.Settings;

/// <summary>One command as the editor holds it; the key keeps a text field attached to its command when rows move.</summary>
public sealed class CommandDraft(string text)
{
    public Guid Key { get; } = Guid.NewGuid();
    public string Text { get; set; } = text;
}

/// <summary>
/// The editable, mutable form of <see cref="BuildSettings"/>: what the user has typed so far, valid or not.
/// It is only turned back into <see cref="BuildSettings"/> to compare, export or save, so nothing typed is lost
/// while it fails validation. What the form does not show, and every option left as loaded, is saved as it was.
/// </summary>
public sealed class BuildSettingsDraft
{
    public const int MaxNameLength = 200;

    public List<CommandDraft> Setup { get; } = [];
    public List<JobDraft> Jobs { get; } = [];
    public List<CommandDraft> Epilogue { get; } = [];

    /// <summary>The blocks; empty for flat settings (one implicit block of <see cref="Jobs"/>).</summary>
    public List<BlockDraft> Blocks { get; } = [];

    /// <summary>The project's image: every job runs in a container from it unless it names its own (empty: the shell).</summary>
    public string Image { get; set; } = "";

    /// <summary>Each job's limit as typed (empty: the default, 60 minutes).</summary>
    public string TimeLimit { get; set; } = "";

    /// <summary>The whole build's limit as typed (empty: none).</summary>
    public string BuildTimeLimit { get; set; } = "";

    public bool FailFast { get; set; }
    public bool AutoCancel { get; set; }

    /// <summary>The build's variables as <c>NAME=value</c> lines.</summary>
    public string Env { get; set; } = "";

    /// <summary>The settings as loaded: what the form does not show is saved from here as it was.</summary>
    public BuildSettings Original { get; private init; } = BuildSettings.Empty;

    /// <summary>Whether the settings use blocks.</summary>
    public bool HasBlocks => Blocks.Count > 0;

    public static BuildSettingsDraft From(BuildSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var draft = new BuildSettingsDraft
        {
            Image = settings.Image ?? "", Original = settings,
            TimeLimit = settings.TimeLimit ?? "", BuildTimeLimit = settings.BuildTimeLimit ?? "",
            FailFast = settings.FailFast ?? false, AutoCancel = settings.AutoCancel ?? false,
            Env = VariableLines.ToText(settings.Env),
        };
        draft.Setup.AddRange((settings.Setup ?? []).Select(c => new CommandDraft(c ?? "")));
        draft.Jobs.AddRange((settings.Jobs ?? []).Where(j => j is not null).Select(JobDraft.From));
        draft.Epilogue.AddRange((settings.Epilogue ?? []).Select(c => new CommandDraft(c ?? "")));
        foreach (var block in (settings.Blocks ?? []).Where(b => b is not null))
        {
            var b = new BlockDraft { Original = block, Name = block.Name ?? "", Env = VariableLines.ToText(block.Env), When = WhenDraft.From(block.When) };
            b.Jobs.AddRange((block.Jobs ?? []).Where(j => j is not null).Select(JobDraft.From));
            b.Prologue.AddRange((block.Prologue ?? []).Select(c => new CommandDraft(c ?? "")));
            b.Epilogue.AddRange((block.Epilogue ?? []).Select(c => new CommandDraft(c ?? "")));
            draft.Blocks.Add(b);
        }
        // Dependencies point at blocks once every block is known (a block may name one written after it).
        foreach (var b in draft.Blocks)
        {
            b.Dependencies = b.Original!.Dependencies?.Select(name =>
                new BlockDependency(draft.Blocks.FirstOrDefault(o => o.Name.Trim() == (name ?? "").Trim()), name ?? "")).ToList();
        }
        return draft;
    }

    /// <summary>The settings as they would be saved: job names trimmed (as the API does), commands as typed.</summary>
    public BuildSettings ToSettings() => Original with
    {
        Setup = Setup.Select(c => c.Text).ToList(),
        Jobs = Jobs.Select(j => j.ToSettings()).ToList(),
        Epilogue = Epilogue.Select(c => c.Text).ToList(),
        Image = string.IsNullOrWhiteSpace(Image) ? null : Image.Trim(),
        Blocks = Blocks.Count == 0 ? Original.Blocks is { Count: 0 } ? Original.Blocks : null : Blocks.Select(BlockSettingsOf).ToList(),
        TimeLimit = DraftText.Limit(TimeLimit, Original.TimeLimit),
        BuildTimeLimit = DraftText.Limit(BuildTimeLimit, Original.BuildTimeLimit),
        FailFast = FailFast == (Original.FailFast ?? false) ? Original.FailFast : FailFast,
        AutoCancel = AutoCancel == (Original.AutoCancel ?? false) ? Original.AutoCancel : AutoCancel,
        Env = VariableLines.ToSettings(Env, Original.Env),
    };

    private static BlockSettings BlockSettingsOf(BlockDraft block)
    {
        var original = block.Original ?? new BlockSettings("", []);
        var dependencies = block.Dependencies?.Select(d => d.CurrentName).ToList();
        return original with
        {
            Name = block.Name == original.Name ? original.Name : block.Name.Trim(),
            Jobs = block.Jobs.Select(j => j.ToSettings()).ToList(),
            Dependencies = dependencies is not null && original.Dependencies is { } written
                           && written.Select(d => (d ?? "").Trim()).SequenceEqual(dependencies, StringComparer.Ordinal)
                ? written : dependencies,
            Prologue = DraftText.Commands(block.Prologue, original.Prologue),
            Epilogue = DraftText.Commands(block.Epilogue, original.Epilogue),
            Env = VariableLines.ToSettings(block.Env, original.Env),
            When = block.When.ToSettings(),
        };
    }

    public bool Matches(BuildSettings settings) => SameSettings(ToSettings(), settings);

    public static bool SameSettings(BuildSettings a, BuildSettings b) =>
        BuildSettingsYaml.ToYaml(a) == BuildSettingsYaml.ToYaml(b)
        && a.Setup.SequenceEqual(b.Setup, StringComparer.Ordinal)
        && a.Epilogue.SequenceEqual(b.Epilogue, StringComparer.Ordinal)
        && (a.Image ?? "") == (b.Image ?? "")
        && a.Jobs.Count == b.Jobs.Count
        && a.Jobs.Zip(b.Jobs).All(p => p.First.Name.Trim() == p.Second.Name.Trim()
                                       && p.First.Commands.SequenceEqual(p.Second.Commands, StringComparer.Ordinal)
                                       && (p.First.TestReports ?? []).SequenceEqual(p.Second.TestReports ?? [], StringComparer.Ordinal)
                                       && (p.First.Coverage ?? []).SequenceEqual(p.Second.Coverage ?? [], StringComparer.Ordinal)
                                       && (p.First.Image ?? "") == (p.Second.Image ?? "")
                                       && BuildSettingsYaml.ServicesToYaml(p.First.Services) == BuildSettingsYaml.ServicesToYaml(p.Second.Services));

    /// <summary>Every job with the block it is in (null: the flat list) and its place in that list.</summary>
    public IEnumerable<(JobDraft Job, BlockDraft? Block, int Index)> AllJobs()
    {
        for (var i = 0; i < Jobs.Count; i++) yield return (Jobs[i], null, i);
        foreach (var block in Blocks)
            for (var i = 0; i < block.Jobs.Count; i++) yield return (block.Jobs[i], block, i);
    }

    /// <summary>The same rules as <see cref="BuildSettings.Validate"/>, attached to the fields they concern: the checks
    /// of names, commands, reports and containers in the form's words, the rest as the settings' own checks say them.</summary>
    public DraftProblems Validate()
    {
        var problems = new DraftProblems();
        CheckCommands(Setup, problems, n => $"Setup command {n} is empty: write a command or remove it.");
        if (!string.IsNullOrWhiteSpace(Image) && ContainerRules.ImageProblem(Image) is { } imageProblem)
        {
            problems.Image = imageProblem;
            problems.Summary.Add($"The project's image: {imageProblem}");
        }
        if (Jobs.Count == 0 && !HasBlocks)
        {
            problems.NoJobs = "Add at least one job: jobs are what a build runs.";
            problems.Summary.Add(problems.NoJobs);
        }
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (job, block, i) in AllJobs())
        {
            var title = DescribeJob(job, i, block);
            var name = job.Name.Trim();
            (string Field, string Summary)? nameProblem = null;
            if (name.Length == 0)
                nameProblem = ("A job needs a name.", $"{Format.Capitalized(title)} needs a name.");
            else if (job.Name.Length > MaxNameLength)
                nameProblem = ($"Use at most {MaxNameLength} characters.", $"The name of {title} is longer than {MaxNameLength} characters.");
            else if (!seen.Add(name))
                nameProblem = ($"Another job is already named '{name}'.", $"Two jobs are named '{name}'; rename one.");
            if (nameProblem is { } p)
            {
                problems.Names[job] = p.Field;
                problems.Summary.Add(p.Summary);
            }
            if (job.Commands.Count == 0)
            {
                problems.JobWithoutCommands[job] = "Add at least one command.";
                problems.Summary.Add($"{Format.Capitalized(title)} needs at least one command.");
            }
            CheckCommands(job.Commands, problems, n => $"Command {n} of {title} is empty: write a command or remove it.");
            CheckCommands(job.Prologue, problems, n => $"Prologue command {n} of {title} is empty: write a command or remove it.");
            CheckCommands(job.Epilogue, problems, n => $"Epilogue command {n} of {title} is empty: write a command or remove it.");
            CheckReports(job, job.TestReports, problems.TestReports, $"The test reports of {title}", problems);
            CheckReports(job, job.Coverage, problems.Coverage, $"The coverage reports of {title}", problems);
            CheckContainer(job, title, problems);
            CheckLines(job, DraftProblems.EnvOf, VariableLines.Parse(job.Env).Problems, $"The variables of {title}", problems);
            CheckLines(job, DraftProblems.MatrixOf, MatrixLines.Parse(job.Matrix).Problems, $"The matrix of {title}", problems);
        }
        for (var b = 0; b < Blocks.Count; b++)
        {
            var title = DescribeBlock(Blocks[b], b);
            CheckCommands(Blocks[b].Prologue, problems, n => $"Prologue command {n} of {title} is empty: write a command or remove it.");
            CheckCommands(Blocks[b].Epilogue, problems, n => $"Epilogue command {n} of {title} is empty: write a command or remove it.");
            CheckLines(Blocks[b], DraftProblems.EnvOf, VariableLines.Parse(Blocks[b].Env).Problems, $"The variables of {title}", problems);
        }
        CheckLines(DraftProblems.EnvField, DraftProblems.EnvOf, VariableLines.Parse(Env).Problems, "The build's variables", problems);
        CheckCommands(Epilogue, problems, n => $"Epilogue command {n} is empty: write a command or remove it.");
        CheckSettings(problems);
        return problems;
    }

    /// <summary>The settings' own checks (<see cref="BuildSettings.Validate"/>) of what only they check: limits,
    /// variable names, conditions, matrices, block names and dependencies. Each is put on its field by the path it
    /// starts with; one the form has no field for goes to the list, unless the form's own checks found problems already
    /// (they say the same thing in the form's words).</summary>
    private void CheckSettings(DraftProblems problems)
    {
        var fields = new List<(string Path, object Owner, string Field, string Where)>
        {
            ("timeLimit", DraftProblems.TimeLimitField, DraftProblems.TimeLimitOf, "The time limit per job"),
            ("buildTimeLimit", DraftProblems.BuildTimeLimitField, DraftProblems.TimeLimitOf, "The time limit of the build"),
            ("env", DraftProblems.EnvField, DraftProblems.EnvOf, "The build's variables"),
        };
        void JobFields(string path, JobDraft job, string title)
        {
            fields.Add(($"{path}.timeLimit", job, DraftProblems.TimeLimitOf, $"The time limit of {title}"));
            fields.Add(($"{path}.env", job, DraftProblems.EnvOf, $"The variables of {title}"));
            fields.Add(($"{path}.matrix", job, DraftProblems.MatrixOf, $"The matrix of {title}"));
            fields.Add(($"{path}.when", job, DraftProblems.WhenOf, $"The condition of {title}"));
        }
        for (var i = 0; i < Jobs.Count; i++) JobFields($"jobs[{i}]", Jobs[i], DescribeJob(Jobs[i], i));
        for (var b = 0; b < Blocks.Count; b++)
        {
            var block = Blocks[b];
            var title = DescribeBlock(block, b);
            fields.Add(($"blocks[{b}].name", block, DraftProblems.NameOf, $"The name of {title}"));
            fields.Add(($"blocks[{b}].dependencies", block, DraftProblems.DependenciesOf, $"What {title} runs after"));
            fields.Add(($"blocks[{b}].when", block, DraftProblems.WhenOf, $"The condition of {title}"));
            fields.Add(($"blocks[{b}].env", block, DraftProblems.EnvOf, $"The variables of {title}"));
            fields.Add(($"blocks[{b}].jobs:", block, DraftProblems.JobsOf, Format.Capitalized(title)));
            for (var i = 0; i < block.Jobs.Count; i++) JobFields($"blocks[{b}].jobs[{i}]", block.Jobs[i], DescribeJob(block.Jobs[i], i, block));
        }
        // Longest first, so blocks[0].jobs[1].env is not taken for blocks[0].jobs.
        fields.Sort((x, y) => y.Path.Length.CompareTo(x.Path.Length));
        var formFound = problems.Any;
        foreach (var error in ToSettings().Validate())
        {
            var field = fields.FirstOrDefault(f => error.StartsWith(f.Path, StringComparison.Ordinal)
                                                   && (f.Path.EndsWith(':') || (error.Length > f.Path.Length && error[f.Path.Length] is ':' or ' ' or '.' or '[')));
            if (field.Path is null)
            {
                // Said by the form's own checks in its words, or about nothing the form has a field for.
                if (!formFound) problems.Summary.Add(Unplaced(error));
                continue;
            }
            var text = Readable(error[field.Path.Length..]);
            problems.Fields[(field.Owner, field.Field)] = problems.Fields.TryGetValue((field.Owner, field.Field), out var before) ? $"{before} {text}" : text;
            problems.Summary.Add($"{field.Where}: {text}");
        }
    }

    /// <summary>What follows a field's path in an error of the settings' checks, without the rest of the path:
    /// <c>: 'ten minutes' is not a time limit</c> and <c>.1X: '1X' is not a variable name</c> read as the message.</summary>
    private static string Readable(string rest)
    {
        var text = rest;
        if (text.StartsWith(':')) text = text[1..];
        else if (text.StartsWith('.') || text.StartsWith('['))
        {
            var colon = text.IndexOf(": ", StringComparison.Ordinal);
            if (colon >= 0) text = text[(colon + 2)..];
        }
        return Format.Capitalized(text.Trim());
    }

    /// <summary>An error no field of the form shows, with its path said as the page says it ("Job test: ...").</summary>
    private string Unplaced(string error)
    {
        var m = System.Text.RegularExpressions.Regex.Match(error, @"^(?:blocks\[(?<b>\d+)\])?\.?(?:jobs\[(?<j>\d+)\])?");
        if (m.Length == 0) return error;
        var block = m.Groups["b"].Success && int.Parse(m.Groups["b"].Value, System.Globalization.CultureInfo.InvariantCulture) is var b && b < Blocks.Count ? Blocks[b] : null;
        var jobs = block?.Jobs ?? Jobs;
        var where = m.Groups["j"].Success && int.Parse(m.Groups["j"].Value, System.Globalization.CultureInfo.InvariantCulture) is var j && j < jobs.Count
            ? DescribeJob(jobs[j], j, block)
            : block is not null ? DescribeBlock(block, Blocks.IndexOf(block)) : null;
        if (where is null) return error;
        var rest = error[m.Length..];
        if (rest.StartsWith(" ('", StringComparison.Ordinal) && rest.IndexOf("')", StringComparison.Ordinal) is var close and > 0) rest = rest[(close + 2)..];
        return $"{Format.Capitalized(where)}: {Readable(rest.StartsWith(' ') ? rest.TrimStart() : rest)}";
    }

    private static void CheckLines(object owner, string field, List<string> lineProblems, string what, DraftProblems problems)
    {
        if (lineProblems.Count == 0) return;
        problems.Fields[(owner, field)] = string.Join(" ", lineProblems);
        problems.Summary.AddRange(lineProblems.Select(p => $"{what}: {p}"));
    }

    /// <summary>Every command of the draft with how the page names it ("Setup command 2", "Command 7 of job lint",
    /// "Epilogue command 1"): the field's own label and where it sits.</summary>
    public IEnumerable<(CommandDraft Command, string Where)> LocatedCommands()
    {
        for (var i = 0; i < Setup.Count; i++) yield return (Setup[i], $"Setup command {i + 1}");
        for (var b = 0; b < Blocks.Count; b++)
        {
            var what = DescribeBlock(Blocks[b], b);
            for (var i = 0; i < Blocks[b].Prologue.Count; i++) yield return (Blocks[b].Prologue[i], $"Prologue command {i + 1} of {what}");
        }
        foreach (var (job, block, j) in AllJobs())
        {
            var what = DescribeJob(job, j, block);
            for (var i = 0; i < job.Prologue.Count; i++) yield return (job.Prologue[i], $"Prologue command {i + 1} of {what}");
            for (var i = 0; i < job.Commands.Count; i++) yield return (job.Commands[i], $"Command {i + 1} of {what}");
            for (var i = 0; i < job.Epilogue.Count; i++) yield return (job.Epilogue[i], $"Epilogue command {i + 1} of {what}");
        }
        for (var b = 0; b < Blocks.Count; b++)
        {
            var what = DescribeBlock(Blocks[b], b);
            for (var i = 0; i < Blocks[b].Epilogue.Count; i++) yield return (Blocks[b].Epilogue[i], $"Epilogue command {i + 1} of {what}");
        }
        for (var i = 0; i < Epilogue.Count; i++) yield return (Epilogue[i], $"Epilogue command {i + 1}");
    }

    /// <summary>"job test", or "job 2" while it has no name ("job 2 of block deploy" in a block): how buttons, labels
    /// and messages refer to a job.</summary>
    public static string DescribeJob(JobDraft job, int index, BlockDraft? block = null) =>
        !string.IsNullOrWhiteSpace(job.Name) ? $"job {job.Name.Trim()}"
        : block is null ? $"job {index + 1}" : $"job {index + 1} of block {(string.IsNullOrWhiteSpace(block.Name) ? "without a name" : block.Name.Trim())}";

    /// <summary>"block deploy", or "block 2" while it has no name.</summary>
    public static string DescribeBlock(BlockDraft block, int index) =>
        string.IsNullOrWhiteSpace(block.Name) ? $"block {index + 1}" : $"block {block.Name.Trim()}";

    /// <summary>Moves the item at <paramref name="index"/> by <paramref name="delta"/> places; false at either end.</summary>
    public static bool Move<T>(List<T> list, int index, int delta)
    {
        var target = index + delta;
        if (index < 0 || index >= list.Count || target < 0 || target >= list.Count) return false;
        (list[index], list[target]) = (list[target], list[index]);
        return true;
    }

    /// <summary>The blocks <paramref name="block"/> runs after: the ones it names, or (named none) the block before it.</summary>
    public IReadOnlyList<BlockDraft> RunsAfter(BlockDraft block)
    {
        if (block.Dependencies is { } deps) return deps.Select(d => d.Block).OfType<BlockDraft>().ToList();
        var index = Blocks.IndexOf(block);
        return index <= 0 ? [] : [Blocks[index - 1]];
    }

    /// <summary>Turns the flat jobs into a first block named <paramref name="name"/>, so more blocks can follow it.</summary>
    public BlockDraft SplitIntoBlocks(string name = "Build")
    {
        var block = new BlockDraft { Name = name };
        block.Jobs.AddRange(Jobs);
        Jobs.Clear();
        Blocks.Insert(0, block);
        return block;
    }

    /// <summary>Why the one block cannot go back to a plain list of jobs (null: it can): only a single block without
    /// options of its own can, since a list of jobs has nowhere to keep them.</summary>
    public string? WhyNotOneList()
    {
        if (Blocks.Count != 1) return Blocks.Count == 0 ? "The jobs are one list already." : "Remove the other blocks first.";
        var block = Blocks[0];
        var kept = new List<string>();
        if (block.Env.Trim().Length > 0) kept.Add("variables");
        if (block.When.IsSet) kept.Add("condition");
        if (block.Prologue.Count > 0) kept.Add("prologue");
        if (block.Epilogue.Count > 0) kept.Add("epilogue");
        return kept.Count == 0 ? null
            : $"The block's {string.Join(" and ", kept)} would have nowhere to go: move {(kept.Count == 1 ? "it" : "them")} to its jobs or the settings first.";
    }

    /// <summary>The inverse of <see cref="SplitIntoBlocks"/>: the one block's jobs become the plain list again. False (and
    /// nothing changed) when <see cref="WhyNotOneList"/> says why not.</summary>
    public bool BackToOneList()
    {
        if (WhyNotOneList() is not null) return false;
        Jobs.AddRange(Blocks[0].Jobs);
        Blocks.Clear();
        return true;
    }

    /// <summary>A new block at the end, with one empty job, running after the block before it.</summary>
    public BlockDraft AddBlock()
    {
        var block = new BlockDraft { Dependencies = Blocks.Count == 0 ? [] : [new BlockDependency(Blocks[^1], "")] };
        block.Jobs.Add(new JobDraft("", [""]));
        Blocks.Add(block);
        return block;
    }

    /// <summary>Makes <paramref name="block"/> run after <paramref name="other"/> or not; from then on its
    /// dependencies are written out.</summary>
    public void SetRunsAfter(BlockDraft block, BlockDraft other, bool runsAfter)
    {
        var after = RunsAfter(block).ToList();
        after.Remove(other);
        if (runsAfter) after.Add(other);
        // Keep the blocks' order, so what is written reads like the page.
        block.Dependencies = Blocks.Where(after.Contains).Select(b => new BlockDependency(b, "")).ToList();
    }

    /// <summary>Moves a block up or down. What each block runs after stays as it was: a block whose dependencies were
    /// not written (the block before it) gets them written where the move would change them.</summary>
    public bool MoveBlock(int index, int delta) => KeepingWhatRunsAfter(() => Move(Blocks, index, delta));

    /// <summary>Removes a block; the blocks that ran after it no longer wait for it. Returns the blocks that ran after it.</summary>
    public IReadOnlyList<BlockDraft> RemoveBlock(int index)
    {
        var removed = Blocks[index];
        var dependants = Blocks.Where(b => b != removed && RunsAfter(b).Contains(removed)).ToList();
        KeepingWhatRunsAfter(() =>
        {
            Blocks.RemoveAt(index);
            return true;
        });
        foreach (var block in dependants) block.Dependencies?.RemoveAll(d => d.Block == removed);
        return dependants;
    }

    private bool KeepingWhatRunsAfter(Func<bool> change)
    {
        var before = Blocks.ToDictionary(b => b, RunsAfter);
        if (!change()) return false;
        foreach (var block in Blocks.Where(b => b.Dependencies is null))
        {
            if (!RunsAfter(block).SequenceEqual(before[block]))
                block.Dependencies = before[block].Select(b => new BlockDependency(b, "")).ToList();
        }
        return true;
    }

    private static void CheckCommands(List<CommandDraft> commands, DraftProblems problems, Func<int, string> summary)
    {
        for (var i = 0; i < commands.Count; i++)
        {
            if (!string.IsNullOrWhiteSpace(commands[i].Text)) continue;
            problems.Commands[commands[i]] = "Write a command or remove it.";
            problems.Summary.Add(summary(i + 1));
        }
    }

    private static void CheckReports(JobDraft job, string text, Dictionary<JobDraft, string> field, string what, DraftProblems problems)
    {
        var problem = (JobDraft.Globs(text) ?? []).Select(ReportPatterns.Problem).FirstOrDefault(p => p is not null);
        if (problem is null) return;
        field[job] = problem;
        problems.Summary.Add($"{what}: {problem}");
    }

    private void CheckContainer(JobDraft job, string title, DraftProblems problems)
    {
        if (!string.IsNullOrWhiteSpace(job.Image) && ContainerRules.ImageProblem(job.Image) is { } imageProblem)
        {
            problems.JobImages[job] = imageProblem;
            problems.Summary.Add($"The image of {title}: {imageProblem}");
        }
        var (services, errors) = BuildSettingsYaml.ServicesFromYaml(job.Services);
        var serviceProblems = errors.ToList();
        if (services is { Count: > 0 })
        {
            if (string.IsNullOrWhiteSpace(job.Image) && string.IsNullOrWhiteSpace(Image))
                serviceProblems.Add("services need the job to run in a container: set its image or the project's.");
            var aliases = new HashSet<string>(StringComparer.Ordinal);
            for (var s = 0; s < services.Count; s++)
                serviceProblems.AddRange(ContainerRules.ServiceProblems(services[s], aliases).Select(p => $"service {s + 1}: {p}"));
        }
        if (serviceProblems.Count == 0) return;
        problems.Services[job] = string.Join(" ", serviceProblems);
        problems.Summary.AddRange(serviceProblems.Select(p => $"The services of {title}: {p}"));
    }
}
