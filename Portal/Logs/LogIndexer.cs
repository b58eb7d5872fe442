using System.Threading.Channels;
using Kaizen.Portal.Builds;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kaizen.Portal.Logs;

/// <summary>
/// Keeps the line index of every running job up to date as its output arrives (the job's live notifications), so the
/// first person to open a job's page, even of a 200 MB log, finds the index built and waits only for the lines in view.
/// One job at a time, each pass reading only the chunks that came since the last.
/// </summary>
public sealed class LogIndexer(LiveUpdates live, LogViews views, LogStore store, ILogger<LogIndexer> logger) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);
    // A chatty job publishes many times a second; one pass per job this often reads its chunks in larger batches.
    private static readonly TimeSpan Batch = TimeSpan.FromMilliseconds(250);

    private readonly Channel<long> _due = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<long, IDisposable> _followed = [];
    private readonly HashSet<long> _queued = [];
    private readonly Lock _lock = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var work = ProcessAsync(stoppingToken);
        using var dashboard = live.Subscribe(LiveUpdates.Keys.Dashboard, () => FollowRunningAsync(stoppingToken));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await FollowRunningAsync(stoppingToken);
                await Task.Delay(Poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not list running jobs to index their logs");
                try { await Task.Delay(Poll, stoppingToken); }
                catch (OperationCanceledException) { break; }
            }
        }
        _due.Writer.TryComplete();
        try { await work; }
        catch (OperationCanceledException) { }
        lock (_lock)
        {
            foreach (var s in _followed.Values) s.Dispose();
            _followed.Clear();
        }
    }

    private async Task FollowRunningAsync(CancellationToken ct)
    {
        var running = (await store.RunningJobIdsAsync(ct)).ToHashSet();
        lock (_lock)
        {
            foreach (var id in running.Where(id => !_followed.ContainsKey(id)))
            {
                _followed[id] = live.Subscribe(LiveUpdates.Keys.Job(id), () => Enqueue(id));
                Enqueue(id);
            }
            foreach (var id in _followed.Keys.Where(id => !running.Contains(id)).ToList())
            {
                // Finished: one last pass takes what came with the end of the job.
                _followed.Remove(id, out var subscription);
                subscription!.Dispose();
                Enqueue(id);
            }
        }
    }

    private Task Enqueue(long jobId)
    {
        lock (_lock)
        {
            if (_queued.Add(jobId)) _due.Writer.TryWrite(jobId);
        }
        return Task.CompletedTask;
    }

    private async Task ProcessAsync(CancellationToken ct)
    {
        await foreach (var jobId in _due.Reader.ReadAllAsync(ct))
        {
            await Task.Delay(Batch, ct);
            lock (_lock) _queued.Remove(jobId);
            try
            {
                await views.OpenAsync(jobId, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not index the log of job {JobId}", jobId);
            }
        }
    }
}
