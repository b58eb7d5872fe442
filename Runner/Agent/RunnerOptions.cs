namespace Kaizen.Runner.Agent;

/// <summary>Every setting of a runner (command-line flags of kaizen-runner, or set by the portal's embedded runner).</summary>
public sealed class RunnerOptions
{
    /// <summary>The portal's base URL, e.g. http://ci.example.com:5000/.</summary>
    public required Uri PortalUrl { get; init; }

    /// <summary>Kaizen:Runners:RegistrationToken of the portal; needed only until the runner has registered once.</summary>
    public string? RegistrationToken { get; init; }

    /// <summary>Shown on the portal's Runners page.</summary>
    public string Name { get; init; } = Environment.MachineName;

    /// <summary>How many jobs run at once.</summary>
    public int Slots { get; init; } = 1;

    /// <summary>Workspaces, the git cache and the runner's credentials (runner.json) live here.</summary>
    public string WorkDirectory { get; init; } = "kaizen-work";

    /// <summary>Dependency caches of <c>kaizen cache store</c> (default: <c>{WorkDirectory}/cache</c>).</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Tools of <c>kaizen tool use</c>, installed once and reused by every job (default: <c>{WorkDirectory}/tools</c>).</summary>
    public string? ToolsDirectory { get; init; }

    /// <summary>The cache folder's size limit; least recently used entries go beyond it.</summary>
    public long CacheMaxMegabytes { get; init; } = Execution.KaizenFunctions.DefaultCacheMaxMegabytes;

    /// <summary>Labels jobs can ask for (a project's or server's required labels, <c>protected</c> for guarded servers).
    /// Fixed at registration: the portal does not take new ones from a registered runner's later calls.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>The Docker executor's settings (pull policy, pre-pull, image budget, mirror; see <see cref="Execution.Docker.DockerOptions"/>).
    /// The runner offers <c>docker</c> only when the daemon answers at start.</summary>
    public Execution.Docker.DockerOptions Docker { get; init; } = new();

    /// <summary>Never offer the Docker executor, even when a daemon answers.</summary>
    public bool DisableDocker { get; init; }

    /// <summary>
    /// Run jobs without a sandbox, as the runner's own user (for trusted, private use only). Without a sandbox, whether
    /// turned off here or not available (no bubblewrap, no user namespaces), the portal sends this runner no jobs of
    /// public projects or of fork pull requests.
    /// </summary>
    public bool NoSandbox { get; init; }

    /// <summary>Folders no job may see even where they lie inside a system folder a sandbox shows (the portal's data
    /// and content folders for the embedded runner). The work directory is always hidden.</summary>
    public IReadOnlyList<string> HiddenPaths { get; init; } = [];

    /// <summary>Host folders every sandboxed job sees at the same path: <c>PATH</c> (writable, shared by every job: only
    /// for what all projects may read and change) or <c>PATH:ro</c> (read-only).</summary>
    public IReadOnlyList<string> SandboxShares { get; init; } = [];

    /// <summary>Offer SSH into debug sessions on this port (an sshd of the runner's own, OpenSSH's; null: no SSH). A user's
    /// public keys from their profile let them in to their sessions; if sshd is missing the runner goes on without SSH.</summary>
    public int? SshPort { get; init; }

    /// <summary>The host name people reach this runner by, shown in the session page's <c>ssh</c> command.</summary>
    public string SshHost { get; init; } = Environment.MachineName;

    /// <summary>How often running jobs' leases are renewed; also the longest a cancel takes to arrive.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The most output one job may produce; beyond it output is dropped with a note (the job goes on).</summary>
    public long MaxLogBytes { get; init; } = 1L << 30;

    public static string Version { get; } =
        typeof(RunnerOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
