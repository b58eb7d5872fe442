namespace Kaizen.Portal.Components.Shared;

/// <summary>
/// Turns bursts of live notifications into at most one refresh per interval, always followed by a final one, so a job
/// streaming megabytes of output does not make a page query the database for every batch.
/// </summary>
public sealed class CoalescingRefresh(Func<Task> refresh, TimeSpan interval) : IDisposable
{
    private int _scheduled;
    private volatile bool _disposed;

    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromMilliseconds(250);

    public Task RequestAsync()
    {
        if (_disposed || Interlocked.Exchange(ref _scheduled, 1) == 1) return Task.CompletedTask;
        return RunAsync();
    }

    private async Task RunAsync()
    {
        await Task.Delay(interval);
        // Cleared before refreshing: a notification arriving during the refresh schedules another one.
        Volatile.Write(ref _scheduled, 0);
        if (!_disposed) await refresh();
    }

    public void Dispose() => _disposed = true;
}
