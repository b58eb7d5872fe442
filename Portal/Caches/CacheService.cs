using System.Security.Claims;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Storage;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Caches;

/// <summary>What a restore found: the entry and whether it was the exact key (else a fallback's).</summary>
public sealed record CacheMatch(CacheEntryRow Entry, bool Exact);

/// <summary>
/// The branches a job's caches are on: it restores its <see cref="Own"/> branch's entries, then the project's
/// <see cref="Default"/> branch's, and stores only its own. A push to a feature branch so never changes what the default
/// branch's builds and deploys restore, while a new branch still starts from the default branch's caches.
/// </summary>
public sealed record CacheBranches(string Own, string Default)
{
    /// <summary>The branches a restore looks at, in order.</summary>
    public IReadOnlyList<string> Reads => Own == Default ? [Own] : [Own, Default];
}

/// <summary>How a store ended.</summary>
public enum CacheStoreOutcome
{
    /// <summary>This upload is now the key's entry.</summary>
    Stored,

    /// <summary>The key was there already (perhaps stored a moment ago by another runner); nothing changed.</summary>
    AlreadyStored,
}

/// <summary>How a store ended, and the least recently used entries it evicted to stay within the budget.</summary>
public sealed record CacheStoreResult(CacheStoreOutcome Outcome, IReadOnlyList<string> Evicted);

/// <summary>The upload ended without the completion mark: the job's archiver failed or the connection broke.</summary>
public sealed class CacheUploadIncompleteException()
    : Exception("The upload ended before the archive was complete (the job's tar or zstd failed, or the connection broke); nothing was stored.");

/// <summary>
/// The shared dependency caches of every project: write-once keys, fallback restores, hit figures and eviction of the
/// least recently used entries beyond the project's budget (Kaizen:Caches).
/// </summary>
/// <remarks>
/// Archives are what the job's <c>tar | zstd</c> made, stored as sent: the portal never unpacks or repacks them, so a
/// restore is one file streamed to the runner. <c>kaizen cache store</c> appends <see cref="CompleteMark"/> (a zstd
/// skippable frame, which every zstd decoder passes over) only when tar and zstd both succeeded, so an archive cut short
/// by a failing archiver or a dropped connection is never stored under a key that cannot be written again.
/// </remarks>
public sealed class CacheService(CacheStore store, [FromKeyedServices(BlobAreas.Caches)] IBlobStorage storage,
    IOptions<KaizenOptions> options, AuditLog audit, TimeProvider time, ILogger<CacheService> logger)
{
    /// <summary>A zstd skippable frame (magic 0x184D2A50, 8 bytes "KAIZENOK") that closes every complete upload.</summary>
    public static ReadOnlySpan<byte> CompleteMark =>
        [0x50, 0x2A, 0x4D, 0x18, 0x08, 0x00, 0x00, 0x00, (byte)'K', (byte)'A', (byte)'I', (byte)'Z', (byte)'E', (byte)'N', (byte)'O', (byte)'K'];

    private CacheOptions Settings => options.Value.Caches;

    public long MaxEntryBytes => Settings.MaxEntryMegabytes * 1024 * 1024;

    public long ProjectBudgetBytes => Settings.ProjectMegabytes * 1024 * 1024;

    /// <summary>
    /// The entry a restore gets, looking at each of <paramref name="branches"/>' <see cref="CacheBranches.Reads"/> in
    /// turn: <paramref name="key"/> exactly, else for each fallback in order the key equal to it or the newest entry
    /// starting with it. Another branch's entries are never looked at. Counts the restore (hit or miss) under
    /// <paramref name="name"/>.
    /// </summary>
    /// <remarks>The job's own branch wins even by a fallback over the default branch's exact key: its entries were made
    /// from its own code, which is what the job builds.</remarks>
    public async Task<CacheMatch?> ResolveAsync(long projectId, CacheBranches branches, string key, IReadOnlyList<string> fallbacks,
        string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(branches);
        ArgumentNullException.ThrowIfNull(fallbacks);
        CacheMatch? match = null;
        IReadOnlyList<CacheEntryRow>? entries = null;
        foreach (var branch in branches.Reads)
        {
            if (await store.FindAsync(projectId, branch, key, ct) is { } exact)
            {
                match = new CacheMatch(exact, true);
                break;
            }
            if (fallbacks.Count == 0) continue;
            entries ??= await store.OfProjectAsync(projectId, ct);
            var own = entries.Where(e => e.Branch == branch).ToList();
            foreach (var prefix in fallbacks)
            {
                var found = own.FirstOrDefault(e => e.Key == prefix)
                    ?? own.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal))
                        .OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).FirstOrDefault();
                if (found is null) continue;
                match = new CacheMatch(found, false);
                break;
            }
            if (match is not null) break;
        }
        await store.RecordRestoreAsync(projectId, name, match?.Entry, match?.Exact ?? false, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        return match;
    }

    public Task<Stream?> OpenAsync(CacheEntryRow entry, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return storage.OpenReadAsync(entry.StorageKey, ct);
    }

    /// <summary>
    /// Stores <paramref name="content"/> (a zstd archive closed by <see cref="CompleteMark"/>) as <paramref name="key"/>
    /// of <paramref name="branch"/> (the storing build's own: callers never pass another) unless that branch has the key: the first complete upload wins, a later or concurrent one is <see cref="CacheStoreOutcome.AlreadyStored"/>.
    /// Then evicts the project's least recently used entries beyond its budget. Throws <see cref="BlobTooLargeException"/>
    /// and <see cref="CacheUploadIncompleteException"/>; nothing is kept then.
    /// </summary>
    public async Task<CacheStoreResult> StoreAsync(long projectId, string branch, string key, string name, long? buildId, long? jobId,
        Stream content, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (await store.ExistsAsync(projectId, branch, key, ct)) return new CacheStoreResult(CacheStoreOutcome.AlreadyStored, []);
        var storageKey = $"{projectId}/{Guid.NewGuid():N}";
        var tail = new TailStream(content, CompleteMark.Length);
        var added = false;
        try
        {
            var limit = Math.Min(MaxEntryBytes, ProjectBudgetBytes) + CompleteMark.Length;
            var blob = await storage.WriteAsync(storageKey, tail, limit, ct);
            if (!tail.Tail.SequenceEqual(CompleteMark)) throw new CacheUploadIncompleteException();
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            added = await store.TryAddAsync(new NewCacheEntry(projectId, branch, key, name, storageKey, blob.Size, now, buildId, jobId, tail.Sha256), ct);
        }
        finally
        {
            if (!added) await TryDeleteBytesAsync(storageKey);
        }
        if (!added) return new CacheStoreResult(CacheStoreOutcome.AlreadyStored, []);
        return new CacheStoreResult(CacheStoreOutcome.Stored, await EvictAsync(projectId, keep: (branch, key), ct));
    }

    /// <summary>Removes the least recently used entries (of any branch: they share the project's budget) until the project
    /// fits its budget, never <paramref name="keep"/>; returns the keys removed.</summary>
    public async Task<IReadOnlyList<string>> EvictAsync(long projectId, (string Branch, string Key)? keep, CancellationToken ct)
    {
        var entries = await store.OfProjectAsync(projectId, ct);
        var total = entries.Sum(e => e.Size);
        var evicted = new List<string>();
        foreach (var entry in entries.OrderBy(e => e.LastUsedAt).ThenBy(e => e.Id))
        {
            if (total <= ProjectBudgetBytes) break;
            if (keep is { } k && entry.Key == k.Key && entry.Branch == k.Branch) continue;
            if (!await DeleteAsync(entry, ct)) continue;
            total -= entry.Size;
            evicted.Add(entry.Key);
            logger.LogInformation("Evicted cache entry {Key} of project {ProjectId} ({Size} bytes) to stay within {Budget} MB",
                entry.Key, projectId, entry.Size, Settings.ProjectMegabytes);
        }
        return evicted;
    }

    public async Task<bool> DeleteAsync(CacheEntryRow entry, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!await store.DeleteAsync(entry.Id, ct)) return false;
        await TryDeleteBytesAsync(entry.StorageKey);
        return true;
    }

    /// <summary>Deletes the entry <paramref name="key"/> of <paramref name="branch"/> (null: of every branch that has it)
    /// as <paramref name="user"/> did (audited); false when there is none.</summary>
    public async Task<bool> DeleteAsync(long projectId, string projectSlug, string key, string? branch, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var entries = branch is null
            ? await store.FindAllAsync(projectId, key, ct)
            : await store.FindAsync(projectId, branch, key, ct) is { } one ? [one] : [];
        var deleted = false;
        foreach (var entry in entries)
        {
            if (!await DeleteAsync(entry, ct)) continue;
            deleted = true;
            await audit.RecordAsync(user, AuditActions.CacheDeleted, $"project:{projectSlug}/cache:{key}", $"branch {entry.Branch}", ct);
        }
        return deleted;
    }

    /// <summary>Deletes every entry of the project and its hit figures as <paramref name="user"/> did (audited); returns
    /// how many entries went.</summary>
    public async Task<int> DeleteAllAsync(long projectId, string projectSlug, ClaimsPrincipal user, CancellationToken ct)
    {
        var deleted = 0;
        foreach (var entry in await store.OfProjectAsync(projectId, ct))
            if (await DeleteAsync(entry, ct)) deleted++;
        await store.ResetStatsAsync(projectId, ct);
        await audit.RecordAsync(user, AuditActions.CachesCleared, $"project:{projectSlug}/caches", $"{deleted} entries", ct);
        return deleted;
    }

    /// <summary>Bytes without a row are only wasted space; the failure is logged, not passed on.</summary>
    private async Task TryDeleteBytesAsync(string key)
    {
        try
        {
            await storage.DeleteAsync(key, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not delete the cache archive {Key}", key);
        }
    }

    /// <summary>Passes a stream through unchanged and remembers its last bytes.</summary>
    private sealed class TailStream(Stream inner, int length) : ReadOnlyStream
    {
        private readonly byte[] _tail = new byte[length];
        private readonly System.Security.Cryptography.IncrementalHash _hash =
            System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        private int _filled;

        public ReadOnlySpan<byte> Tail => _tail.AsSpan(0, _filled);

        /// <summary>The SHA-256 (lowercase hex) of everything read so far.</summary>
        public string Sha256 => Convert.ToHexStringLower(_hash.GetCurrentHash());

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Remember(buffer.Span[..read]);
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            Remember(buffer.AsSpan(offset, read));
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private void Remember(ReadOnlySpan<byte> data)
        {
            _hash.AppendData(data);
            if (data.Length >= _tail.Length)
            {
                data[^_tail.Length..].CopyTo(_tail);
                _filled = _tail.Length;
                return;
            }
            var keep = Math.Min(_filled, _tail.Length - data.Length);
            _tail.AsSpan(_filled - keep, keep).CopyTo(_tail);
            data.CopyTo(_tail.AsSpan(keep));
            _filled = keep + data.Length;
        }
    }
}
