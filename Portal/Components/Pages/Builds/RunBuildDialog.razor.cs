using System.Security.Claims;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Pages.Builds;

/// <summary>
/// Run build…: picks a branch, a tag or a commit (suggesting the project's branches and tags, taking any typed name or
/// commit id) and extra variables, starts the build and closes with its id. Names are checked as they are typed; what
/// the portal refuses (an unknown ref, say) is shown in the dialog and nothing is lost.
/// </summary>
public partial class RunBuildDialog
{
    [CascadingParameter] private IMudDialogInstance Dialog { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    [Inject] private BuildService Builds { get; set; } = default!;
    [Inject] private BuildRefResolver Refs { get; set; } = default!;
    [Inject] private ProjectStore Projects { get; set; } = default!;

    /// <summary>The project to build.</summary>
    [Parameter, EditorRequired] public ProjectRow Project { get; set; } = default!;

    /// <summary>What the ref field starts with (a branch, when opened from its row); the default branch when null.</summary>
    [Parameter] public string? InitialRef { get; set; }

    private sealed class VariableRow
    {
        public string? Name { get; set; }
        public string? Value { get; set; }
    }

    private readonly List<VariableRow> _variables = [];
    private List<string> _branches = [];
    private HashSet<string> _tags = new(StringComparer.Ordinal);
    private string? _ref;
    private string? _refError;
    private string? _error;
    private bool _busy;

    protected override async Task OnInitializedAsync()
    {
        _ref = InitialRef ?? Project.DefaultBranch;
        _branches = (await Projects.BranchesAsync(Project.Id)).Select(b => b.Name).ToList();
        _tags = (await Refs.TagsAsync(Project, CancellationToken.None)).ToHashSet(StringComparer.Ordinal);
    }

    private Task<IEnumerable<string>> SearchAsync(string? text, CancellationToken ct)
    {
        var all = _branches.Concat(_tags.Where(t => !_branches.Contains(t)));
        // An opened list shows everything; typing narrows it.
        var found = string.IsNullOrWhiteSpace(text) || text == _ref && _branches.Concat(_tags).Contains(text)
            ? all
            : all.Where(r => r.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase));
        return Task.FromResult(found);
    }

    private void AddVariable() => _variables.Add(new VariableRow());

    /// <summary>Why a row's name cannot be used, or null; an empty new row is not an error until the build is started.</summary>
    private string? NameProblem(VariableRow row)
    {
        if (string.IsNullOrEmpty(row.Name)) return null;
        if (RunVariables.NameError(row.Name) is { } error) return error;
        return _variables.Count(v => string.Equals(v.Name, row.Name, StringComparison.OrdinalIgnoreCase)) > 1
            ? "This name is given twice." : null;
    }

    private async Task StartAsync()
    {
        _error = null;
        _refError = string.IsNullOrWhiteSpace(_ref) ? "Give a branch, a tag or a commit id." : null;
        // A row left wholly empty is ignored; a value without a name is a mistake worth saying.
        var rows = _variables.Where(v => !string.IsNullOrEmpty(v.Name) || !string.IsNullOrEmpty(v.Value)).ToList();
        if (rows.Any(v => string.IsNullOrEmpty(v.Name)))
        {
            _error = "Every variable needs a name (remove the rows you do not need).";
            return;
        }
        if (_refError is not null || rows.Any(v => NameProblem(v) is not null)) return;

        _busy = true;
        try
        {
            var user = Auth is null ? new ClaimsPrincipal() : (await Auth).User;
            var started = await Builds.RunAsync(Project, _ref!.Trim(), null,
                rows.Select(v => new KeyValuePair<string, string?>(v.Name!, v.Value ?? "")).ToList(), Trigger.Manual, user, CancellationToken.None);
            if (started.Ok) Dialog.Close(DialogResult.Ok(started.Value));
            else if (started.Message is { } message && message.StartsWith("ref: ", StringComparison.Ordinal)) _refError = message["ref: ".Length..];
            else _error = started.Message ?? "The build could not start.";
        }
        finally
        {
            _busy = false;
        }
    }
}
