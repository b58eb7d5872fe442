using Kaizen.Portal.Logs;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.JSInterop;

namespace Kaizen.Portal.Components.Logs;

/// <summary>One row of the flattened log: a section header (<see cref="LogViewer.HeaderRow"/>), a line, or a "no output" note.</summary>
public readonly record struct LogRow(int Section, int Line);

/// <summary>
/// Shows a job's log as collapsible sections of ANSI-coloured lines. Only the rows in view are rendered
/// (<c>Virtualize</c> over a flat list of headers and the lines of open sections), so a log of any length opens at
/// once. Follows the tail while the job runs, searches, and links every line (<c>#L123</c>).
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

    private readonly Dictionary<string, bool> _toggled = [];
    private List<LogRow> _rows = [];
    private bool[] _expanded = [];
    private int[] _headerRows = [];
    private int _followRow = -1;
    private ElementReference _viewport;
    private IJSObjectReference? _module;
    private DotNetObjectReference<LogViewer>? _self;
    private bool _follow;
    private bool _followTouched;
    private string? _lastStatus;
    private string _query = "";
    private readonly List<LogRow> _matches = [];
    private int _currentMatch = -1;
    private int? _selectedLine;
    private int? _currentSection;
    private (int Row, string Align)? _pendingScroll;
    private bool _scrollToEnd;

    private bool IsRunning => JobStatus == Builds.Status.Running;

    private int Digits => Math.Max(4, (Sections.Sum(s => s.LineCount) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length + 1);

    private string MatchText => _query.Length == 0 ? "" : _matches.Count == 0 ? "No matches" : $"{_currentMatch + 1} of {_matches.Count}";

    /// <summary>The rows currently in the flattened list (headers plus lines of open sections).</summary>
    internal IReadOnlyList<LogRow> Rows => _rows;

    protected override void OnInitialized()
    {
        _selectedLine = LineFromUri(Navigation.Uri);
        Navigation.LocationChanged += OnLocationChanged;
    }

    protected override void OnParametersSet()
    {
        if (_lastStatus != JobStatus)
        {
            // Follow by default while running, unless the person already chose.
            if (!_followTouched) _follow = IsRunning;
            _lastStatus = JobStatus;
        }
        Rebuild();
        if (_query.Length > 0) FindMatches(keepCurrent: true);
        if (_selectedLine is { } n && Locate(n) is { } at && !_revealedSelected)
        {
            _revealedSelected = true;
            Reveal(at, "center");
        }
        else if (_follow && IsRunning && _followRow >= 0)
        {
            _pendingScroll = (_followRow, "end");
        }
    }

    private bool _revealedSelected;

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

    private void Rebuild()
    {
        var rows = new List<LogRow>(_rows.Count + 16);
        _expanded = new bool[Sections.Count];
        _headerRows = new int[Sections.Count];
        _followRow = -1;
        var current = IsRunning ? Sections.ToList().FindIndex(s => LogSectionInfo.OpenByDefault(s, Sections, JobStatus)) : -1;
        for (var i = 0; i < Sections.Count; i++)
        {
            var s = Sections[i];
            _expanded[i] = _toggled.TryGetValue(s.Key, out var open) ? open : LogSectionInfo.OpenByDefault(s, Sections, JobStatus);
            _headerRows[i] = rows.Count;
            rows.Add(new LogRow(i, HeaderRow));
            if (_expanded[i])
            {
                var count = s.LineCount;
                if (count == 0) rows.Add(new LogRow(i, NoOutputRow));
                for (var k = 0; k < count; k++) rows.Add(new LogRow(i, k));
            }
            if (i == current) _followRow = rows.Count - 1;
        }
        _rows = rows;
    }

    private bool IsCurrentSection(int section) => _currentSection == section;

    private string RowClass(LogLine line, bool isMatch, bool isCurrent) =>
        "row line" + (isMatch ? " match" : "") + (isCurrent ? " current" : "") + (line.Number == _selectedLine ? " selected" : "");

    private Task ToggleAsync(string key)
    {
        var index = Sections.ToList().FindIndex(s => s.Key == key);
        if (index < 0) return Task.CompletedTask;
        _toggled[key] = !_expanded[index];
        Rebuild();
        return Task.CompletedTask;
    }

    private void SetAll(bool open)
    {
        foreach (var s in Sections) _toggled[s.Key] = open;
        if (open) _follow = _follow && IsRunning;
        Rebuild();
    }

    private Task ShowSectionAsync(string key)
    {
        var index = Sections.ToList().FindIndex(s => s.Key == key);
        if (index < 0) return Task.CompletedTask;
        _toggled[key] = true;
        StopFollowing();
        Rebuild();
        _currentSection = index;
        _pendingScroll = (_headerRows[index], "start");
        return Task.CompletedTask;
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

    private Task SetQueryAsync(string? query)
    {
        query ??= "";
        if (query == _query) return Task.CompletedTask;
        _query = query;
        _currentMatch = -1;
        FindMatches(keepCurrent: false);
        if (_matches.Count > 0) GoToMatch(0);
        return Task.CompletedTask;
    }

    private void FindMatches(bool keepCurrent)
    {
        var previous = keepCurrent && _currentMatch >= 0 && _currentMatch < _matches.Count ? _matches[_currentMatch] : (LogRow?)null;
        _matches.Clear();
        if (_query.Length == 0) return;
        for (var i = 0; i < Sections.Count; i++)
        {
            if (Sections[i].Lines is not { } lines) continue;
            for (var k = 0; k < lines.Count; k++)
                if (lines[k].Text.Contains(_query, StringComparison.OrdinalIgnoreCase)) _matches.Add(new LogRow(i, k));
        }
        _currentMatch = previous is { } p ? Math.Max(0, _matches.IndexOf(p)) : _matches.Count > 0 ? Math.Max(0, _currentMatch) : -1;
        if (_matches.Count == 0) _currentMatch = -1;
    }

    private Task MoveMatchAsync(int step)
    {
        if (_matches.Count == 0) return Task.CompletedTask;
        GoToMatch(((_currentMatch < 0 ? 0 : _currentMatch + step) % _matches.Count + _matches.Count) % _matches.Count);
        return Task.CompletedTask;
    }

    private Task SearchKeyDownAsync(KeyboardEventArgs e) =>
        e.Key == "Enter" ? MoveMatchAsync(e.ShiftKey ? -1 : 1) : Task.CompletedTask;

    private void GoToMatch(int index)
    {
        _currentMatch = index;
        StopFollowing();
        Reveal(_matches[index], "center");
    }

    // Expands the section of a line and scrolls it into view after the next render.
    private void Reveal(LogRow at, string align)
    {
        var s = Sections[at.Section];
        if (!_expanded[at.Section])
        {
            _toggled[s.Key] = true;
            Rebuild();
        }
        _currentSection = at.Section;
        var row = _headerRows[at.Section] + 1 + at.Line;
        _pendingScroll = (row, align);
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
        _ = InvokeAsync(() =>
        {
            _selectedLine = n;
            if (Locate(n) is { } at)
            {
                StopFollowing();
                Reveal(at, "center");
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
            var first = lines[0].Number;
            var last = lines[lines.Count - 1].Number;
            if (number < first || number > last) continue;
            int lo = 0, hi = lines.Count - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) / 2;
                var m = lines[mid].Number;
                if (m == number) return new LogRow(i, mid);
                if (m < number) lo = mid + 1;
                else hi = mid - 1;
            }
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
