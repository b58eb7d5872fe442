using Kaizen.Portal.Storage;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Artifacts;

/// <summary>What a job asked to push, and who pushes it.</summary>
public sealed record ArtifactPush(RunningJobIdentity Job, string Scope, string Name, bool Folder);

/// <summary>
/// Artifacts end to end: bytes to storage first, then the row (so a row never points at missing bytes), then the
/// bytes it replaced or superseded go. Retention: job and build artifacts expire after Kaizen:Artifacts:RetentionDays;
/// a project folder keeps its newest Kaizen:Artifacts:KeepPerFolder files.
/// </summary>
public sealed class ArtifactService(ArtifactStore store, [FromKeyedServices(BlobAreas.Artifacts)] IBlobStorage storage, IOptions<KaizenOptions> options,
    TimeProvider time, ILogger<ArtifactService> logger)
{
    private ArtifactOptions Settings => options.Value.Artifacts;

    public long MaxBytes => Settings.MaxMegabytes * 1024 * 1024;

    /// <exception cref="BuildEndedException">A job or build artifact of a build that has ended.</exception>
    /// <exception cref="ArtifactTooLargeException">More bytes than the limit.</exception>
    public async Task<ArtifactRow> PushAsync(ArtifactPush push, Stream content, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(push);
        ArgumentNullException.ThrowIfNull(content);
        // What a build made is fixed once it ends. A deploy's job belongs to its build, so only its own files (scope job,
        // a receipt) are taken from it then: they stay the deploy's and are never read as the build's.
        var ownOfDeploy = push.Scope == ArtifactScope.Job && push.Job.DeployId is not null;
        if (push.Scope != ArtifactScope.Project && !ownOfDeploy && await store.BuildStatusAsync(push.Job.BuildId, ct) is { } status
            && Builds.Status.IsFinished(status))
            throw new BuildEndedException(push.Job.BuildId, status);
        var key = $"{push.Job.ProjectId}/{Guid.NewGuid():N}";
        StoredBlob blob;
        try
        {
            blob = await storage.WriteAsync(key, content, MaxBytes, ct);
        }
        catch (BlobTooLargeException)
        {
            throw new ArtifactTooLargeException(MaxBytes);
        }
        var now = time.GetUtcNow();
        long? expires = push.Scope != ArtifactScope.Project && Settings.RetentionDays > 0
            ? (now + TimeSpan.FromDays(Settings.RetentionDays)).ToUnixTimeMilliseconds()
            : null;
        var artifact = new NewArtifact(push.Job.ProjectId, push.Job.BuildId, push.Job.JobId, push.Scope, push.Name, push.Folder,
            key, blob.Size, blob.Sha256, now.ToUnixTimeMilliseconds(), expires);
        long id;
        IReadOnlyList<ArtifactRow> replaced;
        try
        {
            (id, replaced) = await store.AddAsync(artifact, ct);
        }
        catch
        {
            await TryDeleteBytesAsync(key);
            throw;
        }
        foreach (var old in replaced) await TryDeleteBytesAsync(old.StorageKey);
        if (push.Scope == ArtifactScope.Project) await SupersedeAsync(push.Job.ProjectId, ArtifactNames.Folder(push.Name), ct);
        return (await store.FindAsync(id, ct))!;
    }

    /// <summary>A build artifact by name for a job of that build (the build's own first, then its jobs', newest first).
    /// A deploy's own files are not the build's: one deploy never hands another what it pushed.</summary>
    public async Task<ArtifactRow?> FindInBuildAsync(long buildId, string name, CancellationToken ct) =>
        (await store.OfBuildAsync(buildId, ct))
            .Where(a => a.Name == name && a.Scope is ArtifactScope.Build or ArtifactScope.Job && a.DeployId is null)
            .OrderBy(a => a.Scope == ArtifactScope.Build ? 0 : 1).ThenByDescending(a => a.Id)
            .FirstOrDefault();

    /// <summary>A project download by exact name, else by <c>folder/latest[.suffix]</c>: the newest file of that folder
    /// whose name ends with the suffix.</summary>
    public async Task<ArtifactRow?> FindDownloadAsync(long projectId, string name, CancellationToken ct)
    {
        var downloads = await store.DownloadsAsync(projectId, ct);
        if (downloads.FirstOrDefault(a => a.Name == name) is { } exact) return exact;
        if (ArtifactNames.Latest(name) is not var (folder, suffix)) return null;
        return downloads.FirstOrDefault(a => ArtifactNames.Folder(a.Name) == folder
            && ArtifactNames.FileName(a.Name).EndsWith(suffix, StringComparison.Ordinal));
    }

    public Task<Stream?> OpenAsync(ArtifactRow artifact, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        return storage.OpenReadAsync(artifact.StorageKey, ct);
    }

    public async Task<bool> DeleteAsync(ArtifactRow artifact, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        if (!await store.DeleteAsync(artifact.Id, ct)) return false;
        await TryDeleteBytesAsync(artifact.StorageKey);
        return true;
    }

    /// <summary>Deletes every artifact whose retention ran out; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var expired = await store.ExpiredAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        var deleted = 0;
        foreach (var artifact in expired)
            if (await DeleteAsync(artifact, ct)) deleted++;
        return deleted;
    }

    private async Task SupersedeAsync(long projectId, string folder, CancellationToken ct)
    {
        var keep = Settings.KeepPerFolder;
        if (keep <= 0) return;
        var older = (await store.DownloadsAsync(projectId, ct)).Where(a => ArtifactNames.Folder(a.Name) == folder).Skip(keep);
        foreach (var artifact in older) await DeleteAsync(artifact, ct);
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
            logger.LogWarning(ex, "Could not delete the artifact bytes {Key}", key);
        }
    }
}

/// <summary>Deletes expired artifacts every Kaizen:Artifacts:SweepMinutes.</summary>
public sealed class ArtifactSweeper(ArtifactService artifacts, IOptions<KaizenOptions> options, TimeProvider time,
    ILogger<ArtifactSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromMinutes(Math.Max(1, options.Value.Artifacts.SweepMinutes));
        using var timer = new PeriodicTimer(period, time);
        do
        {
            try
            {
                var deleted = await artifacts.SweepAsync(stoppingToken);
                if (deleted > 0) logger.LogInformation("Deleted {Count} expired artifacts", deleted);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Deleting expired artifacts failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
