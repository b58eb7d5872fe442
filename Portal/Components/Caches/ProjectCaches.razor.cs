using System.Globalization;
using System.Security.Claims;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Caches;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Caches;

/// <summary>
/// The shared dependency caches of one project (the project page's Caches tab and <c>/projects/{slug}/caches</c>):
/// each cache name's entries, size, restores and hit rate, and every entry with its size, when it was stored and last
/// used, its branch (a build restores its own branch's entries, then the default branch's), and its hits. Members and admins delete one entry or all of them, after a confirmation; deletes are audited
/// like the API's.
/// </summary>
public sealed partial class ProjectCaches
{
    [Inject] private CacheStore Store { get; set; } = default!;
    [Inject] private CacheService Caches { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>The project, already checked readable by the caller.</summary>
    [Parameter, EditorRequired] public long ProjectId { get; set; }

    /// <summary>The project's slug, for the audit log.</summary>
    [Parameter, EditorRequired] public string ProjectSlug { get; set; } = "";

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    private CacheSummary? _summary;
    private bool _canDelete;
    private ClaimsPrincipal _user = new();

    protected override async Task OnParametersSetAsync()
    {
        _user = Auth is null ? new ClaimsPrincipal() : (await Auth).User;
        _canDelete = _user.IsInRole(Roles.Admin) || _user.IsInRole(Roles.Member);
        await LoadAsync();
    }

    private async Task LoadAsync() =>
        _summary = CacheSummary.Of(await Store.OfProjectAsync(ProjectId), await Store.StatsAsync(ProjectId),
            Caches.ProjectBudgetBytes, Caches.MaxEntryBytes);

    private static string TotalText(CacheSummary summary) =>
        $"{Artifacts.ArtifactSizes.Format(summary.TotalSize)} of {Artifacts.ArtifactSizes.Format(summary.BudgetBytes)} used by " +
        $"{summary.Entries.Count} {(summary.Entries.Count == 1 ? "entry" : "entries")}; beyond that the least recently used go.";

    private static string Percent(double? rate) =>
        rate is { } r ? string.Create(CultureInfo.InvariantCulture, $"{r * 100:0.#} %") : "–";

    private async Task DeleteAsync(CacheEntryResponse entry)
    {
        if (!_canDelete) return;
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Delete cache {entry.Key} of {entry.Branch}?",
            "The next build that restores it starts from a fallback or from nothing, and stores it again.",
            yesText: "Delete", cancelText: "Cancel");
        if (confirmed != true) return;
        var deleted = await Caches.DeleteAsync(ProjectId, ProjectSlug, entry.Key, entry.Branch, _user, CancellationToken.None);
        Snackbar.Add(deleted ? $"Cache {entry.Key} deleted." : $"Cache {entry.Key} was already gone.", deleted ? Severity.Success : Severity.Info);
        await LoadAsync();
    }

    private async Task DeleteAllAsync()
    {
        if (!_canDelete) return;
        var confirmed = await Dialogs.ShowMessageBoxAsync("Delete every cache of this project?",
            "Builds start without caches until they store them again; the hit figures start over.",
            yesText: "Delete all", cancelText: "Cancel");
        if (confirmed != true) return;
        var deleted = await Caches.DeleteAllAsync(ProjectId, ProjectSlug, _user, CancellationToken.None);
        Snackbar.Add($"Deleted {deleted} cache {(deleted == 1 ? "entry" : "entries")}.", Severity.Success);
        await LoadAsync();
    }
}
