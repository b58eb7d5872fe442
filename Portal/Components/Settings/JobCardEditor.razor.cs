using Kaizen.Portal.Components.Shared;
using Microsoft.AspNetCore.Components;

namespace Kaizen.Portal.Components.Settings;

/// <summary>
/// The card of one job in the settings editor. It changes <see cref="Job"/> in place and tells the editor through
/// <see cref="OnTouched"/> (show this field's problems from now on) and <see cref="OnChanged"/> (check the draft again).
/// </summary>
public sealed partial class JobCardEditor
{
    /// <summary>The job being edited, owned by the editor's draft.</summary>
    [Parameter, EditorRequired] public JobDraft Job { get; set; } = default!;

    /// <summary>Its place in its list and how many jobs the list has (for the move buttons).</summary>
    [Parameter] public int Index { get; set; }
    [Parameter] public int Count { get; set; }

    /// <summary>How the page names the job: "job test", "job 2".</summary>
    [Parameter, EditorRequired] public string What { get; set; } = "";

    /// <summary>The problems to show (those of touched fields, or all after a Save).</summary>
    [Parameter] public DraftProblems Problems { get; set; } = new();

    [Parameter] public bool ReadOnly { get; set; }

    /// <summary>The job or command whose field takes the focus when it appears.</summary>
    [Parameter] public Guid? FocusKey { get; set; }

    /// <summary>The project's image and the build's limit per job, shown as what an empty field means.</summary>
    [Parameter] public string? ProjectImage { get; set; }
    [Parameter] public string? BuildTimeLimitPerJob { get; set; }

    [Parameter] public EventCallback<CommandDraft?> OnChanged { get; set; }
    [Parameter] public EventCallback<object> OnTouched { get; set; }

    /// <summary>Move by this many places (-1 up, 1 down).</summary>
    [Parameter] public EventCallback<int> OnMove { get; set; }
    [Parameter] public EventCallback OnRemove { get; set; }

    private bool _open;

    private const string ServicesExample = "- image: postgres:16\n  alias: db\n  env: { POSTGRES_PASSWORD: test }\n  ready: \"5432\"";

    /// <summary>A problem under "More options" keeps it open, so no error hides in a folded part.</summary>
    private bool OptionsHaveProblems =>
        new[] { DraftProblems.TimeLimitOf, DraftProblems.EnvOf, DraftProblems.MatrixOf, DraftProblems.WhenOf }.Any(f => Problems.Of(Job, f) is not null)
        || Job.Prologue.Concat(Job.Epilogue).Any(Problems.Commands.ContainsKey);

    /// <summary>What is set under the folded "More options": "time limit 5m · 1 variable · matrix of 2 jobs".</summary>
    private string OptionsSummary
    {
        get
        {
            var parts = new List<string>();
            if (Job.TimeLimit.Trim().Length > 0) parts.Add($"time limit {Job.TimeLimit.Trim()}");
            var variables = Job.Env.Split('\n').Count(l => l.Trim().Length > 0);
            if (variables > 0) parts.Add(variables == 1 ? "1 variable" : $"{variables} variables");
            if (Job.Matrix.Trim().Length > 0) parts.Add("matrix " + string.Join(" × ", Job.Matrix.Split('\n').Select(l => l.Split(':')[0].Trim()).Where(n => n.Length > 0)));
            if (Job.When.IsSet) parts.Add("runs only when its condition holds");
            if (Job.Prologue.Count > 0) parts.Add("prologue");
            if (Job.Epilogue.Count > 0) parts.Add("epilogue");
            return string.Join(" · ", parts);
        }
    }

    private async Task SetAsync(Action change)
    {
        change();
        await OnTouched.InvokeAsync(Job);
        await OnChanged.InvokeAsync(null);
    }

    private Task TouchAsync() => OnTouched.InvokeAsync(Job);

    private async Task CommandsChangedAsync(CommandDraft? added)
    {
        await OnTouched.InvokeAsync(Job);
        await OnChanged.InvokeAsync(added);
    }
}
