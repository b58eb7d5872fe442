using System.Collections.Concurrent;
using Dapper;
using Kaizen.Portal.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Hosting;

/// <summary>What /healthz answers: <c>ok</c>, <c>degraded</c> (the portal serves reads; writes may fail with 507) or
/// <c>unavailable</c> (the database does not open). <see cref="Reasons"/> say why, in words without server paths.</summary>
public sealed record StorageStatus(
    string Status,
    IReadOnlyList<string> Reasons,
    long? DataFreeMegabytes,
    long MinFreeMegabytes,
    bool DatabaseWritable,
    DateTimeOffset CheckedAt)
{
    public const string Ok = "ok";
    public const string Degraded = "degraded";
    public const string Unavailable = "unavailable";

    public bool IsDegraded => Status != Ok;
}

/// <summary>
/// Whether the portal's storage takes writes: free space on the data folder's disk against
/// <see cref="HealthOptions.MinFreeMegabytes"/>, a real write to the database (its <c>health_probe</c> row), and a write
/// that failed for lack of space (<see cref="RecordFull"/>) since the last check that found room. Checked in the background
/// (<see cref="StorageMonitor"/>) and on each /healthz; subscribers (the admins' banner) hear of every change.
/// </summary>
public sealed class StorageHealth(Database db, IOptions<KaizenOptions> options, TimeProvider time, ILogger<StorageHealth> logger)
{
    private static readonly TimeSpan MinCheckInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _checking = new(1, 1);
    private readonly ConcurrentDictionary<Guid, Func<Task>> _subscribers = new();
    private long _lastFullAtTicks = -1;
    private int _unresolved;
    private StorageStatus? _current;

    /// <summary>The latest check; null before the first.</summary>
    public StorageStatus? Current => Volatile.Read(ref _current);

    /// <summary>When a write last failed for lack of space (null: not since the portal started).</summary>
    public DateTimeOffset? LastFullAt =>
        Interlocked.Read(ref _lastFullAtTicks) is var ticks and >= 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>True when a write failed for lack of space within <paramref name="window"/>.</summary>
    public bool FullWithin(TimeSpan window) => LastFullAt is { } at && time.GetUtcNow() - at <= window;

    /// <summary>A write just failed for lack of space: the portal is degraded from now, without waiting for a check.
    /// True for the first failure since storage was last found fine (the one worth a full entry in the log).</summary>
    public bool RecordFull()
    {
        Interlocked.Exchange(ref _lastFullAtTicks, time.GetUtcNow().UtcTicks);
        if (Interlocked.Exchange(ref _unresolved, 1) == 1) return false;
        var previous = Current;
        var reasons = (previous?.Reasons ?? []).Where(r => !r.StartsWith(RecentFailurePrefix, StringComparison.Ordinal))
            .Append(RecentFailure()).ToList();
        Publish(new StorageStatus(StorageStatus.Degraded, reasons, previous?.DataFreeMegabytes, MinFreeMegabytes,
            previous?.DatabaseWritable ?? false, time.GetUtcNow()));
        return true;
    }

    /// <summary>Hears of every change of <see cref="Current"/>; dispose to stop.</summary>
    public IDisposable Subscribe(Func<Task> changed)
    {
        var id = Guid.NewGuid();
        _subscribers[id] = changed;
        return new Subscription(() => _subscribers.TryRemove(id, out _));
    }

    private long MinFreeMegabytes => Math.Max(0, options.Value.Health.MinFreeMegabytes);

    /// <summary>Checks now (or returns a check less than a second old).</summary>
    public async Task<StorageStatus> CheckAsync(CancellationToken ct = default)
    {
        await _checking.WaitAsync(ct);
        try
        {
            if (Current is { } recent && time.GetUtcNow() - recent.CheckedAt < MinCheckInterval) return recent;
            var reasons = new List<string>();
            var free = FreeMegabytes();
            if (free is { } mb && mb < MinFreeMegabytes)
                reasons.Add($"The data folder's disk has {mb:N0} MB free, below the minimum of {MinFreeMegabytes:N0} MB (Kaizen:Health:MinFreeMegabytes).");

            var status = StorageStatus.Ok;
            var writable = false;
            try
            {
                await using var c = await db.OpenAsync(ct);
                try
                {
                    await c.ExecuteAsync(new CommandDefinition(
                        "UPDATE health_probe SET checked_at = @Now WHERE id = 1",
                        new { Now = time.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken: ct));
                    writable = true;
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException)
                {
                    logger.LogWarning("The database does not take writes: {Error}", ex.Message);
                    reasons.Add($"The database does not take writes: {Describe(ex)}.");
                }
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or IOException)
            {
                logger.LogWarning("The database does not open: {Error}", ex.Message);
                reasons.Add($"The database does not open: {Describe(ex)}.");
                status = StorageStatus.Unavailable;
            }

            // A failed write counts until a check finds room and a database that takes writes again.
            if (writable && reasons.Count == 0) Interlocked.Exchange(ref _unresolved, 0);
            if (Volatile.Read(ref _unresolved) == 1) reasons.Add(RecentFailure());
            if (status == StorageStatus.Ok && reasons.Count > 0) status = StorageStatus.Degraded;
            var checkedStatus = new StorageStatus(status, reasons, free, MinFreeMegabytes, writable, time.GetUtcNow());
            Publish(checkedStatus);
            return checkedStatus;
        }
        finally
        {
            _checking.Release();
        }
    }

    private const string RecentFailurePrefix = "A write failed for lack of space";

    private string RecentFailure()
    {
        var ago = LastFullAt is { } at ? Math.Max(0, (int)(time.GetUtcNow() - at).TotalSeconds) : 0;
        return $"{RecentFailurePrefix} {ago} s ago; writes are answered 507 until space is freed.";
    }

    /// <summary>Free space on the data folder's disk in MB; null when it cannot be read.</summary>
    private long? FreeMegabytes()
    {
        try
        {
            var folder = options.Value.ResolveDataDirectory();
            Directory.CreateDirectory(folder);
            return new DriveInfo(folder).AvailableFreeSpace / (1024 * 1024);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogWarning("Could not read the free space of the data folder: {Error}", ex.Message);
            return null;
        }
    }

    /// <summary>A failure in words that name no server path (database messages can).</summary>
    private static string Describe(Exception ex) => ex switch
    {
        _ when StorageFull.Is(ex) => "its disk is full",
        SqliteException sqlite => $"SQLite error {sqlite.SqliteErrorCode}",
        Microsoft.Data.SqlClient.SqlException sql => $"SQL Server error {sql.Number}",
        _ => ex.GetType().Name,
    };

    private void Publish(StorageStatus status)
    {
        var previous = Interlocked.Exchange(ref _current, status);
        if (previous is not null && previous.Status == status.Status && previous.Reasons.Count == status.Reasons.Count
            && previous.Reasons.Select(Kind).SequenceEqual(status.Reasons.Select(Kind)))
            return;
        if (status.IsDegraded) logger.LogWarning("Storage is {Status}: {Reasons}", status.Status, string.Join(" ", status.Reasons));
        else if (previous is { IsDegraded: true }) logger.LogInformation("Storage is ok again");
        foreach (var subscriber in _subscribers.Values)
        {
            _ = Notify(subscriber);
        }
    }

    // Reasons whose figures change (free MB, seconds ago) are the same reason: subscribers hear of new kinds only.
    private static string Kind(string reason) => reason.Length > 24 ? reason[..24] : reason;

    private async Task Notify(Func<Task> subscriber)
    {
        try
        {
            await subscriber();
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "A storage status subscriber failed");
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}

/// <summary>Checks the storage every <see cref="HealthOptions.CheckSeconds"/>, so the banner appears without anyone
/// calling /healthz.</summary>
public sealed class StorageMonitor(StorageHealth health, IOptions<KaizenOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.Health.CheckSeconds)));
        do
        {
            await health.CheckAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
