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

    [Inject] private BuildStore Builds { get; set; } = null!;

    // What the build's settings declared (read once from its snapshot) and where the build is now: the empty states
    // say what to do only when nothing was declared, and otherwise why there is nothing (yet).
    private (bool Tests, bool Coverage)? _declared;
    private string _status = "";

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

    /// <summary>What the empty tests or coverage panel says, from what the build declared and where it is.</summary>
    internal static string EmptyText(string what, bool declared, string status) => (declared, status) switch
    {
        (false, _) => "",
        (true, Status.Canceled) => $"No {what}: the build was canceled before the jobs that declare them uploaded any.",
        (true, Status.Passed or Status.Failed) => $"No {what}: the jobs that declare them wrote none. Check the paths in the build settings against where the tools write.",
        _ => $"No {what} yet: they arrive as the jobs that declare them finish.",
    };

    private async Task LoadAsync()
    {
        if (_declared is null)
        {
            var settings = (await Builds.SnapshotAsync(BuildId))?.Settings;
            var jobs = settings is null ? [] : Pipeline.Expand(settings).Select(j => j.Job).ToList();
            _declared = (jobs.Any(j => j.TestReports is { Count: > 0 }), jobs.Any(j => j.Coverage is { Count: > 0 }));
        }
        _status = (await Builds.FindAsync(BuildId))?.Status ?? "";
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
