namespace Kaizen.Portal.Artifacts;

/// <summary>
/// A job or build artifact pushed for a build that has ended: what a build made is fixed once it ends, so a deploy of it
/// (whose job belongs to the build) cannot swap the files another deploy or a person downloads. Nothing was kept.
/// </summary>
public sealed class BuildEndedException(long buildId, string status)
    : Exception($"Build {buildId} has ended ({status}): its artifacts are read-only. A deploy reads them (kaizen artifact pull), keeps " +
                "files of its own (kaizen artifact push --job) and publishes project downloads (kaizen artifact push --project); " +
                "a new build makes new artifacts.")
{
    public long BuildId { get; } = buildId;
}
