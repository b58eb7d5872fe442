using Kaizen.Portal.Builds;
using Kaizen.Portal.Logs;
using Microsoft.AspNetCore.Components;

namespace Kaizen.Portal.Components.Logs;

/// <summary>
/// The live log of one job (a build's job or a deploy's): its command sections and timeline in a
/// <see cref="LogViewer"/>, kept up to date while the job runs. Refreshes are coalesced: at most one runs at a time,
/// and a burst of notifications causes one more. Pages that show facts about the job (status, duration) get every
/// fresh copy of it through <see cref="JobChanged"/>.
/// </summary>
public sealed partial class LiveJobLog : ComponentBase, IDisposable
{
    [Inject] private BuildStore Builds { get; set; } = default!;
    [Inject] private LogViews Views { get; set; } = default!;
    [Inject] private LiveUpdates Live { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    /// <summary>The job whose log this is.</summary>
    [Parameter, EditorRequired] public long JobId { get; set; }

    /// <summary>Raised with the job each time it is (re)loaded, so the page around the log can show its state.</summary>
    [Parameter] public EventCallback<JobRow> JobChanged { get; set; }

    private JobRow? _job;
    private IReadOnlyList<CommandRow> _commands = [];
    private LogView? _view;
    private IReadOnlyList<LogSectionInfo> _sections = [];
    private IDisposable? _subscription;
    private long _loadedId;

    private int _refreshing;
    private volatile bool _again;

    // Only new log or job state renders the viewer again; a re-render of the page around it (after JobChanged, say)
    // must not rebuild the rows of a long log for nothing.
    private bool _changed = true;

    protected override bool ShouldRender()
    {
        var render = _changed;
        _changed = false;
        return render;
    }

    protected override async Task OnParametersSetAsync()
    {
        if (_loadedId == JobId) return;
        _subscription?.Dispose();
        _subscription = null;
        var (job, commands, view) = await LoadAsync(JobId);
        _job = job;
        _commands = commands;
        _view = view;
        _sections = BuildSections();
        _loadedId = JobId;
        _changed = true;
        if (job is not null) await JobChanged.InvokeAsync(job);
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (_job is null || _subscription is not null) return;
        _subscription = Live.Subscribe(LiveUpdates.Keys.Job(JobId), OnChangeAsync);
        // Whatever happened between the first load and subscribing.
        _ = OnChangeAsync();
    }

    // The log is read after the job: output stored before the job's state is never newer than that state says.
    private async Task<(JobRow? Job, IReadOnlyList<CommandRow> Commands, LogView? View)> LoadAsync(long jobId)
    {
        var job = await Builds.FindJobAsync(jobId);
        if (job is null) return (null, [], null);
        var commands = await Builds.CommandsOfJobAsync(jobId);
        var view = await Views.OpenAsync(jobId, CancellationToken.None);
        return (job, commands, view);
    }

    private IReadOnlyList<LogSectionInfo> BuildSections() =>
        _job is null || _view is null ? [] : LogSectionInfo.Build(_job, _commands, _view, Time.GetUtcNow().ToUnixTimeMilliseconds());

    private async Task OnChangeAsync()
    {
        _again = true;
        while (_again && Interlocked.Exchange(ref _refreshing, 1) == 0)
        {
            try
            {
                while (_again)
                {
                    _again = false;
                    await RefreshAsync();
                    // A chatty job publishes many times a second; a few renders a second are enough to read along.
                    await Task.Delay(200);
                }
            }
            catch (Exception) when (_subscription is null)
            {
                return; // the page went away mid-refresh
            }
            finally
            {
                Volatile.Write(ref _refreshing, 0);
            }
        }
    }

    private async Task RefreshAsync()
    {
        var loadedId = _loadedId;
        var (job, commands, view) = await LoadAsync(loadedId);
        if (job is null) return;
        await InvokeAsync(async () =>
        {
            if (loadedId != _loadedId) return;
            _job = job;
            _commands = commands;
            _view = view;
            _sections = BuildSections();
            _changed = true;
            StateHasChanged();
            await JobChanged.InvokeAsync(job);
        });
    }

    public void Dispose()
    {
        var s = _subscription;
        _subscription = null;
        s?.Dispose();
    }
}
