using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.Components.Authorization;

namespace Kaizen.Portal.Components.Pages.Projects;

/// <summary>
/// The base of a project's section pages: loads the project of the address (not found for whom may not read it, worded
/// exactly like a missing one) and who is looking. Each section then loads only what it shows.
/// </summary>
public abstract class ProjectSectionPage : ComponentBase
{
    [Inject] private ProjectStore ProjectStore { get; set; } = default!;

    /// <summary>The project's slug, from the address.</summary>
    [Parameter] public string Slug { get; set; } = "";

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    /// <summary>The project, once loaded; null while loading and when not found.</summary>
    protected ProjectRow? Project { get; private set; }

    /// <summary>True until the project of the current address has been looked up.</summary>
    protected bool Loading { get; private set; } = true;

    protected ClaimsPrincipal User { get; private set; } = new();

    protected bool SignedIn => ProjectAccess.IsSignedIn(User);

    protected override async Task OnParametersSetAsync()
    {
        // Another project in the same component (the switcher): show the loading state, not the old project's data.
        if (Project?.Slug != Slug) Loading = true;
        User = Auth is null ? new() : (await Auth).User;
        var project = await ProjectStore.FindBySlugAsync(Slug);
        Project = ProjectAccess.CanRead(User, project) ? project : null;
        if (Project is not null) await LoadSectionAsync(Project);
        Loading = false;
    }

    /// <summary>Loads what the section shows; runs each time the address's parameters are set.</summary>
    protected virtual Task LoadSectionAsync(ProjectRow project) => Task.CompletedTask;

    /// <summary>Reads the project again (after its settings or options changed).</summary>
    protected async Task ReloadProjectAsync()
    {
        var project = await ProjectStore.FindBySlugAsync(Slug);
        Project = ProjectAccess.CanRead(User, project) ? project : null;
    }
}
