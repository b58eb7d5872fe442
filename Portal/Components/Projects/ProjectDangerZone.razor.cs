using System.Security.Claims;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Projects;

/// <summary>
/// Deleting a project, for admins: a dialog asks for the project's name first (<see cref="ConfirmByNameDialog"/>); once
/// deleted, the projects list opens with a message of what was removed. Through <see cref="ProjectLifecycle"/>, the
/// same audited way as <c>DELETE /api/v1/projects/{slug}</c>.
/// </summary>
public sealed partial class ProjectDangerZone
{
    [Inject] private ProjectLifecycle Lifecycle { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    /// <summary>The project this zone deletes.</summary>
    [Parameter, EditorRequired] public ProjectRow Project { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    private bool _busy;

    private async Task DeleteAsync()
    {
        var dialog = await Dialogs.ShowAsync<ConfirmByNameDialog>($"Delete {Project.Name}?", new DialogParameters<ConfirmByNameDialog>
        {
            { d => d.Title, $"Delete {Project.Name}?" },
            { d => d.Text, "This deletes the project with all its builds, logs, test reports, artifacts, caches, servers, deploys, " +
                "variables and secrets. It cannot be undone." },
            { d => d.Name, Project.Name },
            { d => d.ConfirmText, "Delete this project" },
        }, new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true });
        var result = await dialog.Result;
        if (result is not { Canceled: false, Data: string typed }) return;

        var user = Auth is null ? new ClaimsPrincipal() : (await Auth).User;
        _busy = true;
        try
        {
            var deleted = await Lifecycle.DeleteAsync(Project, typed, user);
            if (!deleted.Ok)
            {
                Snackbar.Add(deleted.Message ?? "The project could not be deleted.", Severity.Error);
                return;
            }
            var removed = deleted.Value!;
            Snackbar.Add($"Project {Project.Name} deleted, with {Count(removed.Builds, "build")}, {Count(removed.Artifacts, "artifact")} " +
                $"and {Count(removed.Caches, "cache")}.", Severity.Success);
            Navigation.NavigateTo("/");
        }
        finally
        {
            _busy = false;
        }
    }

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";
}
