using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Kaizen.Runner.Execution;

namespace Kaizen.Runner.Checkout;

/// <summary>A checked-out workspace, or why there is none.</summary>
public sealed record CheckoutResult(string? Workspace, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// Makes a fresh job workspace at an exact commit. Each repository is fetched once into a runner-side bare mirror
/// (<c>&lt;workRoot&gt;/git/&lt;sha256(url)&gt;.git</c>), fetched again only when a commit is missing; a workspace
/// borrows the mirror's objects through <c>objects/info/alternates</c>, so making one costs a single
/// <c>git reset --hard</c> and no object copies. Fetches into one mirror are serialized; checkouts run in parallel.
/// </summary>
public sealed class GitCheckout
{
    private static readonly IReadOnlyDictionary<string, string?> GitEnvironment = new Dictionary<string, string?>
    {
        ["GIT_TERMINAL_PROMPT"] = "0",  // fail instead of waiting for a password nobody will type
        ["GCM_INTERACTIVE"] = "never",
        ["GIT_SSH_COMMAND"] = Environment.GetEnvironmentVariable("GIT_SSH_COMMAND") ?? "ssh -o BatchMode=yes",
        ["GIT_DIR"] = null,              // a runner started from inside a repository must not leak it into ours
        ["GIT_WORK_TREE"] = null,
        ["GIT_INDEX_FILE"] = null,
        ["GIT_OBJECT_DIRECTORY"] = null,
        ["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = null,
    };

    private readonly string _workRoot;
    private readonly ConcurrentDictionary<string, Mirror> _mirrors = new(StringComparer.Ordinal);

    public GitCheckout(string workRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(workRoot);
        _workRoot = Path.GetFullPath(workRoot);
    }

    /// <summary>Where job <paramref name="jobId"/>'s workspace lives.</summary>
    public string WorkspacePath(long jobId) => Path.Combine(_workRoot, "jobs", jobId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Where debug session <paramref name="sessionId"/>'s workspace lives: apart from the job's own and from any
    /// other session of the same job.</summary>
    public string DebugWorkspacePath(long sessionId) =>
        Path.Combine(_workRoot, "jobs", "debug-" + sessionId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Where the mirror of <paramref name="gitUrl"/> lives.</summary>
    public string MirrorPath(string gitUrl) =>
        Path.Combine(_workRoot, "git", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(gitUrl))) + ".git");

    /// <summary>
    /// Creates job <paramref name="jobId"/>'s workspace (replacing any leftover) and checks out <paramref name="commitSha"/>
    /// detached. An empty <paramref name="gitUrl"/> gives an empty workspace. Git's messages go to <paramref name="onOutput"/>.
    /// Failures come back as <see cref="CheckoutResult.Error"/>; only cancellation throws.
    /// </summary>
    public Task<CheckoutResult> CheckoutAsync(
        long jobId,
        string gitUrl,
        string commitSha,
        string branch,
        Func<ReadOnlyMemory<byte>, ValueTask> onOutput,
        CancellationToken cancellationToken) =>
        CheckoutAsync(WorkspacePath(jobId), gitUrl, commitSha, branch, onOutput, cancellationToken);

    /// <summary>The same into <paramref name="workspace"/> (<see cref="WorkspacePath"/> or <see cref="DebugWorkspacePath"/>).</summary>
    public async Task<CheckoutResult> CheckoutAsync(
        string workspace,
        string gitUrl,
        string commitSha,
        string branch,
        Func<ReadOnlyMemory<byte>, ValueTask> onOutput,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(workspace);
        ArgumentNullException.ThrowIfNull(gitUrl);
        ArgumentNullException.ThrowIfNull(commitSha);
        ArgumentNullException.ThrowIfNull(onOutput);

        try
        {
            // Emptied rather than replaced: a job's sandbox may already show this folder (it binds the folder itself).
            EmptyWorkspace(workspace);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new CheckoutResult(null, $"Could not create the workspace {workspace}: {ex.Message}");
        }

        if (gitUrl.Length == 0)
        {
            return new CheckoutResult(workspace, null);
        }

        if (Refuse(gitUrl, commitSha) is { } refused)
        {
            return new CheckoutResult(null, refused);
        }

        var log = new GitLog(onOutput);
        await log.LineAsync($"Checking out {GitUrlCredentials.Hide(gitUrl)} at {commitSha} ({branch})").ConfigureAwait(false);

        var mirror = _mirrors.GetOrAdd(MirrorPath(gitUrl), path => new Mirror(path));
        var error = await EnsureCommitAsync(mirror, gitUrl, commitSha, log, cancellationToken).ConfigureAwait(false)
            ?? await PopulateWorkspaceAsync(mirror, gitUrl, commitSha, workspace, log, cancellationToken).ConfigureAwait(false);
        return error is null ? new CheckoutResult(workspace, null) : new CheckoutResult(null, error);
    }

    /// <summary>
    /// Brings a workspace this runner checked out ahead of time (for a shell made ahead of time; nothing ran in it) to
    /// <paramref name="commitSha"/>: nothing to write when it is there already, else a <c>git reset --hard</c> that writes
    /// only the files that differ. Its branches and tags are refreshed from the mirror. Anything else (no checkout
    /// there, another repository) is checked out afresh with <see cref="CheckoutAsync(string, string, string, string, Func{ReadOnlyMemory{byte}, ValueTask}, CancellationToken)"/>.
    /// </summary>
    public async Task<CheckoutResult> UpdateAsync(
        string workspace,
        string gitUrl,
        string commitSha,
        string branch,
        Func<ReadOnlyMemory<byte>, ValueTask> onOutput,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(workspace);
        ArgumentNullException.ThrowIfNull(gitUrl);
        ArgumentNullException.ThrowIfNull(commitSha);
        ArgumentNullException.ThrowIfNull(onOutput);
        var git = Path.Combine(workspace, ".git");
        var config = Path.Combine(git, "config");
        if (gitUrl.Length == 0 || Refuse(gitUrl, commitSha) is not null || !File.Exists(Path.Combine(git, "index"))
            || !File.Exists(config) || await File.ReadAllTextAsync(config, cancellationToken).ConfigureAwait(false) != WorkspaceConfig(gitUrl))
        {
            return await CheckoutAsync(workspace, gitUrl, commitSha, branch, onOutput, cancellationToken).ConfigureAwait(false);
        }

        var log = new GitLog(onOutput);
        await log.LineAsync($"Checking out {GitUrlCredentials.Hide(gitUrl)} at {commitSha} ({branch})").ConfigureAwait(false);
        var mirror = _mirrors.GetOrAdd(MirrorPath(gitUrl), path => new Mirror(path));
        if (await EnsureCommitAsync(mirror, gitUrl, commitSha, log, cancellationToken).ConfigureAwait(false) is { } error)
        {
            return new CheckoutResult(null, error);
        }

        await File.WriteAllTextAsync(Path.Combine(git, "packed-refs"), WorkspaceRefs(mirror.Path), cancellationToken).ConfigureAwait(false);
        if ((await File.ReadAllTextAsync(Path.Combine(git, "HEAD"), cancellationToken).ConfigureAwait(false)).Trim() == commitSha)
        {
            return new CheckoutResult(workspace, null);
        }

        var reset = await GitAsync(workspace, ["reset", "--hard", commitSha], log, cancellationToken).ConfigureAwait(false);
        return reset.Succeeded ? new CheckoutResult(workspace, null) : new CheckoutResult(null, $"Could not check out {commitSha}: {log.LastLine(reset)}");
    }

    private static string? Refuse(string gitUrl, string commitSha) =>
        !IsCommitId(commitSha) ? $"'{commitSha}' is not a full commit id (40 or 64 hexadecimal characters)."
        : gitUrl.StartsWith('-') ? $"'{gitUrl}' is not a git URL."
        : null;

    /// <summary>Makes <paramref name="workspace"/> an empty folder, keeping the folder itself when it exists.</summary>
    public static void EmptyWorkspace(string workspace)
    {
        var folder = Directory.CreateDirectory(workspace);
        foreach (var entry in folder.EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo { LinkTarget: null } directory)
            {
                DeleteWorkspace(directory.FullName);
            }
            else
            {
                entry.Delete();
            }
        }
    }

    /// <summary>Deletes a workspace; best effort (a job may leave read-only files or processes behind).</summary>
    public static void DeleteWorkspace(string workspace)
    {
        if (!Directory.Exists(workspace))
        {
            return;
        }

        try
        {
            Directory.Delete(workspace, recursive: true);
        }
        catch (UnauthorizedAccessException) when (!OperatingSystem.IsWindows())
        {
            // Read-only directories stop the delete on Unix; make everything writable and try once more.
            foreach (var directory in Directory.EnumerateDirectories(workspace, "*", SearchOption.AllDirectories))
            {
                File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            Directory.Delete(workspace, recursive: true);
        }
    }

    private static async Task<string?> EnsureCommitAsync(Mirror mirror, string gitUrl, string sha, GitLog log, CancellationToken ct)
    {
        if (mirror.KnownCommits.ContainsKey(sha))
        {
            return null;
        }

        // Readers never see a half-made mirror: it is cloned elsewhere and renamed into place under the lock.
        if (Directory.Exists(mirror.Path) && await HasCommitAsync(mirror.Path, sha, ct).ConfigureAwait(false))
        {
            mirror.KnownCommits.TryAdd(sha, 0);
            return null;
        }

        await mirror.FetchLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!Directory.Exists(mirror.Path))
            {
                var temporary = $"{mirror.Path}.{Guid.NewGuid():N}.tmp";
                Directory.CreateDirectory(Path.GetDirectoryName(mirror.Path)!);
                var clone = await GitAsync(null, ["clone", "--mirror", "--", gitUrl, temporary], log, ct).ConfigureAwait(false);
                if (!clone.Succeeded)
                {
                    TryDeleteDirectory(temporary);
                    return $"Could not clone {GitUrlCredentials.Hide(gitUrl)}: {log.LastLine(clone)}";
                }

                Directory.Move(temporary, mirror.Path);
            }
            else if (!await HasCommitAsync(mirror.Path, sha, ct).ConfigureAwait(false))
            {
                await log.LineAsync($"Fetching {GitUrlCredentials.Hide(gitUrl)}").ConfigureAwait(false);
                var fetch = await GitAsync(mirror.Path, ["fetch", "--prune", "origin"], log, ct).ConfigureAwait(false);
                if (!fetch.Succeeded)
                {
                    return $"Could not fetch {GitUrlCredentials.Hide(gitUrl)}: {log.LastLine(fetch)}";
                }
            }

            if (!await HasCommitAsync(mirror.Path, sha, ct).ConfigureAwait(false))
            {
                // Not on any ref (force-pushed away, or a pull request head): ask for the commit itself.
                var direct = await GitAsync(mirror.Path, ["fetch", "origin", sha], log, ct).ConfigureAwait(false);
                if (!direct.Succeeded || !await HasCommitAsync(mirror.Path, sha, ct).ConfigureAwait(false))
                {
                    return $"Commit {sha} was not found in {GitUrlCredentials.Hide(gitUrl)}.";
                }
            }

            // Workspaces copy tags and branch names from packed-refs; keep it complete after every fetch.
            await GitAsync(mirror.Path, ["pack-refs", "--all"], log, ct).ConfigureAwait(false);
            mirror.KnownCommits.TryAdd(sha, 0);
            return null;
        }
        finally
        {
            mirror.FetchLock.Release();
        }
    }

    private static async Task<string?> PopulateWorkspaceAsync(Mirror mirror, string gitUrl, string sha, string workspace, GitLog log, CancellationToken ct)
    {
        // A hand-made .git (what `git clone --shared --no-checkout` would write, minus the process and the copies):
        // objects come from the mirror, tags and branches (as origin/*) from its packed-refs, HEAD detached at sha.
        var git = Path.Combine(workspace, ".git");
        Directory.CreateDirectory(Path.Combine(git, "objects", "info"));
        Directory.CreateDirectory(Path.Combine(git, "refs", "heads"));
        Directory.CreateDirectory(Path.Combine(git, "refs", "tags"));
        await File.WriteAllTextAsync(Path.Combine(git, "objects", "info", "alternates"), Path.Combine(mirror.Path, "objects") + "\n", ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(git, "HEAD"), sha + "\n", ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(git, "config"), WorkspaceConfig(gitUrl), ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(git, "packed-refs"), WorkspaceRefs(mirror.Path), ct).ConfigureAwait(false);

        var reset = await GitAsync(workspace, ["reset", "--hard", sha], log, ct).ConfigureAwait(false);
        return reset.Succeeded ? null : $"Could not check out {sha}: {log.LastLine(reset)}";
    }

    private static string WorkspaceConfig(string gitUrl)
    {
        var url = gitUrl.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
        return $"""
            [core]
            	repositoryformatversion = 0
            	filemode = true
            	bare = false
            	logallrefupdates = false
            [remote "origin"]
            	url = "{url}"
            	fetch = +refs/heads/*:refs/remotes/origin/*

            """;
    }

    /// <summary>The mirror's tags as they are and its branches as <c>refs/remotes/origin/*</c>, like a clone has.</summary>
    private static string WorkspaceRefs(string mirrorPath)
    {
        var packed = Path.Combine(mirrorPath, "packed-refs");
        var builder = new StringBuilder("# pack-refs with: peeled fully-peeled sorted \n");
        if (!File.Exists(packed))
        {
            return builder.ToString();
        }

        var keepPeeled = false;
        foreach (var line in File.ReadLines(packed))
        {
            if (line.StartsWith('^'))
            {
                if (keepPeeled)
                {
                    builder.Append(line).Append('\n');
                }

                continue;
            }

            keepPeeled = false;
            var space = line.IndexOf(' ');
            if (line.StartsWith('#') || space < 0)
            {
                continue;
            }

            var name = line.AsSpan(space + 1);
            if (name.StartsWith("refs/tags/"))
            {
                builder.Append(line).Append('\n');
                keepPeeled = true;
            }
            else if (name.StartsWith("refs/heads/"))
            {
                builder.Append(line.AsSpan(0, space + 1)).Append("refs/remotes/origin/").Append(name["refs/heads/".Length..]).Append('\n');
            }
        }

        return builder.ToString();
    }

    private static async Task<bool> HasCommitAsync(string mirrorPath, string sha, CancellationToken ct)
    {
        var result = await ProcessRunner.RunAsync(
            new ProcessRequest("git", ["-C", mirrorPath, "cat-file", "-e", sha + "^{commit}"], Environment: GitEnvironment),
            null,
            null,
            ct).ConfigureAwait(false);
        return result.Succeeded;
    }

    private static Task<ProcessResult> GitAsync(string? directory, IReadOnlyList<string> arguments, GitLog log, CancellationToken ct)
    {
        IReadOnlyList<string> all = directory is null ? arguments : ["-C", directory, .. arguments];
        return ProcessRunner.RunAsync(new ProcessRequest("git", all, Environment: GitEnvironment), log.WriteAsync, log.WriteAsync, ct);
    }

    private static bool IsCommitId(string sha) =>
        sha.Length is 40 or 64 && sha.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0;

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private sealed class Mirror(string path)
    {
        public string Path { get; } = path;

        public SemaphoreSlim FetchLock { get; } = new(1, 1);

        /// <summary>Commits seen in the mirror; objects are never removed while reachable, so no need to ask git again.</summary>
        public ConcurrentDictionary<string, byte> KnownCommits { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Forwards git's output to the job log and remembers its tail for error messages.</summary>
    private sealed class GitLog(Func<ReadOnlyMemory<byte>, ValueTask> onOutput)
    {
        private const int TailSize = 2048;
        private readonly List<byte> _tail = new(TailSize);

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data)
        {
            Remember(data.Span);
            await onOutput(data).ConfigureAwait(false);
        }

        public ValueTask LineAsync(string text) => onOutput(Encoding.UTF8.GetBytes(text + "\n"));

        /// <summary>The last non-empty line git printed, or the exit status when it printed nothing.</summary>
        public string LastLine(ProcessResult result)
        {
            if (result.StartError is not null)
            {
                return result.StartError;
            }

            var text = Encoding.UTF8.GetString([.. _tail]).TrimEnd();
            var line = text[(text.LastIndexOf('\n') + 1)..].Trim();
            return line.Length > 0 ? line : $"git exited with {result.ExitCode}";
        }

        private void Remember(ReadOnlySpan<byte> data)
        {
            if (data.Length >= TailSize)
            {
                _tail.Clear();
                _tail.AddRange(data[^TailSize..]);
                return;
            }

            var excess = _tail.Count + data.Length - TailSize;
            if (excess > 0)
            {
                _tail.RemoveRange(0, excess);
            }

            _tail.AddRange(data);
        }
    }
}
