namespace Kaizen.Portal.Artifacts;

/// <summary>More bytes arrived than Kaizen:Artifacts:MaxMegabytes allows; nothing was kept.</summary>
public sealed class ArtifactTooLargeException(long maxBytes)
    : Exception($"The artifact is larger than the limit of {maxBytes / (1024 * 1024)} MB (Kaizen:Artifacts:MaxMegabytes).")
{
    public long MaxBytes { get; } = maxBytes;
}
