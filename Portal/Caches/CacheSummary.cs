namespace Kaizen.Portal.Caches;

/// <summary>One cache entry as the API and the Caches page show it.</summary>
public sealed record CacheEntryResponse(string Key, string Branch, string Name, long Size, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt,
    long Hits, long? BuildId)
{
    public static CacheEntryResponse From(CacheEntryRow e) => new(e.Key, e.Branch, e.Name, e.Size,
        DateTimeOffset.FromUnixTimeMilliseconds(e.CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(e.LastUsedAt), e.Hits, e.BuildId);
}

/// <summary>
/// One cache name's figures: its entries and their size, and its restores: by the exact key, by a fallback key, and
/// misses. <see cref="HitRate"/> is exact ÷ restores; <see cref="RestoreRate"/> (exact + fallback) ÷ restores; both null
/// before the first restore.
/// </summary>
public sealed record CacheNameSummary(string Name, int Entries, long Size, long Restores, long ExactHits, long FallbackHits,
    long Misses, double? HitRate, double? RestoreRate);

/// <summary>A project's caches: totals against the budget, figures per name, and every entry (most recently used first).</summary>
public sealed record CacheSummary(long TotalSize, long BudgetBytes, long MaxEntryBytes, IReadOnlyList<CacheNameSummary> Names,
    IReadOnlyList<CacheEntryResponse> Entries)
{
    public static CacheSummary Of(IReadOnlyList<CacheEntryRow> entries, IReadOnlyList<CacheStatsRow> stats, long budget, long maxEntry)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(stats);
        var names = entries.Select(e => e.Name).Concat(stats.Select(s => s.Name)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(name =>
            {
                var own = entries.Where(e => e.Name == name).ToList();
                var s = stats.FirstOrDefault(x => x.Name == name) ?? new CacheStatsRow { Name = name };
                var restores = s.ExactHits + s.FallbackHits + s.Misses;
                return new CacheNameSummary(name, own.Count, own.Sum(e => e.Size), restores, s.ExactHits, s.FallbackHits, s.Misses,
                    restores == 0 ? null : (double)s.ExactHits / restores,
                    restores == 0 ? null : (double)(s.ExactHits + s.FallbackHits) / restores);
            })
            .ToList();
        return new CacheSummary(entries.Sum(e => e.Size), budget, maxEntry, names, entries.Select(CacheEntryResponse.From).ToList());
    }
}
