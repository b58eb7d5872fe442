namespace Kaizen.Portal.Builds;

/// <summary>
/// Wakes long-polling runners the moment work is queued, so dispatch does not wait for a polling interval.
/// Take <see cref="Next"/> before looking for work, then wait on it: a pulse in between is never missed.
/// </summary>
public sealed class WorkSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Next => Volatile.Read(ref _next).Task;

    public void Pulse() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))
            .TrySetResult();
}
