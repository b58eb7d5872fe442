namespace Kaizen.Portal;

/// <summary>
/// Every setting of the portal, bound from the "Kaizen" configuration section (appsettings.json, environment
/// variables such as Kaizen__DataDirectory, or command-line arguments such as --Kaizen:DataDirectory=...).
/// Each setting is documented here once; the README's configuration reference mirrors this file.
/// </summary>
public sealed class KaizenOptions
{
    public const string Section = "Kaizen";

    /// <summary>Where the portal keeps everything it stores on disk: the SQLite database, git mirrors,
    /// the embedded runner's workspaces. Relative paths are resolved against the working directory.</summary>
    public string DataDirectory { get; set; } = "data";

    public DatabaseOptions Database { get; set; } = new();

    public BootstrapOptions Bootstrap { get; set; } = new();

    public RunnerHostOptions Runners { get; set; } = new();

    public PluginOptions Plugins { get; set; } = new();

    public SecretsOptions Secrets { get; set; } = new();

    public GitHubOptions GitHub { get; set; } = new();

    public ArtifactOptions Artifacts { get; set; } = new();

    public CacheOptions Caches { get; set; } = new();

    public DebugOptions Debug { get; set; } = new();

    public GitOptions Git { get; set; } = new();

    public ProxyOptions ForwardedHeaders { get; set; } = new();

    public HealthOptions Health { get; set; } = new();

    public Kaizen.Portal.Logs.LogOptions Logs { get; set; } = new();

    public Kaizen.Portal.Builds.BuildOptions Builds { get; set; } = new();

    /// <summary>The portal's address as people reach it (e.g. https://ci.example.com), used in links it sends out
    /// (commit statuses). Unset: links are left out.</summary>
    public string? PublicUrl { get; set; }

    public string ResolveDataDirectory() => Path.GetFullPath(DataDirectory);
}

/// <summary>What /healthz and the admins' storage banner check (README: "When the disk is full").</summary>
public sealed class HealthOptions
{
    /// <summary>Below this much free space on the disk of the data folder (in MB), the portal reports itself degraded:
    /// /healthz says so and admins see a banner, before writes start failing with 507.</summary>
    public long MinFreeMegabytes { get; set; } = 512;

    /// <summary>How often the free space and the database's writability are checked in the background (seconds).</summary>
    public int CheckSeconds { get; set; } = 15;
}

public sealed class GitHubOptions
{
    /// <summary>A token allowed to write commit statuses (a fine-grained token with "Commit statuses: write", or a
    /// classic one with repo:status). Set: every build of a project linked to a GitHub repository reports its state
    /// on its commit. Unset: nothing is reported.</summary>
    public string? Token { get; set; }

    /// <summary>The GitHub API's address; change it for GitHub Enterprise Server (https://host/api/v3).</summary>
    public string ApiUrl { get; set; } = "https://api.github.com";

    /// <summary>The client id of a GitHub OAuth app (GitHub: Settings → Developer settings → OAuth Apps, with the
    /// callback URL <c>https://your-portal/signin-github</c>). Set with <see cref="ClientSecret"/>: the sign-in page
    /// offers "Sign in with GitHub", which signs a GitHub account in as the Kaizen user it is linked to (linked by the
    /// user on their GitHub account page, or by an admin; never <c>admin</c>). Unset (the default): passwords only.</summary>
    public string? ClientId { get; set; }

    /// <summary>The OAuth app's client secret; see <see cref="ClientId"/>.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Where GitHub's sign-in pages are (its /login/oauth/authorize and /login/oauth/access_token); change it
    /// for GitHub Enterprise Server (https://host).</summary>
    public string OAuthUrl { get; set; } = "https://github.com";

    /// <summary>True when both <see cref="ClientId"/> and <see cref="ClientSecret"/> are set.</summary>
    public bool SignInEnabled => !string.IsNullOrWhiteSpace(ClientId) && !string.IsNullOrWhiteSpace(ClientSecret);
}

/// <summary>
/// Reverse proxies in front of the portal. Their <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> headers give the
/// client's address (what sign-in throttling counts) and scheme; the same headers from anyone else are ignored, so a
/// client cannot pick the address it is counted under. Both empty (the default): no forwarded header is honoured.
/// </summary>
public sealed class ProxyOptions
{
    /// <summary>Addresses of the proxies whose forwarded headers are honoured (<c>10.0.0.5</c>, <c>::1</c>).</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of such proxies, as address/prefix (<c>10.0.0.0/24</c>).</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>Which git hosts projects may be built from (the portal's git reads them from the portal's machine).</summary>
public sealed class GitOptions
{
    /// <summary>Set: projects may only use repositories on these hosts. Each entry is a host name (<c>github.com</c>),
    /// its subdomains (<c>*.example.com</c>), an address or a network (<c>10.1.0.0/16</c>). Hosts listed here may also be on
    /// the loopback or a private network, which is otherwise refused. Empty (the default): any public host.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Hosts, subdomains or networks projects may never use (same forms as <see cref="AllowedHosts"/>); wins over it.</summary>
    public List<string> DeniedHosts { get; set; } = [];

    /// <summary>A build of a branch (API, Build button) uses the head the portal last confirmed with the repository if
    /// that was at most this many seconds ago, instead of asking the repository again. 0 (default): always ask, so a
    /// build requested right after a push builds the pushed commit. Worth raising only where the repository is slow to
    /// reach and its pushes reach the portal as webhooks (which carry their commit and never wait for this).</summary>
    public double BranchHeadMaxAgeSeconds { get; set; }

    /// <summary>How often the portal reads each project's repository for new branches and commits, building each
    /// branch's new head (for remotes that send no webhook). 0 turns polling off. A remote that cannot be read is tried
    /// again later and later, up to every 30 minutes.</summary>
    public double PollSeconds { get; set; } = 60;
}

public sealed class SecretsOptions
{
    /// <summary>Where the Data Protection keys that encrypt secrets (and sign-in cookies) are kept. Unset:
    /// <c>keys</c> under the data directory. Back it up with the database: without these keys no saved secret can be
    /// decrypted. Put it outside the data directory (or on another volume) so that a copy of the database alone
    /// reveals no secret. Relative paths are resolved against the working directory.</summary>
    public string? KeysDirectory { get; set; }

    public string ResolveKeysDirectory(KaizenOptions kaizen) =>
        string.IsNullOrWhiteSpace(KeysDirectory)
            ? Path.Combine(kaizen.ResolveDataDirectory(), "keys")
            : Path.GetFullPath(KeysDirectory);
}

public sealed class DatabaseOptions
{
    /// <summary><c>Sqlite</c> (default, a file under the data directory) or <c>SqlServer</c>.
    /// The connection string is <c>ConnectionStrings:Kaizen</c>; for SQLite it defaults to data/kaizen.db.</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;
}

public enum DatabaseProvider
{
    Sqlite,
    SqlServer,
}

public sealed class PluginOptions
{
    /// <summary>The plugins.json to load. Unset: plugins.json in the content root (beside the portal's binaries, where
    /// the build copies the repository's). No other place is searched.</summary>
    public string? File { get; set; }
}

public sealed class BootstrapOptions
{
    /// <summary>On first start, the API token of the <c>admin</c> account (for automation). Unset: no token is made.</summary>
    public string? AdminToken { get; set; }

    /// <summary>On first start, the password of the <c>admin</c> account. Unset: a generated password is printed once.</summary>
    public string? AdminPassword { get; set; }
}

public sealed class RunnerHostOptions
{
    /// <summary>The token separate runners present to register (<c>kaizen-runner --registration-token</c>).
    /// Unset: only the embedded runner can register.</summary>
    public string? RegistrationToken { get; set; }

    /// <summary>How long a claimed job stays leased without a heartbeat before it is failed as "runner lost".</summary>
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>How often runners send heartbeats for running jobs (also how fast a cancel reaches them).</summary>
    public int HeartbeatSeconds { get; set; } = 2;

    public EmbeddedRunnerOptions Embedded { get; set; } = new();
}

public sealed class EmbeddedRunnerOptions
{
    /// <summary>Run a runner inside the portal process (over loopback, same protocol as separate runners).
    /// Turn off for installations with separate runners.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many jobs the embedded runner runs at once.</summary>
    public int Slots { get; set; } = 2;

    /// <summary>Labels of the embedded runner. Unset: <c>protected</c>, so that on a one-machine installation it is the
    /// runner that deploys to guarded servers (its jobs are sandboxed). Set other labels (e.g. <c>builds</c>) when
    /// separate runners of a protected pool do the deploys, so that builds and guarded deploys never share this machine.</summary>
    public List<string>? Labels { get; set; }

    /// <summary>The embedded runner's labels as configured, or <c>protected</c> when none are.</summary>
    public IReadOnlyList<string> LabelsOrDefault => Labels is { Count: > 0 } labels ? labels : ["protected"];

    /// <summary>Offer the Docker executor when a Docker daemon answers at start (false: shell only).</summary>
    public bool Docker { get; set; } = true;

    /// <summary>Run jobs in a sandbox (bubblewrap) that shows them only their own workspace (default). False runs them as
    /// the portal's own user, able to read the portal's data: for trusted, private use only; the portal then sends the
    /// embedded runner no jobs of public projects or forks.</summary>
    public bool Sandbox { get; set; } = true;

    /// <summary>Host folders every sandboxed job of the embedded runner sees at the same path: <c>PATH</c> (writable by
    /// every job) or <c>PATH:ro</c>. Empty by default.</summary>
    public List<string> SandboxShares { get; set; } = [];

    /// <summary>When images are pulled: <c>if-missing</c> (default), <c>always</c> or <c>never</c>.</summary>
    public string PullPolicy { get; set; } = "if-missing";

    /// <summary>Images pulled in the background when the runner starts.</summary>
    public List<string> PrePull { get; set; } = [];

    /// <summary>Least recently used images beyond this many megabytes are removed after jobs; 0 never removes any.</summary>
    public long ImageBudgetMegabytes { get; set; }

    /// <summary>A pull-through mirror for Docker Hub images (host:port).</summary>
    public string? RegistryMirror { get; set; }

    /// <summary>Set: the embedded runner runs its own OpenSSH server on this port, so people reach their debug sessions
    /// with <c>ssh</c> and the public keys in their profile. Unset (the default): debug sessions are in the browser only.</summary>
    public int? SshPort { get; set; }

    /// <summary>The host name people reach the portal's machine by, shown in the <c>ssh</c> command (default: the machine's name).</summary>
    public string? SshHost { get; set; }
}

public sealed class ArtifactOptions
{
    /// <summary>Where artifact files are stored. Unset: <c>artifacts</c> under the data directory. Relative paths are
    /// resolved against the working directory.</summary>
    public string? Directory { get; set; }

    /// <summary>How many days job and build artifacts are kept after they were pushed; 0 keeps them until deleted.</summary>
    public int RetentionDays { get; set; } = 30;

    /// <summary>How many files each folder of a project's downloads keeps (the newest); older ones are deleted when a
    /// newer one arrives. 0 keeps every file until deleted.</summary>
    public int KeepPerFolder { get; set; } = 10;

    /// <summary>The largest artifact a job may push, in megabytes.</summary>
    public long MaxMegabytes { get; set; } = 1024;

    /// <summary>How often expired artifacts are deleted, in minutes.</summary>
    public int SweepMinutes { get; set; } = 60;

    public string ResolveDirectory(KaizenOptions kaizen) =>
        string.IsNullOrWhiteSpace(Directory)
            ? Path.Combine(kaizen.ResolveDataDirectory(), "artifacts")
            : Path.GetFullPath(Directory);
}

/// <summary>The shared dependency caches that <c>kaizen cache store|restore</c> write and read through the portal.</summary>
public sealed class CacheOptions
{
    /// <summary>Where cache archives are stored. Unset: <c>caches</c> under the data directory. Relative paths are
    /// resolved against the working directory.</summary>
    public string? Directory { get; set; }

    /// <summary>The largest cache entry (its compressed archive) a job may store, in megabytes; a larger one is refused
    /// and the job goes on without storing it.</summary>
    public long MaxEntryMegabytes { get; set; } = 2048;

    /// <summary>The compressed size all of a project's cache entries may take together, in megabytes. Storing beyond it
    /// evicts the project's least recently used entries (never the one just stored).</summary>
    public long ProjectMegabytes { get; set; } = 10240;

    public string ResolveDirectory(KaizenOptions kaizen) =>
        string.IsNullOrWhiteSpace(Directory)
            ? Path.Combine(kaizen.ResolveDataDirectory(), "caches")
            : Path.GetFullPath(Directory);
}

/// <summary>Debug sessions: a shell in a job's environment, from the job's page or over SSH.</summary>
public sealed class DebugOptions
{
    /// <summary>How long a debug session stays open unless extended, in minutes (fractions allowed).</summary>
    public double DefaultMinutes { get; set; } = 30;

    /// <summary>The longest one start or one extension may ask for, in minutes.</summary>
    public double MaxMinutes { get; set; } = 240;

    /// <summary>How long a runner may take from taking a session to opening its terminal connection, in seconds;
    /// a session whose runner never connects ends then.</summary>
    public double ConnectSeconds { get; set; } = 120;

    /// <summary>How long a runner that took a session has to open its terminal connection before the session goes back
    /// to the queue for another runner, in seconds: a runner that stopped, or lost the reply, as it took the session
    /// never connects. Sessions the portal handed out before it restarted get <see cref="ConnectSeconds"/> instead.</summary>
    public double HandoffSeconds { get; set; } = 20;

    /// <summary>How many times a session goes back to the queue before it ends saying that no runner connected.</summary>
    public int MaxHandoffs { get; set; } = 3;
}
