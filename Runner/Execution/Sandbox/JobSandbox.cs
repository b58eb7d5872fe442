using System.Diagnostics;

namespace Kaizen.Runner.Execution.Sandbox;

/// <summary>
/// The job sandbox of a runner (bubblewrap): every shell a job gets, and every <c>kaizen</c> call and tool install
/// made for it, runs in a mount namespace that shows the system folders read-only, the job's own workspace, a home
/// and a <c>/tmp</c> of its own, and nothing else of the host (no runner folder, other workspaces, portal data, key
/// ring, runner token, Docker socket or <c>/home</c>); in a PID namespace of its own (it sees and signals only its own
/// processes, and when its shell ends the namespace ends and takes every process it started with it); with only the
/// environment the job is given; as the unprivileged user <see cref="UserName"/>. The network stays on.
/// </summary>
/// <remarks>
/// A runner that runs as root maps the job's user to root outside the namespace (bubblewrap's only mapping), so a file
/// that only root may read would still be readable where it is bound: such entries of the system folders (/etc/shadow,
/// SSH host keys, private TLS keys) are covered with an empty file or folder. The runner's own folders are covered
/// the same way when they sit inside a system folder.
/// </remarks>
public sealed class JobSandbox
{
    /// <summary>The job's user inside the sandbox.</summary>
    public const string UserName = "kaizen";

    public const int UserId = 1000;

    /// <summary>The job's home inside the sandbox (a folder of the job's own on the host).</summary>
    public const string HomePath = "/home/" + UserName;

    /// <summary>What the runner reports to the portal when jobs run in this sandbox.</summary>
    public const string Kind = "bubblewrap";

    /// <summary>What the runner reports when jobs run without a sandbox.</summary>
    public const string NoneKind = "none";

    // Top-level folders a job may read. Everything else of / (home, root, var, run, srv, mnt, media, the runner's and
    // the portal's folders, /tmp) is absent. On merged-/usr systems bin, sbin and lib* are symbolic links into /usr.
    private static readonly string[] SystemFolders = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt"];

    private readonly string _bwrap;
    private readonly IReadOnlyList<string> _systemArguments;
    private readonly IReadOnlyList<string> _shareArguments;

    private JobSandbox(string bwrap, string stateDirectory, IReadOnlyList<string> systemArguments, IReadOnlyList<string> shareArguments)
    {
        _bwrap = bwrap;
        StateDirectory = stateDirectory;
        _systemArguments = systemArguments;
        _shareArguments = shareArguments;
    }

    /// <summary>The runner's sandbox folder: per-job homes and temp folders, the passwd and group files jobs see.</summary>
    public string StateDirectory { get; }

    /// <summary>
    /// Prepares the sandbox for a runner whose folders are <paramref name="hidden"/> (its work folder, the portal's data
    /// folder): finds bubblewrap and tries it once. Returns the sandbox, or null and why it cannot be made here.
    /// </summary>
    /// <param name="shares">Host folders every job sees at the same path, chosen by the runner's operator (datasets,
    /// licences, a folder tests exchange files through): <c>PATH</c> (writable) or <c>PATH:ro</c> (read-only).</param>
    public static (JobSandbox? Sandbox, string? Problem) Create(string workRoot, IEnumerable<string> hidden, IEnumerable<string>? shares = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(workRoot);
        ArgumentNullException.ThrowIfNull(hidden);
        List<string> shared = [];
        foreach (var share in shares ?? [])
        {
            var readOnly = share.EndsWith(":ro", StringComparison.Ordinal);
            var path = readOnly ? share[..^3] : share;
            if (!Path.IsPathRooted(path) || !Directory.Exists(path))
            {
                return (null, $"the shared folder '{path}' is not an existing absolute path");
            }

            shared.AddRange([readOnly ? "--ro-bind" : "--bind", Path.GetFullPath(path), Path.GetFullPath(path)]);
        }

        if (!OperatingSystem.IsLinux())
        {
            return (null, "job sandboxes need Linux (bubblewrap)");
        }

        var bwrap = new[] { "/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap" }.FirstOrDefault(File.Exists);
        if (bwrap is null)
        {
            return (null, "bubblewrap is not installed (apt-get install bubblewrap)");
        }

        var state = Path.Combine(Path.GetFullPath(workRoot), "sandbox");
        try
        {
            Directory.CreateDirectory(state);
            File.SetUnixFileMode(state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var sandbox = new JobSandbox(bwrap, state, SystemArguments(state, [workRoot, .. hidden]), shared);
            return sandbox.Try() is { } problem ? (null, problem) : (sandbox, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot prepare {state}: {ex.Message}");
        }
    }

    /// <summary>Where the folders of <see cref="FoldersFor"/> are, without making them.</summary>
    public JobFolders FoldersPath(string name)
    {
        var root = Path.Combine(StateDirectory, "jobs", name);
        return new JobFolders(root, Path.Combine(root, "home"), Path.Combine(root, "tmp"));
    }

    /// <summary>Where <paramref name="path"/> (absolute, as a job sees it) is on the host for a job with
    /// <paramref name="folders"/>: its home and /tmp are folders of its own; nothing else outside the workspace is
    /// the job's to write.</summary>
    public static (string? Path, string? Error) HostPath(JobFolders folders, string path)
    {
        ArgumentNullException.ThrowIfNull(folders);
        foreach (var (inside, outside) in new[] { (HomePath, folders.Home), ("/tmp", folders.Temp) })
        {
            if (path.StartsWith(inside + "/", StringComparison.Ordinal) && !path.Split('/').Contains(".."))
            {
                return (Path.Combine(outside, path[(inside.Length + 1)..]), null);
            }
        }

        return (null, $"The secret file path '{path}' is outside what a sandboxed job can see; use a path in the workspace, in {HomePath} (~) or in /tmp.");
    }

    /// <summary>A folder of the job's own for its home and <c>/tmp</c>, created empty; delete it with <see cref="Delete"/>.</summary>
    public JobFolders FoldersFor(string name)
    {
        var folders = FoldersPath(name);
        DeleteTree(folders.Root);
        Directory.CreateDirectory(folders.Home);
        Directory.CreateDirectory(folders.Temp);
        return folders;
    }

    /// <summary>Removes a job's home and temp folders (best effort).</summary>
    public static void Delete(JobFolders? folders)
    {
        if (folders is not null)
        {
            DeleteTree(folders.Root);
        }
    }

    private static void DeleteTree(string path)
    {
        try
        {
            Checkout.GitCheckout.DeleteWorkspace(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next job of this name replaces it.
        }
    }

    /// <summary>
    /// The command line that runs <paramref name="command"/> inside a sandbox with <paramref name="mounts"/>; the
    /// process gets its environment as it is started (bubblewrap passes it on), so no value shows on a command line.
    /// </summary>
    public IReadOnlyList<string> Wrap(SandboxMounts mounts, IReadOnlyList<string> command)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        ArgumentNullException.ThrowIfNull(command);
        var arguments = new List<string>(64) { _bwrap };
        arguments.AddRange(_systemArguments);
        arguments.AddRange(["--bind", mounts.Folders.Home, HomePath, "--bind", mounts.Folders.Temp, "/tmp"]);

        // After the job's own /tmp and home, so a shared folder inside either stays visible.
        arguments.AddRange(_shareArguments);
        foreach (var path in mounts.ReadOnly)
        {
            arguments.AddRange(["--ro-bind", path, path]);
        }

        foreach (var path in mounts.Writable)
        {
            arguments.AddRange(["--bind", path, path]);
        }

        arguments.AddRange(["--chdir", mounts.WorkingDirectory, "--"]);
        arguments.AddRange(command);
        return arguments;
    }

    /// <summary>
    /// The machine's network settings a job needs to reach package registries, passed on from the runner's environment
    /// (they are the machine's, not the portal's): proxies and the CA bundles a TLS-inspecting proxy needs, and where
    /// pip and npm find packages. Anything else a job needs comes from the project's or organization's variables.
    /// </summary>
    private static readonly string[] NetworkVariables =
    [
        "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO",
        "AWS_CA_BUNDLE", "PIP_CERT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_TRUSTED_HOST",
        "NPM_CONFIG_REGISTRY", "NPM_CONFIG_CAFILE", "YARN_REGISTRY",
    ];

    /// <summary>The runner's values of <see cref="NetworkVariables"/> and of every <c>*_PROXY</c> variable (any case).</summary>
    public static Dictionary<string, string> NetworkEnvironment()
    {
        var passed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name && entry.Value is string { Length: > 0 } value
                && (NetworkVariables.Contains(name, StringComparer.OrdinalIgnoreCase) || name.EndsWith("_PROXY", StringComparison.OrdinalIgnoreCase)))
            {
                passed[name] = value;
            }
        }

        return passed;
    }

    /// <summary>The <c>PATH</c> every job starts with, whatever the runner's own <c>PATH</c> is (a runner started from a shell
    /// with pyenv or nvm must not hand its shims to jobs).</summary>
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The runner's setting that puts more folders in front of <see cref="DefaultPath"/> for every job (colon
    /// separated, absolute), e.g. <c>KAIZEN_JOB_PATH=/opt/toolcache/bin</c>.</summary>
    public const string JobPathVariable = "KAIZEN_JOB_PATH";

    /// <summary>
    /// The <c>PATH</c> a job starts with: the folders of <see cref="JobPathVariable"/> (absolute ones only; in a sandbox
    /// only those under a system folder the sandbox shows) in front of <see cref="DefaultPath"/>.
    /// </summary>
    public static string JobPath(bool sandboxed, string? extra = null)
    {
        extra ??= Environment.GetEnvironmentVariable(JobPathVariable);
        var folders = (extra ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(p => p.Length > 1 && p.StartsWith('/') && (!sandboxed || SystemFolders.Contains(p.Split('/')[1])));
        return string.Join(':', folders.Concat(DefaultPath.Split(':')).Distinct(StringComparer.Ordinal));
    }

    /// <summary>The environment every sandboxed process starts from: <see cref="JobPath"/>, the job's home, the runner's
    /// locale and terminal type, the machine's network settings (<see cref="NetworkEnvironment"/>). The job's variables
    /// go on top.</summary>
    public static Dictionary<string, string> BaseEnvironment()
    {
        return new Dictionary<string, string>(NetworkEnvironment(), StringComparer.Ordinal)
        {
            ["PATH"] = JobPath(sandboxed: true),
            ["HOME"] = HomePath,
            ["USER"] = UserName,
            ["LOGNAME"] = UserName,
            ["LANG"] = Environment.GetEnvironmentVariable("LANG") is { Length: > 0 } lang ? lang : "C.UTF-8",
            ["TERM"] = Environment.GetEnvironmentVariable("TERM") is { Length: > 0 } term ? term : "xterm",
            ["TMPDIR"] = "/tmp",
        };
    }

    /// <summary>The environment a job's process starts from when there is no sandbox: the same few variables, with the
    /// runner's own HOME and user, and <see cref="JobPath"/>. Nothing else of the runner's environment reaches a job.</summary>
    public static Dictionary<string, string> HostEnvironment()
    {
        var environment = NetworkEnvironment();
        foreach (var name in (string[])["HOME", "USER", "LOGNAME", "LANG", "TERM", "TMPDIR"])
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                environment[name] = value;
            }
        }

        environment["PATH"] = JobPath(sandboxed: false);
        return environment;
    }

    /// <summary>Gives <paramref name="startInfo"/> exactly the base environment (sandboxed or not) with
    /// <paramref name="environment"/> on top, and nothing inherited from the runner.</summary>
    public static void SetEnvironment(ProcessStartInfo startInfo, IReadOnlyDictionary<string, string> environment, bool sandboxed)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        ArgumentNullException.ThrowIfNull(environment);
        startInfo.Environment.Clear();
        foreach (var (name, value) in sandboxed ? BaseEnvironment() : HostEnvironment())
        {
            startInfo.Environment[name] = value;
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }
    }

    /// <summary>Runs <c>true</c> in a sandbox once, so a runner learns at start whether it can make them.</summary>
    private string? Try()
    {
        var folders = FoldersFor("probe");
        try
        {
            var startInfo = new ProcessStartInfo { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            var arguments = Wrap(new SandboxMounts(folders, "/", [], []), ["/bin/sh", "-c", "test \"$(id -u)\" = " + UserId]);
            startInfo.FileName = arguments[0];
            foreach (var argument in arguments.Skip(1))
            {
                startInfo.ArgumentList.Add(argument);
            }

            SetEnvironment(startInfo, new Dictionary<string, string>(), sandboxed: true);

            using var process = Process.Start(startInfo)!;
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
                return "bubblewrap did not start a sandbox within 10 s";
            }

            return process.ExitCode == 0 ? null
                : $"bubblewrap could not create a sandbox (exit code {process.ExitCode}: {error.Result.Trim()}); unprivileged user namespaces may be disabled";
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return $"bubblewrap could not run: {ex.Message}";
        }
        finally
        {
            Delete(folders);
        }
    }

    /// <summary>The arguments every sandbox shares: namespaces, the system folders read-only with what only root may
    /// read covered, the job's user in passwd and group, fresh /proc and /dev.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static List<string> SystemArguments(string state, IReadOnlyList<string> hidden)
    {
        var arguments = new List<string>
        {
            "--unshare-all", "--share-net", "--uid", UserId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--gid", UserId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--hostname", "kaizen-job",
        };
        foreach (var name in SystemFolders)
        {
            var path = "/" + name;
            var info = new DirectoryInfo(path);
            if (info.LinkTarget is { } target)
            {
                arguments.AddRange(["--symlink", target, path]);
            }
            else if (info.Exists)
            {
                arguments.AddRange(["--ro-bind", path, path]);
            }
        }

        var empty = Path.Combine(state, "empty");
        File.WriteAllText(empty, "");
        File.SetUnixFileMode(empty, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        foreach (var (path, isDirectory) in RootOnlyEntries("/etc"))
        {
            arguments.AddRange(isDirectory ? ["--tmpfs", path] : ["--ro-bind", empty, path]);
        }

        // resolv.conf may point into /run (systemd-resolved), which the sandbox does not show.
        if (new FileInfo("/etc/resolv.conf") is { LinkTarget: not null } resolv && resolv.ResolveLinkTarget(true) is { Exists: true } real)
        {
            arguments.AddRange(["--ro-bind", real.FullName, "/etc/resolv.conf"]);
        }

        arguments.AddRange(["--ro-bind", WriteAccounts(state, "passwd", $"{UserName}:x:{UserId}:{UserId}:Kaizen job:{HomePath}:/bin/bash"), "/etc/passwd"]);
        arguments.AddRange(["--ro-bind", WriteAccounts(state, "group", $"{UserName}:x:{UserId}:"), "/etc/group"]);
        foreach (var path in hidden.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
        {
            // Only a folder inside a system folder needs covering (elsewhere it is absent anyway), never a system folder itself.
            var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && SystemFolders.Contains(parts[0]) && Directory.Exists(path))
            {
                arguments.AddRange(["--tmpfs", path]);
            }
        }

        arguments.AddRange(["--proc", "/proc", "--dev", "/dev"]);
        return arguments;
    }

    /// <summary>The host's accounts file without the job's id or name, plus the job's user: tools that look the user up
    /// (ssh, git, pip --user) find it, and no host account shares its id.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string WriteAccounts(string state, string file, string line)
    {
        var lines = File.Exists("/etc/" + file) ? File.ReadAllLines("/etc/" + file) : [];
        var kept = lines.Where(l => l.Split(':') is var f && f.Length > 2 && f[0] != UserName && f[2] != UserId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var path = Path.Combine(state, file);
        File.WriteAllLines(path, [.. kept, line]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return path;
    }

    /// <summary>Entries under <paramref name="root"/> that others may not read (the topmost of each subtree).</summary>
    private static IEnumerable<(string Path, bool IsDirectory)> RootOnlyEntries(string root)
    {
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(pending.Pop()).ToList();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var entry in entries)
            {
                FileSystemInfo info = new FileInfo(entry);
                if (info.LinkTarget is not null)
                {
                    continue; // a link shows what it points to, which is covered (or absent) on its own
                }

                var isDirectory = (info.Attributes & FileAttributes.Directory) != 0;
                var mode = info.UnixFileMode;
                var readable = (mode & UnixFileMode.OtherRead) != 0 && (!isDirectory || (mode & UnixFileMode.OtherExecute) != 0);
                if (!readable)
                {
                    yield return (entry, isDirectory);
                }
                else if (isDirectory)
                {
                    pending.Push(entry);
                }
            }
        }
    }
}

/// <summary>A job's home and <c>/tmp</c> on the host, under <see cref="Root"/>.</summary>
public sealed record JobFolders(string Root, string Home, string Temp);

/// <summary>
/// What one sandbox shows besides the system folders: the job's <see cref="Folders"/>, paths shown read-only and
/// paths shown writable (each at its host path), and the folder the command starts in.
/// </summary>
public sealed record SandboxMounts(JobFolders Folders, string WorkingDirectory, IReadOnlyList<string> ReadOnly, IReadOnlyList<string> Writable);
