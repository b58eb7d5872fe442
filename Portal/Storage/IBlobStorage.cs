namespace Kaizen.Portal.Storage;

/// <summary>What storing a blob gave: its length and SHA-256 (lowercase hex).</summary>
public sealed record StoredBlob(long Size, string Sha256);

/// <summary>More bytes arrived than the caller's limit allows; nothing was kept.</summary>
public sealed class BlobTooLargeException(long maxBytes)
    : Exception($"The content is larger than the limit of {maxBytes / (1024 * 1024)} MB.")
{
    public long MaxBytes { get; } = maxBytes;
}

/// <summary>
/// The areas of the portal's blob storage. Each area is one <see cref="IBlobStorage"/>, registered as a keyed service
/// under its name (<c>[FromKeyedServices(BlobAreas.Caches)]</c>), so each can live somewhere else.
/// </summary>
public static class BlobAreas
{
    /// <summary>Files jobs publish (<c>kaizen artifact push</c>).</summary>
    public const string Artifacts = "artifacts";

    /// <summary>Dependency cache archives (<c>kaizen cache store</c>), shared by every runner.</summary>
    public const string Caches = "caches";
}

/// <summary>
/// Where the portal keeps large bytes (artifacts, cache archives), by an opaque key the portal chooses (never a name a
/// job sent): letters, digits, '/' and '-'. Content is streamed in and out, never held whole in memory. Failures of the
/// medium surface as <see cref="IOException"/>. The metadata (names, sizes, who and when) is in the database; a blob is
/// only bytes.
/// </summary>
/// <remarks>
/// <see cref="DiskBlobStorage"/> is the default. This is the seam for object storage (S3, Azure Blob, MinIO): an
/// implementation maps a key to an object name (e.g. <c>{area}/{key}</c> in one bucket), writes with a single or
/// multipart upload that becomes visible only when complete, and is registered for each area in place of the disk one
/// (see <see cref="StorageServices"/>). Nothing else in the portal touches files of these areas.
/// </remarks>
public interface IBlobStorage
{
    /// <summary>Stores <paramref name="content"/> under <paramref name="key"/>, replacing nothing half-way: the key
    /// exists only once every byte is written. Throws <see cref="BlobTooLargeException"/> beyond <paramref name="maxBytes"/>.</summary>
    Task<StoredBlob> WriteAsync(string key, Stream content, long maxBytes, CancellationToken ct);

    /// <summary>The bytes under <paramref name="key"/> (a stream that knows its length), or null when there are none.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken ct);

    /// <summary>Removes <paramref name="key"/>; a missing key is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken ct);
}
