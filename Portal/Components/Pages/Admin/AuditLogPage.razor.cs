using System.Globalization;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.Components;

namespace Kaizen.Portal.Components.Pages.Admin;

/// <summary>
/// The audit log for admins, filtered by person, project, action and time. The filter lives in the page's address
/// (<c>/admin/audit?project=web&amp;action=secret&amp;from=2026-12-01</c>), so a filtered view can be linked and Back
/// returns to the one before; the database does the filtering and paging.
/// </summary>
public sealed partial class AuditLogPage
{
    /// <summary>How many entries a page shows, and each "Load more" adds.</summary>
    public const int PageSize = 50;

    [Inject] private AuditLog Audit { get; set; } = default!;
    [Inject] private ProjectStore Projects { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [SupplyParameterFromQuery(Name = AuditFilter.Parameters.Actor)] public string? ActorQuery { get; set; }
    [SupplyParameterFromQuery(Name = AuditFilter.Parameters.Project)] public string? ProjectQuery { get; set; }
    [SupplyParameterFromQuery(Name = AuditFilter.Parameters.Action)] public string? ActionQuery { get; set; }
    [SupplyParameterFromQuery(Name = AuditFilter.Parameters.From)] public string? FromQuery { get; set; }
    [SupplyParameterFromQuery(Name = AuditFilter.Parameters.To)] public string? ToQuery { get; set; }

    private IReadOnlyList<ProjectRow> _projects = [];
    private AuditFilter _filter = AuditFilter.None;
    private List<AuditEntry>? _entries;
    private long? _nextBefore;
    private bool _loadingMore;
    private string? _errorParameter;
    private string? _error;

    // What the filter fields hold, applied to the address by "Filter".
    private string? _actor;
    private string? _project;
    private string? _action;
    private DateTime? _from;
    private DateTime? _to;

    protected override async Task OnInitializedAsync() => _projects = await Projects.ListAsync();

    protected override async Task OnParametersSetAsync()
    {
        var parsed = AuditFilter.Parse(ActorQuery, ProjectQuery, ActionQuery, FromQuery, ToQuery);
        (_actor, _project, _action) = (Blank(ActorQuery), Blank(ProjectQuery), Blank(ActionQuery));
        _errorParameter = parsed.Parameter;
        _error = parsed.Error;
        _entries = null;
        _nextBefore = null;
        if (!parsed.Ok) return;
        _filter = parsed.Filter!;
        (_from, _to) = (_filter.FromDate, _filter.ToDate);
        var page = await Audit.QueryAsync(_filter, before: null, PageSize);
        _entries = [.. page.Entries];
        _nextBefore = page.NextBefore;
    }

    private async Task LoadMoreAsync()
    {
        if (_nextBefore is null || _entries is null) return;
        _loadingMore = true;
        try
        {
            var page = await Audit.QueryAsync(_filter, _nextBefore, PageSize);
            _entries.AddRange(page.Entries);
            _nextBefore = page.NextBefore;
        }
        finally
        {
            _loadingMore = false;
        }
    }

    /// <summary>Checks the fields; a good filter becomes the address (and so the shown entries), a bad one marks its field.</summary>
    private Task ApplyAsync()
    {
        var parsed = AuditFilter.Parse(_actor, _project, _action, _from?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), _to?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        if (!parsed.Ok)
        {
            (_errorParameter, _error) = (parsed.Parameter, parsed.Error);
            return Task.CompletedTask;
        }
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters("/admin/audit", parsed.Filter!.ToQuery()));
        return Task.CompletedTask;
    }

    private void ClearFilters() => Navigation.NavigateTo("/admin/audit");

    /// <summary>This view's address with one filter set to <paramref name="value"/>.</summary>
    private string FilteredBy(string parameter, string value)
    {
        var query = new Dictionary<string, object?>(_filter.ToQuery()) { [parameter] = value };
        return Navigation.GetUriWithQueryParameters("/admin/audit", query);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
