using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Components.Settings;

/// <summary>One job as the editor holds it: its fields as typed, turned into <see cref="JobSettings"/> by <see cref="ToSettings"/>.</summary>
public sealed class JobDraft(string name, IEnumerable<string> commands, IEnumerable<string>? testReports = null,
    IEnumerable<string>? coverage = null, string? image = null, IReadOnlyList<ServiceSettings>? services = null)
{
    /// <summary>The job as loaded, so what this editor does not show is saved as it was, and an option left as loaded
    /// is saved exactly as it was written.</summary>
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

    /// <summary>The job's own time limit as typed (empty: the settings' limit per job).</summary>
    public string TimeLimit { get; set; } = "";

    /// <summary>The job's own variables as <c>NAME=value</c> lines.</summary>
    public string Env { get; set; } = "";

    /// <summary>The matrix as <c>NAME: value, value</c> lines, one axis a line.</summary>
    public string Matrix { get; set; } = "";

    public WhenDraft When { get; private init; } = WhenDraft.From(null);
    public List<CommandDraft> Prologue { get; } = [];
    public List<CommandDraft> Epilogue { get; } = [];

    /// <summary>Whether any of the options under "More options" is set (so the card can say so while they are folded).</summary>
    public bool HasOptions => TimeLimit.Trim().Length > 0 || Env.Trim().Length > 0 || Matrix.Trim().Length > 0 || When.IsSet
                              || Prologue.Count > 0 || Epilogue.Count > 0;

    public static JobDraft From(JobSettings job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var draft = new JobDraft(job.Name ?? "", (job.Commands ?? []).Select(c => c ?? ""), job.TestReports, job.Coverage, job.Image, job.Services)
        {
            Original = job,
            TimeLimit = job.TimeLimit ?? "",
            Env = VariableLines.ToText(job.Env),
            Matrix = MatrixLines.ToText(job.Matrix),
            When = WhenDraft.From(job.When),
        };
        draft.Prologue.AddRange((job.Prologue ?? []).Select(c => new CommandDraft(c ?? "")));
        draft.Epilogue.AddRange((job.Epilogue ?? []).Select(c => new CommandDraft(c ?? "")));
        return draft;
    }

    /// <summary>The job as it would be saved: what is unchanged stays exactly as loaded.</summary>
    public JobSettings ToSettings()
    {
        var original = Original ?? new JobSettings("", []);
        return original with
        {
            Name = Name.Trim(), Commands = Commands.Select(c => c.Text).ToList(),
            TestReports = Globs(TestReports), Coverage = Globs(Coverage),
            Image = string.IsNullOrWhiteSpace(Image) ? null : Image.Trim(), Services = ParsedServices(),
            TimeLimit = DraftText.Limit(TimeLimit, original.TimeLimit),
            Env = VariableLines.ToSettings(Env, original.Env),
            Matrix = MatrixLines.ToSettings(Matrix, original.Matrix),
            When = When.ToSettings(),
            Prologue = DraftText.Commands(Prologue, original.Prologue),
            Epilogue = DraftText.Commands(Epilogue, original.Epilogue),
        };
    }

    /// <summary>The globs of a report field; null when there are none (so settings without reports stay as they were).</summary>
    public static IReadOnlyList<string>? Globs(string text)
    {
        var globs = text.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return globs.Length == 0 ? null : globs;
    }
}

/// <summary>A block as the editor holds it. <see cref="Dependencies"/> null: not written (the block before it);
/// the entries point at the blocks themselves, so renaming a block keeps the blocks that run after it pointing at it.</summary>
public sealed class BlockDraft
{
    public BlockSettings? Original { get; init; }
    public Guid Key { get; } = Guid.NewGuid();
    public string Name { get; set; } = "";

    /// <summary>The blocks this one runs after, or null when the settings do not say (then: the block before it).</summary>
    public List<BlockDependency>? Dependencies { get; set; }

    public WhenDraft When { get; init; } = WhenDraft.From(null);

    /// <summary>The block's variables as <c>NAME=value</c> lines.</summary>
    public string Env { get; set; } = "";
    public List<CommandDraft> Prologue { get; } = [];
    public List<CommandDraft> Epilogue { get; } = [];
    public List<JobDraft> Jobs { get; } = [];

    public bool HasOptions => Env.Trim().Length > 0 || When.IsSet || Prologue.Count > 0 || Epilogue.Count > 0;
}

/// <summary>One entry of a block's "runs after": another block of the draft, or a name no block has (from loaded
/// settings; shown as a problem until it is removed).</summary>
public sealed record BlockDependency(BlockDraft? Block, string Name)
{
    public string CurrentName => Block?.Name.Trim() ?? Name.Trim();
}

/// <summary>A condition as the editor holds it: pattern lists as comma-separated text.</summary>
public sealed class WhenDraft
{
    public WhenSettings? Original { get; private init; }
    public string Branch { get; set; } = "";
    public string Tag { get; set; } = "";
    public string Changed { get; set; } = "";

    /// <summary>null: any build; true: only pull requests; false: never pull requests.</summary>
    public bool? PullRequest { get; set; }

    public bool IsSet => Branch.Trim().Length > 0 || Tag.Trim().Length > 0 || Changed.Trim().Length > 0 || PullRequest is not null;

    public static WhenDraft From(WhenSettings? when) => new()
    {
        Original = when,
        Branch = DraftText.Join(when?.Branch), Tag = DraftText.Join(when?.Tag), Changed = DraftText.Join(when?.Changed),
        PullRequest = when?.PullRequest,
    };

    public WhenSettings? ToSettings()
    {
        var original = Original ?? new WhenSettings();
        var when = original with
        {
            Branch = DraftText.Patterns(Branch, original.Branch),
            Tag = DraftText.Patterns(Tag, original.Tag),
            Changed = DraftText.Patterns(Changed, original.Changed),
            PullRequest = PullRequest,
        };
        // An empty condition written as such stays (the checks say so); one emptied here is left out.
        return when.IsEmpty ? Original is { IsEmpty: true } ? Original : null : when;
    }
}
