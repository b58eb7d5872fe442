using System.Globalization;

namespace Kaizen.Runner.Execution;

/// <summary>
/// The <c>kaizen</c> bash function (kaizen.sh, embedded in this assembly) that build settings call for caches, tools and
/// artifacts: <c>kaizen cache restore|store NAME KEYFILE... -- PATH...</c>, <c>kaizen tool use NAME VERSION [--path
/// DIR]... -- INSTALL...</c>, <c>kaizen checksum</c> and <c>kaizen artifact push|pull</c>. The runner writes the library
/// once under its work root and sources it into every job's shell, so these stay plain, visible, timed commands. The
/// function only forwards to the runner (<see cref="Docker.KaizenForwarder"/>, which does the work in C#,
/// <see cref="Calls.KaizenCalls"/>) and needs nothing but bash builtins, so a container can source the same file. This
/// class holds the runner's side of the settings: the cache and tools folders, the cache budget and the portal.
/// </summary>
public sealed class KaizenFunctions
{
    public const long DefaultCacheMaxMegabytes = 10240;

    /// <summary>The variable holding the job's own token for the portal (used by the runner for the job's <c>kaizen</c>
    /// calls; a trusted, unsandboxed job's shell has it too); masked in the log.</summary>
    public const string JobTokenVariable = "KAIZEN_JOB_TOKEN";

    private const string ResourceName = "Kaizen.Runner.Execution.kaizen.sh";

    /// <summary>The helper commands Semaphore pipelines call (checkout, cache, checksum, sem-version, artifact, retry),
    /// defined after <c>kaizen</c> in the same library, so imported commands run unchanged.</summary>
    private const string SemaphoreResourceName = "Kaizen.Runner.Execution.semaphore.sh";

    private static readonly Lazy<string> LazyScript = new(ReadScript);

    private readonly Lock _writeLock = new();
    private bool _written;

    /// <param name="workRoot">The runner's work directory; the library goes to <c>bin/kaizen.sh</c> under it.</param>
    /// <param name="cacheDirectory">Dependency caches (default <c>{workRoot}/cache</c>).</param>
    /// <param name="toolsDirectory">Installed tools, one folder per name and version (default <c>{workRoot}/tools</c>).</param>
    /// <param name="cacheMaxMegabytes">Least recently used cache entries are removed beyond this size.</param>
    public KaizenFunctions(string workRoot, string? cacheDirectory = null, string? toolsDirectory = null, long cacheMaxMegabytes = DefaultCacheMaxMegabytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(workRoot);
        ArgumentOutOfRangeException.ThrowIfNegative(cacheMaxMegabytes);
        var root = Path.GetFullPath(workRoot);
        LibraryPath = Path.Combine(root, "bin", "kaizen.sh");
        CacheDirectory = Path.GetFullPath(cacheDirectory ?? Path.Combine(root, "cache"));
        ToolsDirectory = Path.GetFullPath(toolsDirectory ?? Path.Combine(root, "tools"));
        CacheMaxMegabytes = cacheMaxMegabytes;
    }

    public string LibraryPath { get; }

    public string CacheDirectory { get; }

    public string ToolsDirectory { get; }

    public long CacheMaxMegabytes { get; }

    /// <summary>The portal the runner talks to for a job's caches and artifacts (KAIZEN_PORTAL_URL); null: caches stay in
    /// the runner's cache folder and artifacts are not available.</summary>
    public Uri? PortalUrl { get; init; }

    private static string SafeName(string project)
    {
        var name = new string(project.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        return name.Trim('.').Length > 0 ? name : "_";
    }

    /// <summary>The library's text.</summary>
    public static string Script => LazyScript.Value;

    /// <summary>The hidden command that defines the function in a session (output is the runner's, not the job's).</summary>
    public string SourceCommand => $". {JobExecutor.ShellQuote(LibraryPath)}";

    /// <summary>
    /// The variables the function reads; the runner's, so they go on top of the job's own. Each project gets a cache
    /// folder and a tools folder of its own: a cache or tool name is chosen by the project's settings, and one project's
    /// build must never restore or run what another project stored or installed under the same name.
    /// </summary>
    public void AddTo(IDictionary<string, string> environment, string? project = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        environment["KAIZEN_TOOLS_DIR"] = ToolsDirectoryFor(project);
        foreach (var (name, value) in PrivateVariables(project, token: null))
        {
            environment[name] = value;
        }
    }

    /// <summary>The tools folder of <paramref name="project"/> (one per project; jobs of a sandbox only read it).</summary>
    public string ToolsDirectoryFor(string? project) =>
        string.IsNullOrEmpty(project) ? ToolsDirectory : Path.Combine(ToolsDirectory, SafeName(project));

    /// <summary>The runner's copies of <paramref name="project"/>'s cache entries.</summary>
    public string CacheDirectoryFor(string? project) =>
        string.IsNullOrEmpty(project) ? CacheDirectory : Path.Combine(CacheDirectory, SafeName(project));

    /// <summary>
    /// The variables only the runner's own <c>kaizen</c> calls get, never a sandboxed job's shell: where the cache copies
    /// are, the portal, and the job's <paramref name="token"/> for it.
    /// </summary>
    public Dictionary<string, string> PrivateVariables(string? project, string? token)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["KAIZEN_CACHE_DIR"] = CacheDirectoryFor(project),
            ["KAIZEN_CACHE_MAX_MB"] = CacheMaxMegabytes.ToString(CultureInfo.InvariantCulture),
        };
        if (PortalUrl is not null)
        {
            variables["KAIZEN_PORTAL_URL"] = PortalUrl.ToString().TrimEnd('/');
        }

        if (token is { Length: > 0 })
        {
            variables[JobTokenVariable] = token;
        }

        return variables;
    }

    /// <summary>
    /// Writes the library if this instance has not yet (or someone removed it). Written to a temp file and renamed, so
    /// a shell sourcing it meanwhile (another runner on the same work root) never reads half a file.
    /// </summary>
    public void EnsureWritten()
    {
        if (Volatile.Read(ref _written) && File.Exists(LibraryPath))
        {
            return;
        }

        lock (_writeLock)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(LibraryPath)!);
            var temp = $"{LibraryPath}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temp, Script);
            File.Move(temp, LibraryPath, overwrite: true);
            Volatile.Write(ref _written, true);
        }
    }

    private static string ReadScript() => ReadResource(ResourceName) + "\n" + ReadResource(SemaphoreResourceName);

    private static string ReadResource(string name)
    {
        using var stream = typeof(KaizenFunctions).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The runner was built without its {name} resource.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
