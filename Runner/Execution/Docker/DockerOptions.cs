namespace Kaizen.Runner.Execution.Docker;

/// <summary>When the runner pulls a job's image (and its services' images).</summary>
public enum PullPolicy
{
    /// <summary>Pull only when the image is not on this machine (the default: warm images start at once).</summary>
    IfMissing,

    /// <summary>Pull before every job (a moving tag such as <c>:latest</c> is always fresh).</summary>
    Always,

    /// <summary>Never pull: a missing image fails the job (air-gapped machines, images loaded by hand).</summary>
    Never,
}

/// <summary>Every setting of the Docker executor (kaizen-runner flags, or set by the portal's embedded runner).</summary>
public sealed record DockerOptions
{
    /// <summary>The daemon's address (default: DOCKER_HOST, else unix:///var/run/docker.sock).</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>
    /// A statically linked bash on the runner's host, mounted read-only into every job and service container as
    /// <see cref="ContainerBash"/>, so any image (busybox, distroless-ish ones) runs the job's persistent bash session.
    /// Debian's <c>bash-static</c> installs it as /bin/bash-static. Without it the runner does not offer <c>docker</c>.
    /// </summary>
    public string StaticBash { get; init; } = "/bin/bash-static";

    /// <summary>Default pull policy (see <see cref="PullPolicy"/>).</summary>
    public PullPolicy PullPolicy { get; init; } = PullPolicy.IfMissing;

    /// <summary>Images pulled when the runner starts, in the background (the first job on them does not wait).</summary>
    public IReadOnlyList<string> PrePull { get; init; } = [];

    /// <summary>Disk budget for the images this runner uses; beyond it the least recently used ones not in use are
    /// removed after a job. 0: never evict.</summary>
    public long ImageBudgetMegabytes { get; init; }

    /// <summary>
    /// A pull-through registry mirror (host[:port], e.g. <c>mirror.internal:5000</c>). Images without a registry in their
    /// name (Docker Hub's) are pulled as <c>{mirror}/{repository}:{tag}</c> and tagged with their own name again, so
    /// a fleet downloads each image from the internet once.
    /// </summary>
    public string? RegistryMirror { get; init; }

    /// <summary>How long a job waits for each service to become ready before it fails naming the service.</summary>
    public TimeSpan ServiceReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Where <see cref="StaticBash"/> appears in containers.</summary>
    public const string ContainerBash = "/kaizen/bin/bash";
}
