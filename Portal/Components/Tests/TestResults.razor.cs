using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Shared;
using Kaizen.Portal.TestReports;
using Microsoft.AspNetCore.Components;

namespace Kaizen.Portal.Components.Tests;

/// <summary>
/// A build's test results (totals, failed tests first with their message and output, the slowest, each test's recent
/// history with flaky tests marked) and its coverage, refreshed as the build's jobs finish and upload their reports.
/// The caller has checked that the visitor may read the build.
/// </summary>
public partial class TestResults
{
    private const int MaxRows = 500;

    private BuildTests? _tests;
    private CoverageSummary? _coverage;
    private IReadOnlyDictionary<(string Suite, string Name), IReadOnlyList<TestRun>> _history =
        new Dictionary<(string, string), IReadOnlyList<TestRun>>();
    private IDisposable? _subscription;
    private CoalescingRefresh? _refresh;

    [Inject] private TestResultService Results { get; set; } = null!;

    [Inject] private LiveUpdates Live { get; set; } = null!;

    /// <summary>The build whose results are shown.</summary>
    [Parameter, EditorRequired] public long BuildId { get; set; }

    /// <summary>The build's project (its recent builds give each test's history and the flaky marks).</summary>
    [Parameter, EditorRequired] public long ProjectId { get; set; }

    /// <summary>Whether the build has finished (an empty state then says "no results", not "no results yet").</summary>
    [Parameter] public bool Finished { get; set; }

    private IReadOnlyList<TestResultItem> Failed => _tests?.Tests.Where(t => t.Status == TestStatus.Failed).ToList() ?? [];

    private string TestsTabText => _tests is { Totals.Total: > 0 } t
        ? $"Tests ({(t.Totals.Failed > 0 ? $"{t.Totals.Failed} failed" : $"{t.Totals.Passed} passed")})"
        : "Tests";

    private string CoverageTabText => _coverage is null ? "Coverage" : $"Coverage ({TestResultService.Percent(_coverage.Percent)})";

    private IReadOnlyList<TestRun> RunsOf(TestResultItem test) => _history.GetValueOrDefault((test.Suite, test.Name)) ?? [];

    protected override async Task OnParametersSetAsync() => await LoadAsync();

    private async Task LoadAsync()
    {
        var tests = await Results.BuildTestsAsync(ProjectId, BuildId);
        _coverage = await Results.CoverageAsync(BuildId);
        _history = tests.Totals.Total == 0 ? _history : await Results.RecentRunsAsync(ProjectId);
        _tests = tests;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender) return;
        // Reports arrive just before a job completes, which publishes the build's key.
        _refresh = new CoalescingRefresh(async () =>
        {
            await LoadAsync();
            await InvokeAsync(StateHasChanged);
        }, CoalescingRefresh.DefaultInterval);
        _subscription = Live.Subscribe(LiveUpdates.Keys.Build(BuildId), _refresh.RequestAsync);
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        _refresh?.Dispose();
    }
}
