using System.Security.Cryptography;
using System.Text;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Git;
using Microsoft.AspNetCore.DataProtection;

namespace Kaizen.Portal.Scripts;

/// <summary>
/// The git side of a git-backed library. <see cref="Credential"/> (a token or password for https URLs, sent with
/// <see cref="Username"/> as HTTP basic authentication) is write-only: it is kept encrypted and never returned.
/// <see cref="Folder"/> is relative to the repository's root ("" for the root itself); <see cref="Branch"/> null means
/// the repository's default branch.
/// </summary>
public sealed record ScriptGitSettings(string GitUrl, string? Branch, string? Folder, string? Username, string? Credential);

/// <summary>The library's new settings were saved; <see cref="Synced"/> is the first sync, or <see cref="SyncError"/> why it
/// failed (the settings stay, so the repository can be fixed and synced again).</summary>
public sealed record ScriptLibraryConfigured(ScriptSyncResult? Synced, string? SyncError);

/// <summary>What a sync did: the commit it read, each change in words (<c>deploy-s3: version 4 (abc1234)</c>), and files
/// it could not take (with the reason).</summary>
public sealed record ScriptSyncResult(string Commit, IReadOnlyList<string> Changes, IReadOnlyList<string> Skipped);

/// <summary>
/// Git-backed script library: the <c>*.sh</c> files of a folder of a git repository are the scripts (name = file name
/// without <c>.sh</c>), and each commit that changed a file is a version of it, numbered in commit order and recorded
/// with its sha. Numbers are never reused, so a version already recorded keeps its number even if the repository's
/// history is rewritten later (new commits get the next numbers). A file that left the folder deletes its script
/// (its versions stay for the builds that ran them). Syncs run on demand and from the webhook, one at a time, over a
/// bare mirror kept by <see cref="GitMirror"/> with real git.
/// </summary>
public sealed class ScriptGitSync(ScriptStore store, GitMirror git, IDataProtectionProvider protection, AuditLog audit, TimeProvider time,
    ILogger<ScriptGitSync> logger)
{
    private const string MirrorName = "script-library";
    private readonly IDataProtector _protector = protection.CreateProtector("Kaizen.Scripts.GitLibrary.v1");
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>
    /// Makes the library git-backed (or changes its repository) as <paramref name="user"/> and syncs it once. A null
    /// credential keeps the one saved before for the same URL. Fails (<see cref="Problem.Invalid"/>, nothing saved) for
    /// settings that cannot work; otherwise the settings are saved and the first sync's result or error returned.
    /// </summary>
    public async Task<Outcome<ScriptLibraryConfigured>> ConfigureAsync(ScriptGitSettings settings, string user, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrEmpty(user);
        var url = GitMirror.NormalizeUrl(settings.GitUrl);
        if (!url.Ok) return Outcome<ScriptLibraryConfigured>.Fail(Problem.Invalid, url.Error!);
        var folder = NormalizeFolder(settings.Folder, out var folderProblem);
        if (folder is null) return Outcome<ScriptLibraryConfigured>.Fail(Problem.Invalid, folderProblem!);
        var branch = string.IsNullOrWhiteSpace(settings.Branch) ? null : settings.Branch.Trim();
        if (branch is not null && (branch.StartsWith('-') || branch.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '~' or '^' or ':' or '\\')))
            return Outcome<ScriptLibraryConfigured>.Fail(Problem.Invalid, $"'{branch}' is not a branch name.");

        var current = await store.LibraryAsync(ct);
        var credential = settings.Credential is { Length: > 0 } given
            ? _protector.Protect(given)
            : current is not null && current.GitUrl == url.Value ? current.GitCredential : null;
        await store.SetLibraryAsync(new LibraryRow
        {
            GitUrl = url.Value!,
            GitBranch = branch,
            GitFolder = folder,
            GitUsername = string.IsNullOrWhiteSpace(settings.Username) ? null : settings.Username.Trim(),
            GitCredential = credential,
            // The webhook secret survives changes of the repository: the git host's webhook keeps working.
            WebhookSecret = current?.WebhookSecret ?? _protector.Protect(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))),
            UpdatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
            UpdatedBy = user,
        }, ct);
        await audit.RecordAsync(user, ScriptAuditActions.LibraryChanged, ScriptAuditActions.LibraryTarget,
            $"git-backed from {url.Value} ({(branch ?? "default branch")}, folder '{folder}')", ct);
        var synced = await SyncAsync(user, ct);
        return Outcome<ScriptLibraryConfigured>.Of(new ScriptLibraryConfigured(synced.Value, synced.Message));
    }

    /// <summary>Returns the library to scripts managed in the portal (they stay as the last sync left them).</summary>
    public async Task DisableAsync(string user, CancellationToken ct = default)
    {
        await store.ClearLibraryAsync(ct);
        await audit.RecordAsync(user, ScriptAuditActions.LibraryChanged, ScriptAuditActions.LibraryTarget, "managed in the portal", ct);
    }

    /// <summary>The secret the git host's webhook is configured with (admins only), or null when not git-backed.</summary>
    public async Task<string?> WebhookSecretAsync(CancellationToken ct = default) =>
        await store.LibraryAsync(ct) is { } row ? _protector.Unprotect(row.WebhookSecret) : null;

    /// <summary>
    /// Whether a webhook delivery is from the configured git host: a GitHub-style <c>X-Hub-Signature-256</c> (HMAC
    /// SHA-256 of the body) or a GitLab-style <c>X-Gitlab-Token</c> equal to the secret.
    /// </summary>
    public async Task<bool> VerifyWebhookAsync(byte[] body, string? signature, string? token, CancellationToken ct = default)
    {
        var secret = await WebhookSecretAsync(ct);
        if (secret is null) return false;
        if (!string.IsNullOrEmpty(signature)) return GitHub.GithubWebhook.SignatureMatches(secret, body, signature);
        return !string.IsNullOrEmpty(token)
               && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(token));
    }

    /// <summary>
    /// Fetches the repository and records the new commits of every <c>*.sh</c> file of the folder as versions; deletes
    /// scripts whose file is gone. <see cref="Problem.Conflict"/> when the library is not git-backed; a git failure is
    /// <see cref="Problem.Invalid"/> with git's words, and is shown with the library until a sync works.
    /// </summary>
    public async Task<Outcome<ScriptSyncResult>> SyncAsync(string user, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        await _gate.WaitAsync(ct);
        try
        {
            var library = await store.LibraryAsync(ct);
            if (library is null)
                return Outcome<ScriptSyncResult>.Fail(Problem.Conflict, "The script library is managed in the portal, not in git: there is nothing to sync.");
            var result = await ReadRepositoryAsync(library, ct);
            if (!result.Ok)
            {
                await store.SetSyncStatusAsync(null, result.Message, ct);
                logger.LogWarning("Script library sync failed: {Error}", result.Message);
                return result;
            }
            var synced = result.Value!;
            await store.SetSyncStatusAsync(synced.Commit, null, ct);
            await audit.RecordAsync(user, ScriptAuditActions.Synced, ScriptAuditActions.LibraryTarget,
                $"commit {synced.Commit[..Math.Min(12, synced.Commit.Length)]}: " +
                (synced.Changes.Count == 0 ? "no changes" : string.Join("; ", synced.Changes.Take(20))), ct);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Outcome<ScriptSyncResult>> ReadRepositoryAsync(LibraryRow library, CancellationToken ct)
    {
        var mirror = await git.MirrorAsync(MirrorName, library.GitUrl, Credentials(library), ct);
        if (!mirror.Ok) return Outcome<ScriptSyncResult>.Fail(Problem.Invalid, mirror.Error!);
        var path = mirror.Value!;
        var reference = library.GitBranch is { } branch ? $"refs/heads/{branch}" : "HEAD";
        var head = await git.ReadAsync(path, ct, "rev-parse", "--verify", "--quiet", reference + "^{commit}");
        if (!head.Ok || string.IsNullOrWhiteSpace(head.Value))
            return Outcome<ScriptSyncResult>.Fail(Problem.Invalid, library.GitBranch is { } b
                ? $"The repository {library.GitUrl} has no branch '{b}'."
                : $"The repository {library.GitUrl} has no commits yet.");
        var commit = head.Value.Trim();

        var folder = library.GitFolder;
        if (folder.Length > 0)
        {
            // A mistyped folder must not read as "every script was removed".
            var tree = await git.ReadAsync(path, ct, "ls-tree", commit, "--", folder);
            if (!tree.Ok || !tree.Value!.Contains(" tree ", StringComparison.Ordinal))
                return Outcome<ScriptSyncResult>.Fail(Problem.Invalid,
                    $"The repository {library.GitUrl} has no folder '{folder}' at {commit[..Math.Min(12, commit.Length)]}.");
        }
        var listed = await git.ReadAsync(path, ct, folder.Length == 0
            ? ["ls-tree", "-z", "--name-only", commit]
            : ["ls-tree", "-z", "--name-only", commit, "--", folder + "/"]);
        if (!listed.Ok) return Outcome<ScriptSyncResult>.Fail(Problem.Invalid, $"Could not list {library.GitUrl}: {listed.Error}");
        var files = listed.Value!.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => f.EndsWith(".sh", StringComparison.Ordinal))
            .ToList();

        var changes = new List<string>();
        var skipped = new List<string>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var name = Path.GetFileName(file)[..^3];
            if (ScriptReference.NameProblem(name) is { } problem)
            {
                skipped.Add($"{file}: {problem}");
                continue;
            }
            present.Add(name);
            await ReadFileAsync(path, commit, file, name, changes, skipped, ct);
            // A file that came back (or a folder fixed after a mistake) brings its script back with the versions it had.
            if (await store.RestoreAsync(name, ct)) changes.Add($"{name}: restored");
        }

        foreach (var script in await store.ListAsync(ct))
        {
            if (present.Contains(script.Name)) continue;
            await store.DeleteAsync(script.Name, AuditLog.System, ct);
            changes.Add($"{script.Name}: removed (no {(folder.Length == 0 ? "" : folder + "/")}{script.Name}.sh any more)");
        }
        return Outcome<ScriptSyncResult>.Of(new ScriptSyncResult(commit, changes, skipped));
    }

    /// <summary>Records the commits of one file not recorded yet, oldest first.</summary>
    private async Task ReadFileAsync(string mirror, string commit, string file, string name, List<string> changes, List<string> skipped,
        CancellationToken ct)
    {
        var log = await git.ReadAsync(mirror, ct, "log", "--reverse", "--format=%H%x1f%an%x1f%s%x1e", commit, "--", file);
        if (!log.Ok)
        {
            skipped.Add($"{file}: {log.Error}");
            return;
        }
        var known = await store.CommitsAsync(name, ct);
        foreach (var entry in log.Value!.Split('\x1e', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = entry.Split('\x1f');
            if (fields.Length < 3 || known.Contains(fields[0])) continue;
            var (sha, author) = (fields[0], fields[1]);
            var shown = await git.ReadAsync(mirror, ct, "show", $"{sha}:{file}");
            if (!shown.Ok) continue; // the commit removed the file
            var body = ScriptLibrary.Check(name, shown.Value, null, out var problem);
            if (body is null)
            {
                skipped.Add($"{file} at {sha[..7]}: {problem}");
                continue;
            }
            var saved = await store.SaveAsync(name, body, Description(body), author.Length > 0 ? author : AuditLog.System, sha, ct);
            if (saved.Changed) changes.Add($"{name}: version {saved.Version} ({sha[..7]})");
        }
    }

    /// <summary>A script's description in a repository: the comment block at its top (after a shebang).</summary>
    internal static string Description(string body)
    {
        var lines = new List<string>();
        foreach (var line in body.Split('\n'))
        {
            var text = line.Trim();
            if (text.StartsWith("#!", StringComparison.Ordinal) && lines.Count == 0) continue;
            if (!text.StartsWith('#')) break;
            var comment = text.TrimStart('#').Trim();
            if (comment.Length > 0) lines.Add(comment);
        }
        var description = string.Join(' ', lines);
        return description.Length <= ScriptLibrary.MaxDescriptionLength ? description : description[..ScriptLibrary.MaxDescriptionLength];
    }

    /// <summary>HTTP basic credentials for git as configuration in the environment: never on a command line or on disk.</summary>
    private Dictionary<string, string?>? Credentials(LibraryRow library)
    {
        if (library.GitCredential is null) return null;
        var secret = _protector.Unprotect(library.GitCredential);
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{library.GitUsername ?? "git"}:{secret}"));
        return new Dictionary<string, string?>
        {
            ["GIT_CONFIG_COUNT"] = "1",
            ["GIT_CONFIG_KEY_0"] = "http.extraHeader",
            ["GIT_CONFIG_VALUE_0"] = $"Authorization: Basic {basic}",
        };
    }

    private static string? NormalizeFolder(string? folder, out string? problem)
    {
        problem = null;
        var value = (folder ?? "").Trim().Replace('\\', '/').Trim('/');
        if (value is "." ) value = "";
        if (value.Split('/').Any(part => part is ".." || (value.Length > 0 && part.Length == 0)) || value.Any(char.IsControl) || value.StartsWith('-'))
        {
            problem = $"'{folder}' is not a folder of the repository (use a relative path such as scripts or ci/scripts).";
            return null;
        }
        return value;
    }
}
