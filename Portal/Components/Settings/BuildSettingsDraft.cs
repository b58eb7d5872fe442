using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Components.Settings;

/// <summary>One command as the editor holds it; the key keeps a text field attached to its command when rows move.</summary>
public sealed class CommandDraft(string text)
{
    public Guid Key { get; } = Guid.NewGuid();
    public string Text { get; set; } = text;
}

public sealed class JobDraft(string name, IEnumerable<string> commands, IEnumerable<string>? testReports = null,
    IEnumerable<string>? coverage = null, string? image = null, IReadOnlyList<ServiceSettings>? services = null)
{
    /// <summary>The job as loaded, so what this editor does not show (variables, matrix, condition, limit, its own
    /// prologue and epilogue) is saved as it was.</summary>
    public JobSettings? Original { get; init; }

    /// <summary>The job's own image (empty: the project's, or the runner's shell).</summary>
    public string Image { get; set; } = image ?? "";

    /// <summary>Its service containers as YAML (a list of image, alias, env, ready), as typed.</summary>
    public string Services { get; set; } = BuildSettingsYaml.ServicesToYaml(services);

    /// <summary>The services typed, or null when there are none or they do not read.</summary>
    public IReadOnlyList<ServiceSettings>? ParsedServices() => BuildSettingsYaml.ServicesFromYaml(Services).Services;

    public Guid Key { get; } = Guid.NewGuid();
    public string Name { get; set; } = name;
    public List<CommandDraft> Commands { get; } = commands.Select(c => new CommandDraft(c)).ToList();

    /// <summary>JUnit XML globs as typed: separated by commas or new lines.</summary>
    public string TestReports { get; set; } = string.Join(", ", testReports ?? []);

    /// <summary>Cobertura XML globs as typed: separated by commas or new lines.</summary>
    public string Coverage { get; set; } = string.Join(", ", coverage ?? []);

    /// <summary>The globs of a report field; null when there are none (so settings without reports stay as they were).</summary>
    public static IReadOnlyList<string>? Globs(string text)
    {
        var globs = text.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return globs.Length == 0 ? null : globs;
    }
}

/// <summary>
/// The editable, mutable form of <see cref="BuildSettings"/>: what the user has typed so far, valid or not.
/// It is only turned back into <see cref="BuildSettings"/> to compare, export or save, so nothing typed is lost
/// while it fails validation.
/// </summary>
public sealed class BuildSettingsDraft
{
    public const int MaxNameLength = 200;

    public List<CommandDraft> Setup { get; } = [];
    public List<JobDraft> Jobs { get; } = [];
    public List<CommandDraft> Epilogue { get; } = [];

    /// <summary>The project's image: every job runs in a container from it unless it names its own (empty: the shell).</summary>
    public string Image { get; set; } = "";

    /// <summary>The settings as loaded: blocks and pipeline options, which this editor shows but does not change, are
    /// saved from here as they were.</summary>
    public BuildSettings Original { get; private init; } = BuildSettings.Empty;

    /// <summary>Whether the settings use blocks (the editor then shows them read-only).</summary>
    public bool HasBlocks => Original.HasBlocks;

    public static BuildSettingsDraft From(BuildSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var draft = new BuildSettingsDraft { Image = settings.Image ?? "", Original = settings };
        draft.Setup.AddRange((settings.Setup ?? []).Select(c => new CommandDraft(c ?? "")));
        draft.Jobs.AddRange((settings.Jobs ?? []).Where(j => j is not null).Select(j => new JobDraft(j.Name ?? "", j.Commands ?? [], j.TestReports, j.Coverage, j.Image, j.Services) { Original = j }));
        draft.Epilogue.AddRange((settings.Epilogue ?? []).Select(c => new CommandDraft(c ?? "")));
        return draft;
    }

    /// <summary>The settings as they would be saved: job names trimmed (as the API does), commands as typed.</summary>
    public BuildSettings ToSettings() => Original with
    {
        Setup = Setup.Select(c => c.Text).ToList(),
        Jobs = Jobs.Select(j => (j.Original ?? new JobSettings("", [])) with
        {
            Name = j.Name.Trim(), Commands = j.Commands.Select(c => c.Text).ToList(),
            TestReports = JobDraft.Globs(j.TestReports), Coverage = JobDraft.Globs(j.Coverage),
            Image = string.IsNullOrWhiteSpace(j.Image) ? null : j.Image.Trim(), Services = j.ParsedServices(),
        }).ToList(),
        Epilogue = Epilogue.Select(c => c.Text).ToList(),
        Image = string.IsNullOrWhiteSpace(Image) ? null : Image.Trim(),
    };

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

    /// <summary>The same rules as <see cref="BuildSettings.Validate"/>, attached to the fields they concern.</summary>
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
        for (var i = 0; i < Jobs.Count; i++)
        {
            var job = Jobs[i];
            var title = DescribeJob(job, i);
            var name = job.Name.Trim();
            (string Field, string Summary)? nameProblem = null;
            if (name.Length == 0)
                nameProblem = ("A job needs a name.", $"{Capitalize(title)} needs a name.");
            else if (job.Name.Length > MaxNameLength)
                nameProblem = ($"Use at most {MaxNameLength} characters.", $"The name of job {i + 1} is longer than {MaxNameLength} characters.");
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
                problems.Summary.Add($"{Capitalize(title)} needs at least one command.");
            }
            CheckCommands(job.Commands, problems, n => $"Command {n} of {title} is empty: write a command or remove it.");
            CheckReports(job, job.TestReports, problems.TestReports, $"The test reports of {title}", problems);
            CheckReports(job, job.Coverage, problems.Coverage, $"The coverage reports of {title}", problems);
            CheckContainer(job, title, problems);
        }
        CheckCommands(Epilogue, problems, n => $"Epilogue command {n} is empty: write a command or remove it.");
        return problems;
    }

    /// <summary>Every command of the draft with how the page names it ("Setup command 2", "Command 7 of job lint",
    /// "Epilogue command 1"): the field's own label and where it sits.</summary>
    public IEnumerable<(CommandDraft Command, string Where)> LocatedCommands()
    {
        for (var i = 0; i < Setup.Count; i++) yield return (Setup[i], $"Setup command {i + 1}");
        for (var j = 0; j < Jobs.Count; j++)
        {
            var what = DescribeJob(Jobs[j], j);
            for (var i = 0; i < Jobs[j].Commands.Count; i++) yield return (Jobs[j].Commands[i], $"Command {i + 1} of {what}");
        }
        for (var i = 0; i < Epilogue.Count; i++) yield return (Epilogue[i], $"Epilogue command {i + 1}");
    }

    /// <summary>"job test", or "job 2" while it has no name: how buttons, labels and messages refer to a job.</summary>
    public static string DescribeJob(JobDraft job, int index) =>
        string.IsNullOrWhiteSpace(job.Name) ? $"job {index + 1}" : $"job {job.Name.Trim()}";

    /// <summary>Moves the item at <paramref name="index"/> by <paramref name="delta"/> places; false at either end.</summary>
    public static bool Move<T>(List<T> list, int index, int delta)
    {
        var target = index + delta;
        if (index < 0 || index >= list.Count || target < 0 || target >= list.Count) return false;
        (list[index], list[target]) = (list[target], list[index]);
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

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}

/// <summary>What is wrong with a draft: per field (shown next to it) and as a summary list.</summary>
public sealed class DraftProblems
{
    public Dictionary<CommandDraft, string> Commands { get; } = [];
    public Dictionary<JobDraft, string> Names { get; } = [];
    public Dictionary<JobDraft, string> JobWithoutCommands { get; } = [];
    public Dictionary<JobDraft, string> TestReports { get; } = [];
    public Dictionary<JobDraft, string> Coverage { get; } = [];
    public Dictionary<JobDraft, string> JobImages { get; } = [];
    public Dictionary<JobDraft, string> Services { get; } = [];
    public string? Image { get; set; }
    public string? NoJobs { get; set; }
    public List<string> Summary { get; } = [];
    public bool Any => Summary.Count > 0;

    /// <summary>What <see cref="Image"/> and <see cref="NoJobs"/> are known by in <see cref="Only"/>.</summary>
    public static readonly object ImageField = new(), JobsField = new();

    /// <summary>The problems of the fields <paramref name="shown"/> accepts (a command, a job, <see cref="ImageField"/>,
    /// <see cref="JobsField"/>), without the summary: what a form shows before its first Save, so a field someone has
    /// not touched yet is not red.</summary>
    public DraftProblems Only(Func<object, bool> shown)
    {
        ArgumentNullException.ThrowIfNull(shown);
        var only = new DraftProblems
        {
            Image = shown(ImageField) ? Image : null,
            NoJobs = shown(JobsField) ? NoJobs : null,
        };
        static void Copy<T>(Dictionary<T, string> from, Dictionary<T, string> to, Func<object, bool> keep) where T : notnull
        {
            foreach (var (key, value) in from)
                if (keep(key)) to[key] = value;
        }
        Copy(Commands, only.Commands, shown);
        Copy(Names, only.Names, shown);
        Copy(JobWithoutCommands, only.JobWithoutCommands, shown);
        Copy(TestReports, only.TestReports, shown);
        Copy(Coverage, only.Coverage, shown);
        Copy(JobImages, only.JobImages, shown);
        Copy(Services, only.Services, shown);
        return only;
    }
}
