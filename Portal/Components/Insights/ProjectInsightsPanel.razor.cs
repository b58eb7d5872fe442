using System.Security.Claims;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Shared;
using Kaizen.Portal.Insights;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Insights;

public partial class ProjectInsightsPanel : IDisposable
{
    [Inject] private InsightsService Insights { get; set; } = null!;

    [Inject] private LiveUpdates Live { get; set; } = null!;

    [Inject] private HiddenCommands Hidden { get; set; } = null!;

    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    /// <summary>The project, already checked readable by whoever looks.</summary>
    [Parameter, EditorRequired] public ProjectRow Project { get; set; } = null!;

    /// <summary>How often, at most, live changes recompute the figures. A finished build or deploy changes them a little;
    /// not every job event of every project (what the dashboard key carries: a job's end is published there, not on the
    /// project's key) need recompute them.</summary>
    [Parameter] public TimeSpan RefreshEvery { get; set; } = TimeSpan.FromSeconds(10);

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    private bool _loading = true;
    private bool _canHide;
    private bool _busy;
    private string? _error;
    private int _days = InsightsService.DefaultDays;
    private string? _branch;
    private string? _server;
    private ProjectInsights? _insights;
    private long _loadedProjectId;
    private IDisposable? _subscription;
    private CoalescingRefresh? _refresh;

    private List<ChartSeries<double>> _durationSeries = [];
    private List<ChartSeries<double>> _passRateSeries = [];
    private string[] _dayLabels = [];
    private List<ChartSeries<double>> _commandSeries = [];
    private string[] _commandLabels = [];
    private List<ChartSeries<double>> _productionSeries = [];
    private string[] _productionLabels = [];

    // Ticks every unit, thinned out by the chart when there would be too many (the default step, 20, hides minutes).
    private readonly LineChartOptions _minutesOptions = new()
        { YAxisTitle = "minutes", YAxisRequireZeroPoint = true, ShowDataMarkers = true, YAxisTicks = 1, MaxNumYAxisTicks = 8 };
    private readonly BarChartOptions _percentOptions = new() { YAxisTitle = "pass rate, %", YAxisSuggestedMax = 100, YAxisTicks = 20 };
    private readonly BarChartOptions _secondsOptions = new() { YAxisTitle = "seconds", YAxisTicks = 1, MaxNumYAxisTicks = 8 };

    /// <summary>The branch shown in the trend: the one picked, else the first (the default branch when it has builds).</summary>
    private BranchTrend? Branch => _insights?.Branches.FirstOrDefault(b => b.Branch == _branch) ?? _insights?.Branches.FirstOrDefault();

    protected override async Task OnParametersSetAsync()
    {
        if (_loadedProjectId == Project.Id && _insights is not null) return;
        _loadedProjectId = Project.Id;
        await LoadAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender) return;
        _refresh = new CoalescingRefresh(async () =>
        {
            await InvokeAsync(async () =>
            {
                await LoadAsync(quietly: true);
                StateHasChanged();
            });
        }, RefreshEvery);
        _subscription = Live.Subscribe(LiveUpdates.Keys.Dashboard, () => _refresh.RequestAsync());
    }

    /// <param name="quietly">A live refresh keeps the figures on screen while it reads the new ones.</param>
    private async Task LoadAsync(bool quietly = false)
    {
        _loading = !quietly;
        var user = await UserAsync();
        _canHide = user.IsInRole(Roles.Admin) || user.IsInRole(Roles.Member);
        var result = await Insights.ProjectAsync(Project, new InsightsQuery(_days, Server: _server), ProjectAccess.IsSignedIn(user));
        _error = result.Ok ? null : result.Message;
        _insights = result.Value;
        BuildCharts();
        _loading = false;
    }

    private async Task<ClaimsPrincipal> UserAsync() => Auth is null ? new ClaimsPrincipal() : (await Auth).User;

    private async Task HideAsync(SlowCommand row)
    {
        _busy = true;
        try
        {
            var result = await Hidden.HideAsync(Project, row.Key, await UserAsync());
            if (!result.Ok)
            {
                Snackbar.Add(result.Message!, Severity.Error);
                return;
            }
            Snackbar.Add($"Hidden: {InsightsText.Short(row.Command)} of {row.Job}. Show it again under Hidden.", Severity.Info);
            await LoadAsync(quietly: true);
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task ShowAsync(HiddenCommand row)
    {
        _busy = true;
        try
        {
            var result = await Hidden.ShowAsync(Project, new CommandKey(row.Job, row.Phase, row.Command), await UserAsync());
            if (!result.Ok) Snackbar.Add(result.Message!, Severity.Error);
            await LoadAsync(quietly: true);
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task SetDaysAsync(int days)
    {
        _days = days;
        await LoadAsync();
    }

    private async Task SetServerAsync(string server)
    {
        _server = server;
        await LoadAsync();
    }

    private void SetBranch(string branch)
    {
        _branch = branch;
        BuildCharts();
    }

    private void BuildCharts()
    {
        if (_insights is null) return;
        if (Branch is { } branch)
        {
            // Every day of the window on the x axis (a gap where there were no builds), labelled often enough to read.
            var first = DateOnly.FromDateTime(_insights.From.UtcDateTime);
            var window = Enumerable.Range(0, _insights.Days).Select(first.AddDays).ToList();
            var byDay = branch.Days.ToDictionary(d => d.Day, d => d.Figures);
            var every = Math.Max(1, (int)Math.Ceiling(window.Count / 12.0));
            _dayLabels = window.Select((d, i) => (window.Count - 1 - i) % every == 0 ? InsightsText.Day(d) : "").ToArray();
            IEnumerable<double?> Daily(Func<BuildFigures, double?> value) => window.Select(d => byDay.TryGetValue(d, out var f) ? value(f) : null);
            _durationSeries =
            [
                Series("Median duration", Daily(f => InsightsText.Minutes(f.MedianDurationMs))),
                Series("p90 duration", Daily(f => InsightsText.Minutes(f.P90DurationMs))),
                Series("Median queue", Daily(f => InsightsText.Minutes(f.MedianQueueMs))),
            ];
            _passRateSeries = [Series("Pass rate", Daily(f => f.PassRate is { } r ? Math.Round(r * 100, 1) : null))];
        }
        var top = _insights.SlowestCommands.Take(10).ToList();
        _commandLabels = top.Select((_, i) => (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        _commandSeries =
        [
            Series("Median", top.Select(c => (double?)Math.Round(c.MedianMs / 1000.0, 1))),
            Series("p90", top.Select(c => (double?)Math.Round(c.P90Ms / 1000.0, 1))),
        ];
        if (_insights.TimeToProduction is { } production)
        {
            _productionLabels = production.Items.Select(d => $"#{d.DeployId} {d.DeployFinishedAt.UtcDateTime:MMM d}").ToArray();
            _productionSeries =
            [
                Series("Time to production", production.Items.Select(d => InsightsText.Minutes(d.DurationMs))),
                // The target as a constant line, so every point reads against it.
                Series($"Target ({production.TargetMs / 60_000} min)", production.Items.Select(_ => InsightsText.Minutes(production.TargetMs))),
            ];
        }
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        _refresh?.Dispose();
    }

    private static ChartSeries<double> Series(string name, IEnumerable<double?> values) =>
        new() { Name = name, Data = new ChartData<double>(values.ToList()) };
}
