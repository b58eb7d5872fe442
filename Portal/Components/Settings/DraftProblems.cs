namespace Kaizen.Portal.Components.Settings;

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

    /// <summary>Problems of the pipeline's fields, by whose field (the build's <see cref="TimeLimitField"/>, a job,
    /// a block) and which (<see cref="TimeLimitOf"/>, <see cref="EnvOf"/>, ...).</summary>
    public Dictionary<(object Owner, string Field), string> Fields { get; } = [];
    public string? Image { get; set; }
    public string? NoJobs { get; set; }
    public List<string> Summary { get; } = [];
    public bool Any => Summary.Count > 0;

    /// <summary>The problem of one field, or null.</summary>
    public string? Of(object owner, string field) => Fields.GetValueOrDefault((owner, field));

    /// <summary>What <see cref="Image"/> and <see cref="NoJobs"/> are known by in <see cref="Only"/>.</summary>
    public static readonly object ImageField = new(), JobsField = new();

    /// <summary>The build's own pipeline options, as owners in <see cref="Fields"/> and in <see cref="Only"/>.</summary>
    public static readonly object TimeLimitField = new(), BuildTimeLimitField = new(), EnvField = new();

    public const string TimeLimitOf = "timeLimit", EnvOf = "env", MatrixOf = "matrix", WhenOf = "when",
        NameOf = "name", DependenciesOf = "dependencies", JobsOf = "jobs";

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
        static void Copy<T>(Dictionary<T, string> from, Dictionary<T, string> to, Func<T, bool> keep) where T : notnull
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
        Copy(Fields, only.Fields, key => shown(key.Owner));
        return only;
    }
}
