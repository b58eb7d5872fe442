using System.Globalization;
using Kaizen.Portal.Logs;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Components.Web.Virtualization;
using Microsoft.JSInterop;

namespace Kaizen.Portal.Components.Logs;

/// <summary>One row of the flattened log: a section header (<see cref="LogViewer.HeaderRow"/>), a line, or a "no output" note.</summary>
public readonly record struct LogRow(int Section, int Line);

/// <summary>A row as shown: the line's number and, once read, the line.</summary>
public sealed record LogRowItem(LogRow Row, int Number, LogLine? Line);

/// <summary>
/// Shows a job's log as collapsible sections of ANSI-coloured lines. The rows (headers and the lines of open sections)
/// are never listed: row N is worked out from the sections' line counts, and <c>Virtualize</c> asks the
/// <see cref="Source"/> for the lines in view only, so a log of any length opens at once and costs what is on screen.
/// Follows the tail while the job runs, searches (on the server, bounded), and links every line (<c>#L123</c>).
/// </summary>
public sealed partial class LogViewer : ComponentBase, IAsyncDisposable
{
    /// <summary>Every row is this tall (CSS keeps lines on one line), so row N is at N × RowHeight.</summary>
    public const int RowHeight = 22;
    public const int HeaderRow = -1;
    public const int NoOutputRow = -2;

    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    /// <summary>The job whose log this is (for line links).</summary>
    [Parameter, EditorRequired] public long JobId { get; set; }

    /// <summary>The job's status: while running, the running section is open and the view follows the tail.</summary>
    [Parameter, EditorRequired] public string JobStatus { get; set; } = "";

    /// <summary>The sections in reading order (see <see cref="LogSectionInfo.Build"/>).</summary>
    [Parameter, EditorRequired] public IReadOnlyList<LogSectionInfo> Sections { get; set; } = [];

    /// <summary>Where lines are read and searched; a new source (more output) refreshes the rows in view.</summary>
    [Parameter, EditorRequired] public ILogLineSource Source { get; set; } = default!;

    /// <summary>Search shows at most this many matches and says when there are more.</summary>
    [Parameter] public int MaxMatches { get; set; } = 1000;

    private readonly Dictionary<string, bool> _toggled = [];
    private bool[] _expanded = [];
    // The sections the current layout (_expanded) was worked out for: a live log rebuilds it several times a second, so
    // what was open is read from these only when the job ends, not copied on every rebuild.
    private IReadOnlyList<LogSectionInfo> _layoutSections = [];
    private int[] _headerRows = [];
    private int _rowCount;
    private int _followRow = -1;
    private Virtualize<LogRowItem>? _list;
    private ILogLineSource? _shownSource;
    private ElementReference _viewport;
    private IJSObjectReference? _module;
    private DotNetObjectReference<LogViewer>? _self;
    private bool _follow;
    private bool _followTouched;
    private string? _lastStatus;
    private string _query = "";
    private List<LogRow> _matches = [];
    private bool _truncated;
    private int _searchedUpTo;
    private int _searchGeneration;
    private CancellationTokenSource? _search;
    private int _currentMatch = -1;
    private int? _selectedLine;
    private int? _currentSection;
    private (int Row, string Align)? _pendingScroll;
    private bool _scrollToEnd;
    private bool _revealedSelected;

    private bool IsRunning => JobStatus == Builds.Status.Running;

    private int LastNumber => Sections.Select(s => s.Lines is { Count: > 0 } l ? l.NumberAt(l.Count - 1) : 0).DefaultIfEmpty(0).Max();

    private int Digits => Math.Max(4, (LastNumber + 1).ToString(CultureInfo.InvariantCulture).Length + 1);

    private string MatchText => _query.Length == 0 ? "" : _matches.Count == 0 ? (_searchGeneration < 0 ? "Searching…" : "No matches")
        : _truncated ? $"{_currentMatch + 1} of first {_matches.Count:N0}" : $"{_currentMatch + 1} of {_matches.Count:N0}";

    private string? MatchTitle => _truncated ? $"Search stops at the first {MaxMatches:N0} matches; the raw log has every line" : null;

    /// <summary>How many rows the flattened log has (headers plus lines of open sections).</summary>
    internal int RowCount => _rowCount;

    protected override void OnInitialized()
    {
        _selectedLine = LineFromUri(Navigation.Uri);
        Navigation.LocationChanged += OnLocationChanged;
    }

    protected override async Task OnParametersSetAsync()
    {
        if (_lastStatus != JobStatus)
        {
            // The job ended while this page showed it: what was open (the section being followed, say) stays open, and
            // the failing section opens too, rather than the view folding up under the reader.
            if (_lastStatus == Builds.Status.Running)
            {
                for (var i = 0; i < _layoutSections.Count && i < _expanded.Length; i++)
                    if (_expanded[i]) _toggled.TryAdd(_layoutSections[i].Key, true);
            }
            // Follow by default while running, unless the person already chose.
            if (!_followTouched) _follow = IsRunning;
            _lastStatus = JobStatus;
        }
        Rebuild();
        if (_selectedLine is { } n && Locate(n) is { } at && !_revealedSelected)
        {
            _revealedSelected = true;
            Reveal(at, "center");
        }
        else if (_follow && IsRunning && _followRow >= 0)
        {
            _pendingScroll = (_followRow, "end");
        }
        var sourceChanged = !ReferenceEquals(_shownSource, Source);
        _shownSource = Source;
        if (_list is not null) await _list.RefreshDataAsync();
        if (sourceChanged && _query.Length > 0 && !_truncated) _ = ExtendSearchAsync();
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            try
            {
                _module = await JS.InvokeAsync<IJSObjectReference>("import", "./js/log-viewer.js");
                _self = DotNetObjectReference.Create(this);
                await _module.InvokeVoidAsync("attach", _viewport, _self);
            }
            catch (JSDisconnectedException) { return; }
        }
        if (_module is null) return;
        try
        {
            if (_pendingScroll is { } scroll)
            {
                _pendingScroll = null;
                await _module.InvokeVoidAsync("scrollToRow", _viewport, scroll.Row, RowHeight, scroll.Align);
            }
            else if (_scrollToEnd)
            {
                _scrollToEnd = false;
                await _module.InvokeVoidAsync("scrollToBottom", _viewport);
            }
        }
        catch (JSDisconnectedException) { }
    }

    /// <summary>The person scrolled up: stop following so the output stays where they are reading.</summary>
    [JSInvokable]
    public Task OnUserScrolledUp()
    {
        if (!_follow) return Task.CompletedTask;
        _follow = false;
        _followTouched = true;
        return InvokeAsync(StateHasChanged);
    }

    // Layout -------------------------------------------------------------------------------------------------------

    private void Rebuild()
    {
        // New arrays each time: a request for rows in flight keeps the layout it started with.
        var expanded = new bool[Sections.Count];
        var headers = new int[Sections.Count];
        var followRow = -1;
        var rows = 0;
        var current = IsRunning ? Sections.ToList().FindIndex(s => LogSectionInfo.OpenByDefault(s, Sections, JobStatus)) : -1;
        for (var i = 0; i < Sections.Count; i++)
        {
            var s = Sections[i];
            expanded[i] = _toggled.TryGetValue(s.Key, out var open) ? open : LogSectionInfo.OpenByDefault(s, Sections, JobStatus);
            headers[i] = rows++;
            if (expanded[i]) rows += Math.Max(1, s.LineCount);
            if (i == current) followRow = rows - 1;
        }
        _expanded = expanded;
        _layoutSections = Sections;
        _headerRows = headers;
        _rowCount = rows;
        _followRow = followRow;
    }

    private async Task RelayoutAsync()
    {
        Rebuild();
        if (_list is not null) await _list.RefreshDataAsync();
    }

    private bool IsExpanded(int section) => section < _expanded.Length && _expanded[section];

    // Row index → section and line, by binary search over the header rows.
    private static LogRow RowAt(int[] headers, IReadOnlyList<LogSectionInfo> sections, int row)
    {
        int lo = 0, hi = headers.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (headers[mid] <= row) lo = mid;
            else hi = mid - 1;
        }
        var offset = row - headers[lo];
        if (offset == 0) return new LogRow(lo, HeaderRow);
        return sections[lo].LineCount == 0 ? new LogRow(lo, NoOutputRow) : new LogRow(lo, offset - 1);
    }

    private async ValueTask<ItemsProviderResult<LogRowItem>> ProvideRowsAsync(ItemsProviderRequest request)
    {
        var (sections, headers, total, source) = (Sections, _headerRows, _rowCount, Source);
        var end = Math.Min(total, request.StartIndex + request.Count);
        var rows = new List<(LogRow Row, int Number)>(Math.Max(0, end - request.StartIndex));
        var numbers = new List<int>(rows.Capacity);
        for (var r = request.StartIndex; r < end; r++)
        {
            var row = RowAt(headers, sections, r);
            var number = row.Line >= 0 ? sections[row.Section].Lines!.NumberAt(row.Line) : 0;
            if (number > 0) numbers.Add(number);
            rows.Add((row, number));
        }
        numbers.Sort();
        var lines = numbers.Count == 0 ? null : await source.ReadAsync(numbers, request.CancellationToken);
        var items = rows.Select(r => new LogRowItem(r.Row, r.Number, r.Number > 0 && lines is not null && lines.TryGetValue(r.Number, out var l) ? l : null)).ToList();
        return new ItemsProviderResult<LogRowItem>(items, total);
    }

    private bool IsCurrentSection(int section) => _currentSection == section;

    private string RowClass(int number, bool isMatch, bool isCurrent) =>
        "row line" + (isMatch ? " match" : "") + (isCurrent ? " current" : "") + (number == _selectedLine ? " selected" : "");

    private async Task ToggleAsync(string key)
    {
        var index = Sections.ToList().FindIndex(s => s.Key == key);
        if (index < 0) return;
        _toggled[key] = !_expanded[index];
        await RelayoutAsync();
    }

    private async Task SetAll(bool open)
    {
        foreach (var s in Sections) _toggled[s.Key] = open;
        if (open) _follow = _follow && IsRunning;
        await RelayoutAsync();
    }

    private async Task ShowSectionAsync(string key)
    {
        var index = Sections.ToList().FindIndex(s => s.Key == key);
        if (index < 0) return;
        _toggled[key] = true;
        StopFollowing();
        await RelayoutAsync();
        _currentSection = index;
        _pendingScroll = (_headerRows[index], "start");
    }

    private Task SetFollowAsync(bool follow)
    {
        _follow = follow;
        _followTouched = true;
        if (follow)
        {
            if (_followRow >= 0) _pendingScroll = (_followRow, "end");
            else _scrollToEnd = true;
        }
        return Task.CompletedTask;
    }

    private void StopFollowing()
    {
        if (!_follow) return;
        _follow = false;
        _followTouched = true;
    }

    // Search -------------------------------------------------------------------------------------------------------

    private async Task SetQueryAsync(string? query)
    {
        query ??= "";
        if (query == _query) return;
        _query = query;
        _currentMatch = -1;
        _matches = [];
        _truncated = false;
        _searchedUpTo = 0;
        if (_search is not null) await _search.CancelAsync();
        _search = null;
        if (query.Length == 0) return;
        if (await SearchAsync(fromNumber: 1) && _matches.Count > 0) await GoToMatchAsync(0);
    }

    // Searches from a line on and appends what it finds; false when a newer search replaced this one.
    private async Task<bool> SearchAsync(int fromNumber)
    {
        var generation = Math.Abs(_searchGeneration) + 1;
        _searchGeneration = -generation; // negative while a search runs
        var cts = new CancellationTokenSource();
        var previous = Interlocked.Exchange(ref _search, cts);
        if (previous is not null) await previous.CancelAsync();
        var query = _query;
        var upTo = LastNumber;
        LogSearchResult result;
        try
        {
            result = await Source.SearchAsync(query, fromNumber, Math.Max(1, MaxMatches - _matches.Count(m => NumberOf(m) < fromNumber)), cts.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        if (_searchGeneration != -generation || query != _query) return false;
        _searchGeneration = generation;
        var found = result.Numbers.Select(Locate).OfType<LogRow>();
        _matches = [.. _matches.Where(m => NumberOf(m) < fromNumber).Concat(found).Distinct().OrderBy(m => _headerRows[m.Section]).ThenBy(m => m.Line)];
        _truncated = result.Truncated;
        _searchedUpTo = upTo;
        if (_currentMatch >= _matches.Count) _currentMatch = _matches.Count - 1;
        return true;
    }

    // More output arrived while a search is shown: look at the new lines too (the last one again: it may have grown).
    private async Task ExtendSearchAsync()
    {
        if (_searchGeneration < 0) return;
        try
        {
            if (await SearchAsync(Math.Max(1, _searchedUpTo))) await InvokeAsync(StateHasChanged);
        }
        catch (ObjectDisposedException) { }
    }

    private int NumberOf(LogRow row) => Sections[row.Section].Lines!.NumberAt(row.Line);

    private async Task MoveMatchAsync(int step)
    {
        if (_matches.Count == 0) return;
        await GoToMatchAsync(((_currentMatch < 0 ? 0 : _currentMatch + step) % _matches.Count + _matches.Count) % _matches.Count);
    }

    private Task SearchKeyDownAsync(KeyboardEventArgs e) =>
        e.Key == "Enter" ? MoveMatchAsync(e.ShiftKey ? -1 : 1) : Task.CompletedTask;

    private async Task GoToMatchAsync(int index)
    {
        _currentMatch = index;
        StopFollowing();
        if (Reveal(_matches[index], "center") && _list is not null) await _list.RefreshDataAsync();
    }

    // Expands the section of a line and scrolls it into view after the next render; true when the layout changed.
    private bool Reveal(LogRow at, string align)
    {
        var s = Sections[at.Section];
        var changed = false;
        if (!_expanded[at.Section])
        {
            _toggled[s.Key] = true;
            Rebuild();
            changed = true;
        }
        _currentSection = at.Section;
        _pendingScroll = (_headerRows[at.Section] + 1 + at.Line, align);
        return changed;
    }

    // Line links ---------------------------------------------------------------------------------------------------

    private async Task SelectLineAsync(int number)
    {
        _selectedLine = number;
        StopFollowing();
        if (_module is not null)
        {
            try { await _module.InvokeVoidAsync("setHash", $"#L{number}"); }
            catch (JSDisconnectedException) { }
        }
    }

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e)
    {
        if (LineFromUri(e.Location) is not { } n || n == _selectedLine) return;
        _ = InvokeAsync(async () =>
        {
            _selectedLine = n;
            if (Locate(n) is { } at)
            {
                StopFollowing();
                if (Reveal(at, "center") && _list is not null) await _list.RefreshDataAsync();
            }
            StateHasChanged();
        });
    }

    /// <summary>Where line number <paramref name="number"/> is (section and index), if it has arrived.</summary>
    private LogRow? Locate(int number)
    {
        for (var i = 0; i < Sections.Count; i++)
        {
            if (Sections[i].Lines is not { Count: > 0 } lines) continue;
            var k = lines.IndexOf(number);
            if (k >= 0) return new LogRow(i, k);
        }
        return null;
    }

    internal static int? LineFromUri(string uri)
    {
        var hash = uri.IndexOf('#');
        if (hash < 0) return null;
        var fragment = uri[(hash + 1)..];
        return fragment.StartsWith('L') && int.TryParse(fragment.AsSpan(1), out var n) && n > 0 ? n : null;
    }

    public async ValueTask DisposeAsync()
    {
        Navigation.LocationChanged -= OnLocationChanged;
        if (_search is not null) await _search.CancelAsync();
        if (_module is not null)
        {
            try
            {
                await _module.InvokeVoidAsync("detach", _viewport);
                await _module.DisposeAsync();
            }
            catch (JSDisconnectedException) { }
        }
        _self?.Dispose();
    }
}
