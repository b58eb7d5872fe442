using System.Collections.Concurrent;

namespace Kaizen.Portal.Auth;

/// <summary>
/// When each API token was last used. Authentication only notes it here, in memory: a request never waits for, nor
/// fails with, that write (with the disk full, every token request used to fail inside authentication). The notes are
/// written every <see cref="FlushInterval"/> and when the portal stops; a failed write is logged once and kept for the
/// next round. Readers see the newer of the stored and the noted time (<see cref="LastUsedAt"/>).
/// </summary>
public sealed class TokenUsage(UserStore users, TimeProvider time, ILogger<TokenUsage> logger) : BackgroundService
{
    /// <summary>"Last used" moves at most this often per token.</summary>
    public static readonly TimeSpan Precision = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<long, long> _pending = new();
    private int _failing;

    /// <summary>Notes a use of token <paramref name="tokenId"/>, whose stored last use is <paramref name="stored"/>.</summary>
    public void Used(long tokenId, long? stored)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (LastUsedAt(tokenId, stored) is { } last && now - last < (long)Precision.TotalMilliseconds) return;
        _pending.AddOrUpdate(tokenId, now, (_, noted) => Math.Max(noted, now));
    }

    /// <summary>The later of <paramref name="stored"/> and a use noted but not yet written.</summary>
    public long? LastUsedAt(long tokenId, long? stored) =>
        _pending.TryGetValue(tokenId, out var noted) && (stored is null || noted > stored) ? noted : stored;

    /// <summary>Writes the noted uses; what cannot be written stays noted.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        foreach (var (tokenId, at) in _pending.ToArray())
        {
            try
            {
                await users.TouchTokenAsync(tokenId, at, ct);
                // A newer use noted meanwhile stays for the next round.
                _pending.TryRemove(new KeyValuePair<long, long>(tokenId, at));
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or InvalidOperationException)
            {
                if (Interlocked.Exchange(ref _failing, 1) == 0)
                    logger.LogWarning("Could not record when API tokens were last used ({Error}); kept in memory and retried every {Interval} s, not logged again until it works",
                        ex.Message, FlushInterval.TotalSeconds);
                return;
            }
        }
        if (Interlocked.Exchange(ref _failing, 0) == 1) logger.LogInformation("API tokens' last use is recorded again");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            await FlushAsync(stoppingToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("The portal stopped before the API tokens' last use was recorded");
        }
    }
}
