namespace Kaizen.Portal.Artifacts;

/// <summary>What storing an artifact's bytes gave: their length and SHA-256 (lowercase hex).</summary>
public sealed record StoredBlob(long Size, string Sha256);

/// <summary>More bytes arrived than the configured limit allows; nothing was kept.</summary>
public sealed class ArtifactTooLargeException(long maxBytes)
    : Exception($"The artifact is larger than the limit of {maxBytes / (1024 * 1024)} MB (Kaizen:Artifacts:MaxMegabytes).")
{
    public long MaxBytes { get; } = maxBytes;
}

/// <summary>
/// Where artifact bytes live, by an opaque key the portal chooses (never a name a job sent). Content is streamed
/// in and out, never held whole in memory. Failures of the medium surface as <see cref="IOException"/>.
/// </summary>
public interface IArtifactStorage
{
    /// <summary>Stores <paramref name="content"/> under <paramref name="key"/>, replacing nothing half-way: the key
    /// exists only once every byte is written. Throws <see cref="ArtifactTooLargeException"/> beyond <paramref name="maxBytes"/>.</summary>
    Task<StoredBlob> WriteAsync(string key, Stream content, long maxBytes, CancellationToken ct);

    /// <summary>The bytes under <paramref name="key"/>, or null when there are none.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken ct);

    /// <summary>Removes <paramref name="key"/>; a missing key is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken ct);
}
