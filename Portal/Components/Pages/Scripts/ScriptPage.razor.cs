using Kaizen.Portal.Scripts;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Pages.Scripts;

/// <summary>
/// One script of the library: its text in the editor (saving makes a new version), its versions side by side, where
/// it is used and how long its recent runs took. Without a name it is the "New script" form.
/// </summary>
public sealed partial class ScriptPage
{
    private ScriptDetails? _details;
    private IReadOnlyList<ScriptUsage> _usages = [];
    private IReadOnlyList<ScriptRunTime> _runs = [];
    private List<BreadcrumbItem> _crumbs = [];
    private string? _readOnlyReason;
    private bool _canEdit;
    private bool _loading = true;
    private bool _saving;
    private string? _error;
    private string? _nameProblem;
    private string _newName = "";
    private string _description = "";
    private string _body = "";
    private int _from;
    private int _to;
    private int _tab;
    private string? _user;

    [Inject] private ScriptLibrary Library { get; set; } = null!;
    [Inject] private NavigationManager Navigation { get; set; } = null!;
    [Inject] private ISnackbar Snackbar { get; set; } = null!;
    [Inject] private IDialogService Dialogs { get; set; } = null!;

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    /// <summary>The script's name from the URL; null on the "New script" page.</summary>
    [Parameter] public string? Name { get; set; }

    private bool IsNew => Name is null;

    private bool Changed => _details is { } d && (_body != d.Versions[0].Body || _description.Trim() != d.Versions[0].Description);

    protected override async Task OnParametersSetAsync()
    {
        var user = Auth is null ? null : (await Auth).User;
        _user = user?.Identity?.Name;
        _canEdit = user is not null && (user.IsInRole("admin") || user.IsInRole("member"));
        _readOnlyReason = await Library.ReadOnlyReasonAsync();
        _crumbs = [new("Scripts", "/scripts"), new(IsNew ? "New" : Name!, null, disabled: true)];
        _error = null;
        if (!IsNew) await LoadAsync();
        _loading = false;
    }

    private async Task LoadAsync()
    {
        _details = await Library.GetAsync(Name!);
        if (_details is null) return;
        var latest = _details.Versions[0];
        _body = latest.Body;
        _description = latest.Description;
        _to = latest.Version;
        _from = _details.Versions.Count > 1 ? _details.Versions[1].Version : latest.Version;
        _usages = await Library.UsagesAsync(Name!);
        _runs = await Library.RecentRunsAsync(Name!);
    }

    private string Body(int version) => _details?.Versions.FirstOrDefault(v => v.Version == version)?.Body ?? "";

    private void CheckName() => _nameProblem = string.IsNullOrEmpty(_newName) ? null : ScriptReference.NameProblem(_newName.Trim());

    private void Revert()
    {
        if (_details is null) return;
        _body = _details.Versions[0].Body;
        _description = _details.Versions[0].Description;
        _error = null;
    }

    private async Task SaveAsync()
    {
        if (_user is null || !_canEdit) return;
        var name = IsNew ? _newName.Trim() : Name!;
        if (IsNew && await Library.GetAsync(name) is not null)
        {
            _error = $"A script named '{name}' already exists; open it from the list to change it.";
            return;
        }
        _saving = true;
        try
        {
            var outcome = await Library.SaveAsync(name, _body, _description, _user);
            if (!outcome.Ok)
            {
                _error = outcome.Message;
                return;
            }
            _error = null;
            var saved = outcome.Value!;
            Snackbar.Add(saved.Changed ? $"Saved {saved.Name} as v{saved.Version}." : $"Nothing changed: {saved.Name} stays at v{saved.Version}.",
                saved.Changed ? Severity.Success : Severity.Info);
            if (IsNew) Navigation.NavigateTo($"/scripts/{saved.Name}");
            else await LoadAsync();
        }
        finally
        {
            _saving = false;
        }
    }

    private async Task DeleteAsync()
    {
        if (_user is null || !_canEdit || Name is null) return;
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Delete script {Name}?",
            "Projects can no longer run it. Builds that already ran keep the text they ran.", yesText: "Delete", cancelText: "Cancel");
        if (confirmed != true) return;
        var outcome = await Library.DeleteAsync(Name, _user);
        if (!outcome.Ok)
        {
            _error = outcome.Message;
            return;
        }
        Snackbar.Add($"Script {Name} deleted.", Severity.Success);
        Navigation.NavigateTo("/scripts");
    }
}
