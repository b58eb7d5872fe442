using System.Collections.Concurrent;
using Kaizen.Runner.Execution;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Git;

/// <summary>A branch head as the portal's mirror sees it.</summary>
public sealed record GitBranch(string Name, string Sha, string Message, string Author);

/// <summary>What a git call produced, or why it failed (in words a person can act on).</summary>
public sealed record GitResult<T>(T? Value, string? Error)
{
    public bool Ok => Error is null;
    public static GitResult<T> Fail(string error) => new(default, error);
}

/// <summary>
/// The portal's bare mirror of each project's repository (git CLI), under {DataDirectory}/git/{projectId}.git.
/// It lists branches and resolves branch heads; runners fetch from the repository themselves.
/// </summary>
public sealed class GitMirror(IOptions<KaizenOptions> options, ILogger<GitMirror> logger)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly ConcurrentDictionary<long, SemaphoreSlim> _locks = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _named = new(StringComparer.Ordinal);
    private readonly string _root = Path.Combine(options.Value.ResolveDataDirectory(), "git");

    /// <summary>Checks that a git URL is one Kaizen accepts and returns it in canonical form (absolute local paths).</summary>
    public static GitResult<string> NormalizeUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return GitResult<string>.Fail("gitUrl is required.");
        url = url.Trim();
        if (url.StartsWith('-')) return GitResult<string>.Fail("gitUrl must not start with '-'.");
        if (url.Contains("::", StringComparison.Ordinal))
            return GitResult<string>.Fail("git remote helpers ('transport::address') are not allowed; use https://, ssh://, file:// or a local path.");
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && !Path.IsPathRooted(url))
        {
            return uri.Scheme is "https" or "http" or "ssh" or "git" or "file"
                ? new GitResult<string>(url, null)
                : GitResult<string>.Fail($"'{uri.Scheme}' URLs are not supported; use https://, ssh://, file:// or a local path.");
        }
        if (Path.IsPathRooted(url)) return new GitResult<string>(Path.GetFullPath(url), null);
        // scp-like syntax: user@host:path/repo.git
        if (url.Contains('@') && url.Contains(':')) return new GitResult<string>(url, null);
        return GitResult<string>.Fail($"'{url}' is not a git URL or an absolute path to a repository.");
    }

    public string MirrorPath(long projectId) => Path.Combine(_root, $"{projectId}.git");

    /// <summary>Lists a repository's branches and its default branch without keeping anything (used before a project exists).</summary>
    public async Task<GitResult<(string DefaultBranch, IReadOnlyList<string> Branches)>> ProbeAsync(string url, CancellationToken ct)
    {
        var (result, stdout, stderr) = await GitAsync(null, ct, "ls-remote", "--symref", "--", url, "HEAD", "refs/heads/*");
        if (!result.Succeeded)
            return GitResult<(string, IReadOnlyList<string>)>.Fail(Explain(url, result, stderr));
        string? head = null;
        var branches = new List<string>();
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("ref: refs/heads/", StringComparison.Ordinal))
                head = line["ref: refs/heads/".Length..].Split('\t')[0];
            else if (line.Split('\t') is [_, var name] && name.StartsWith("refs/heads/", StringComparison.Ordinal))
                branches.Add(name["refs/heads/".Length..]);
        }
        if (branches.Count == 0)
            return GitResult<(string, IReadOnlyList<string>)>.Fail($"The repository at '{url}' has no branches yet: push a commit first.");
        head ??= branches.Contains("main") ? "main" : branches.Contains("master") ? "master" : branches[0];
        return new((head, branches), null);
    }

    /// <summary>The commit a branch points at in the repository now (one cheap call, no objects transferred);
    /// null when the branch does not exist.</summary>
    public async Task<GitResult<string?>> RemoteHeadAsync(string url, string branch, CancellationToken ct)
    {
        // A repository on this machine is read where it is: one git process instead of ls-remote's two (git and
        // upload-pack), and the same answer. Anything unexpected falls back to ls-remote, which explains failures.
        if (LocalGitDirectory(url) is { } gitDir)
        {
            var (local, refs, _) = await GitAsync(gitDir, ct, "for-each-ref", "--format=%(objectname) %(refname)", $"refs/heads/{branch}");
            if (local.Succeeded)
                return new GitResult<string?>(refs.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => l.Split(' ', 2))
                    .FirstOrDefault(f => f.Length == 2 && f[1] == $"refs/heads/{branch}")?[0], null);
        }

        var (result, stdout, stderr) = await GitAsync(null, ct, "ls-remote", "--heads", "--", url, $"refs/heads/{branch}");
        if (!result.Succeeded) return GitResult<string?>.Fail(Explain(url, result, stderr));
        var sha = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .FirstOrDefault(f => f.Length == 2 && f[1] == $"refs/heads/{branch}")?[0];
        return new GitResult<string?>(sha, null);
    }

    /// <summary>The git directory of a repository given as a local path (a bare one, or a work tree's .git folder);
    /// null for remote URLs. Named explicitly so that git never looks for a repository in a parent folder.</summary>
    private static string? LocalGitDirectory(string url)
    {
        if (!Path.IsPathRooted(url)) return null;
        var dotGit = Path.Combine(url, ".git");
        if (Directory.Exists(dotGit)) return dotGit;
        return File.Exists(Path.Combine(url, "HEAD")) && Directory.Exists(Path.Combine(url, "refs")) ? url : null;
    }

    /// <summary>Creates or updates the project's mirror, then returns every branch head.</summary>
    public async Task<GitResult<IReadOnlyList<GitBranch>>> SyncAsync(long projectId, string url, CancellationToken ct)
    {
        var gate = _locks.GetOrAdd(projectId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var path = MirrorPath(projectId);
            (ProcessResult Result, string Stdout, string Stderr) run;
            if (Directory.Exists(Path.Combine(path, "refs")))
            {
                run = await GitAsync(path, ct, "fetch", "--prune", "--quiet", "--", url, "+refs/heads/*:refs/heads/*");
            }
            else
            {
                Directory.CreateDirectory(_root);
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                run = await GitAsync(null, ct, "clone", "--mirror", "--quiet", "--", url, path);
            }
            if (!run.Result.Succeeded)
            {
                logger.LogWarning("Git mirror of project {ProjectId} failed: {Error}", projectId, run.Stderr.Trim());
                return GitResult<IReadOnlyList<GitBranch>>.Fail(Explain(url, run.Result, run.Stderr));
            }
            return await BranchesAsync(path, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Fetches the repository's tags into the project's mirror (branch syncs fetch heads only), so a build of a
    /// tag resolves what the repository says now; a tag deleted there goes here too.</summary>
    public async Task<GitResult<bool>> FetchTagsAsync(long projectId, string url, CancellationToken ct)
    {
        var gate = _locks.GetOrAdd(projectId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var run = await GitAsync(MirrorPath(projectId), ct, "fetch", "--prune", "--quiet", "--", url, "+refs/tags/*:refs/tags/*");
            return run.Result.Succeeded ? new GitResult<bool>(true, null) : GitResult<bool>.Fail(Explain(url, run.Result, run.Stderr));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Removes the project's mirror (its repository moved, or the project is gone); the next sync clones anew,
    /// so nothing of the old repository stays behind.</summary>
    public async Task RemoveAsync(long projectId, CancellationToken ct)
    {
        var gate = _locks.GetOrAdd(projectId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var path = MirrorPath(projectId);
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Creates or updates a bare mirror that is not a project's (e.g. the git-backed script library) under the mirrors'
    /// folder as <paramref name="name"/>.git; returns its path. <paramref name="environment"/> adds variables for git
    /// (credentials as <c>GIT_CONFIG_*</c>, so they never reach the command line or the mirror's config).
    /// </summary>
    public async Task<GitResult<string>> MirrorAsync(string name, string url, IReadOnlyDictionary<string, string?>? environment,
        CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var gate = _named.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var path = Path.Combine(_root, $"{name}.git");
            (ProcessResult Result, string Stdout, string Stderr) run;
            if (Directory.Exists(Path.Combine(path, "refs")))
            {
                run = await GitAsync(path, environment, ct, "fetch", "--prune", "--quiet", "--", url, "+refs/heads/*:refs/heads/*");
            }
            else
            {
                Directory.CreateDirectory(_root);
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                run = await GitAsync(null, environment, ct, "clone", "--mirror", "--quiet", "--", url, path);
            }
            if (!run.Result.Succeeded)
            {
                logger.LogWarning("Git mirror {Name} failed: {Error}", name, run.Stderr.Trim());
                return GitResult<string>.Fail(Explain(url, run.Result, run.Stderr));
            }
            return new GitResult<string>(path, null);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Runs a git command that only reads from the bare repository at <paramref name="gitDir"/>; its output.</summary>
    public async Task<GitResult<string>> ReadAsync(string gitDir, CancellationToken ct, params string[] args)
    {
        var (result, stdout, stderr) = await GitAsync(gitDir, null, ct, args);
        if (result.StartError is not null) return GitResult<string>.Fail(result.StartError);
        return result.Succeeded ? new GitResult<string>(stdout, null) : GitResult<string>.Fail(stderr.Trim());
    }

    private static async Task<GitResult<IReadOnlyList<GitBranch>>> BranchesAsync(string mirror, CancellationToken ct)
    {
        // %00 separates fields: subjects and names may hold any other character.
        var (result, stdout, stderr) = await GitAsync(mirror, ct, "for-each-ref",
            "--format=%(refname:lstrip=2)%00%(objectname)%00%(authorname) <%(authoremail:trim)>%00%(contents:subject)",
            "refs/heads");
        if (!result.Succeeded) return GitResult<IReadOnlyList<GitBranch>>.Fail($"Could not list branches: {stderr.Trim()}");
        var branches = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\0'))
            .Where(f => f.Length == 4)
            .Select(f => new GitBranch(f[0], f[1], f[3], f[2]))
            .ToList();
        return new(branches, null);
    }

    private static string Explain(string url, ProcessResult result, string stderr)
    {
        if (result.StartError is not null) return result.StartError;
        var detail = string.Join(' ', stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Trim()).Where(l => l.Length > 0).Take(3));
        return Kaizen.Runner.Checkout.GitUrlCredentials.Hide(
            $"Could not read the git repository at '{url}': {(detail.Length > 0 ? detail : $"git exited with {result.ExitCode}")}");
    }

    private static Task<(ProcessResult Result, string Stdout, string Stderr)> GitAsync(string? gitDir, CancellationToken ct,
        params string[] args) => GitAsync(gitDir, null, ct, args);

    private static async Task<(ProcessResult Result, string Stdout, string Stderr)> GitAsync(string? gitDir,
        IReadOnlyDictionary<string, string?>? extra, CancellationToken ct, params string[] args)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        var arguments = new List<string>();
        if (gitDir is not null) arguments.AddRange(["--git-dir", gitDir]);
        arguments.AddRange(args);
        var env = new Dictionary<string, string?>
        {
            ["GIT_TERMINAL_PROMPT"] = "0",
            ["GIT_ASKPASS"] = "true",
            ["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string?>()) env[name] = value;
        try
        {
            return await ProcessRunner.CaptureAsync(new ProcessRequest("git", arguments, null, env), timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (new ProcessResult(-1, Timeout, $"git did not answer within {Timeout.TotalSeconds:0} seconds."), "", "");
        }
    }
}
