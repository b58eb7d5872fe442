using System.Collections.Concurrent;

namespace Kaizen.Portal.Builds;

/// <summary>
/// In-process notifications for live pages: a component subscribes to a key (see <see cref="Keys"/>) after its
/// first render and reloads what it shows when the key is published. Handlers run on the publisher's thread pool,
/// never inline, and a failing handler does not affect others.
/// </summary>
public sealed class LiveUpdates(ILogger<LiveUpdates> logger)
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, Func<Task>>> _subscribers = new();

    public static class Keys
    {
        public const string Dashboard = "dashboard";
        public static string Build(long id) => $"build:{id}";
        public static string Job(long id) => $"job:{id}";
        public static string Project(long id) => $"project:{id}";
        public static string Server(long id) => $"server:{id}";
        public static string Deploy(long id) => $"deploy:{id}";
        public static string Debug(long id) => $"debug:{id}";

        /// <summary>Any change to what waits for approval (the inbox and its count).</summary>
        public const string Approvals = "approvals";
    }

    public IDisposable Subscribe(string key, Func<Task> handler)
    {
        var id = Guid.NewGuid();
        _subscribers.GetOrAdd(key, _ => new()).TryAdd(id, handler);
        return new Subscription(() =>
        {
            if (_subscribers.TryGetValue(key, out var handlers)) handlers.TryRemove(id, out _);
        });
    }

    public void Publish(params string[] keys)
    {
        foreach (var key in keys)
        {
            if (!_subscribers.TryGetValue(key, out var handlers)) continue;
            foreach (var handler in handlers.Values)
            {
                _ = Task.Run(async () =>
                {
                    try { await handler(); }
                    catch (Exception ex) { logger.LogDebug(ex, "A live-update subscriber of {Key} failed", key); }
                });
            }
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;
        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
