using System.Security.Claims;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Runners;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Runners;

/// <summary>
/// The runner labels of a project (required, and for fork pull requests) or of a server (required). Changes go through
/// <see cref="RunnerAdmin"/>, the same audited way as the API; only admins see the editor.
/// </summary>
public sealed partial class RunnerLabelsPanel
{
    [Inject] private RunnerLabelSettings Labels { get; set; } = default!;
    [Inject] private RunnerAdmin Admin { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>The project whose labels these are (or whose server's, with <see cref="Server"/>).</summary>
    [Parameter, EditorRequired] public ProjectRow Project { get; set; } = default!;

    /// <summary>Set: the labels of this server's deploys instead of the project's.</summary>
    [Parameter] public ServerRow? Server { get; set; }

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    private ClaimsPrincipal _user = new();
    private bool _isAdmin;
    private bool _loading = true;
    private bool _busy;
    private bool _guarded;
    private string _required = "";
    private string _fork = "";
    private string? _error;

    private string Explanation => Server is null
        ? "Jobs of this project go only to runners with every required label."
        : "Deploys to this server go only to runners with every required label.";

    private static string Shown(string labels) => labels.Length == 0 ? "none" : labels;

    protected override async Task OnParametersSetAsync()
    {
        _user = Auth is null ? new() : (await Auth).User;
        _isAdmin = _user.IsInRole(Roles.Admin);
        if (Server is { } server)
        {
            var labels = await Labels.OfServerAsync(server.Id);
            (_required, _guarded) = (string.Join(", ", labels.Required), labels.Guarded);
        }
        else
        {
            var labels = await Labels.OfProjectAsync(Project.Id);
            (_required, _fork) = (string.Join(", ", labels.Required), string.Join(", ", labels.ForkPullRequests));
        }
        _loading = false;
    }

    private static IReadOnlyList<string> Split(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private async Task SaveAsync()
    {
        _busy = true;
        try
        {
            var error = Server is { } server
                ? (await Admin.SetServerLabelsAsync(server, Split(_required), _user, CancellationToken.None)).Message
                : (await Admin.SetProjectLabelsAsync(Project.Id, Project.Slug, Split(_required), Split(_fork), _user, CancellationToken.None)).Message;
            _error = error;
            if (error is null) Snackbar.Add("Runner labels saved.", Severity.Success);
        }
        finally
        {
            _busy = false;
        }
    }
}
