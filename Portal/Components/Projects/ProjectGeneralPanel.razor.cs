using System.Security.Claims;
using Kaizen.Portal.Projects;
using Kaizen.Runner.Checkout;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Projects;

/// <summary>
/// A project's name and git repository, for admins: saved through <see cref="ProjectLifecycle"/>, the same audited way
/// as <c>PATCH /api/v1/projects/{slug}</c>. Errors show on their field, in the field's words, once the field was left
/// or Save pressed (a form is never red before anyone typed).
/// </summary>
public sealed partial class ProjectGeneralPanel
{
    [Inject] private ProjectLifecycle Lifecycle { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>The project whose name and repository these are.</summary>
    [Parameter, EditorRequired] public ProjectRow Project { get; set; } = default!;

    /// <summary>Called after a change was saved, so the page around can show the project as it is now.</summary>
    [Parameter] public EventCallback OnChanged { get; set; }

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    private ProjectRow _project = default!;
    private long _loadedId;
    private string _name = "";
    private string _gitUrl = "";
    private string? _nameError;
    private string? _gitUrlError;
    private bool _busy;

    /// <summary>The address as shown: credentials masked.</summary>
    private string ShownGitUrl => GitUrlCredentials.Hide(_project.GitUrl);

    private bool Changed => _name.Trim() != _project.Name || _gitUrl.Trim() != ShownGitUrl;

    protected override void OnParametersSet()
    {
        ArgumentNullException.ThrowIfNull(Project);
        var first = _loadedId != Project.Id;
        _project = Project;
        if (!first) return;
        _loadedId = Project.Id;
        _name = Project.Name;
        _gitUrl = ShownGitUrl;
    }

    private void OnNameChanged(string? value)
    {
        _name = value ?? "";
        // Once shown, an error follows the typing; it first shows when the field is left.
        if (_nameError is not null) ValidateName();
    }

    private void ValidateName() => _nameError = ProjectService.NameError(_name);

    private void OnGitUrlChanged(string? value)
    {
        _gitUrl = value ?? "";
        _gitUrlError = null;
    }

    private async Task SaveAsync()
    {
        ValidateName();
        if (_nameError is not null || !Changed) return;
        var user = Auth is null ? new ClaimsPrincipal() : (await Auth).User;
        var gitUrlChanged = _gitUrl.Trim() != ShownGitUrl;
        _busy = true;
        try
        {
            var changed = await Lifecycle.ChangeAsync(_project, new ProjectIdentityChange(_name, gitUrlChanged ? _gitUrl : null), user);
            if (!changed.Ok)
            {
                // The name was checked above: what is left to refuse is the repository.
                _gitUrlError = changed.Message;
                return;
            }
            _project = changed.Value!;
            _name = _project.Name;
            _gitUrl = ShownGitUrl;
            Snackbar.Add(gitUrlChanged
                ? $"Saved: {_project.Name} now builds from {ShownGitUrl}."
                : $"Saved: the project is now called {_project.Name}.", Severity.Success);
            await OnChanged.InvokeAsync();
        }
        finally
        {
            _busy = false;
        }
    }
}
