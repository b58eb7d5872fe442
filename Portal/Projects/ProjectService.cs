using System.Security.Claims;
using System.Text;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Git;
using Kaizen.Runner.Checkout;

namespace Kaizen.Portal.Projects;

public sealed record CreatedProject(long Id, string Slug, string DefaultBranch, IReadOnlyList<BranchRow> Branches);

/// <summary>Creating projects and reading their branches. Every project, made in the browser or through the API, is
/// created here, so each one is in the audit log.</summary>
public sealed class ProjectService(ProjectStore store, GitMirror git, GitUrlPolicy urls, AuditLog audit, TimeProvider time, LiveUpdates live)
{
    /// <summary>Creates a project for <paramref name="user"/>. Only admins may make it public (it shows its builds and
    /// logs to the world) or build it from the portal's own machine; see <see cref="GitUrlPolicy"/>.</summary>
    public async Task<Outcome<CreatedProject>> CreateAsync(string? name, string? gitUrl, bool isPublic, ClaimsPrincipal user, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(user);
        name = name?.Trim();
        if (NameError(name) is { } nameProblem) return Outcome<CreatedProject>.Fail(Problem.Invalid, nameProblem);
        var admin = user.IsInRole(Roles.Admin);
        if (isPublic && !admin)
            return Outcome<CreatedProject>.Fail(Problem.Forbidden, "Only admins make a project public; create it private and ask an admin to open it.");
        var repository = await CheckRepositoryAsync(gitUrl, user, ct);
        if (!repository.Ok) return Outcome<CreatedProject>.Fail(repository.Problem!.Value, repository.Message!);
        var (url, defaultBranch) = repository.Value!;

        var slug = await UniqueSlugAsync(name!, ct);
        var id = await store.CreateAsync(name!, slug, url, defaultBranch, isPublic, ct);
        if (GitHub.GithubRepositoryName.FromUrl(url) is { } github) await store.SetGithubRepositoryAsync(id, github, ct);
        // The address as the audit log may show it: credentials in it are a secret.
        await audit.RecordAsync(user, AuditActions.ProjectCreated, Secrets.VariableChanges.ProjectTarget(slug),
            $"{(isPublic ? "public" : "private")}, {GitUrlCredentials.Hide(url)}, default branch {defaultBranch}", ct);
        var branches = await RefreshBranchesAsync(id, url, ct);
        live.Publish(LiveUpdates.Keys.Dashboard);
        return Outcome<CreatedProject>.Of(new CreatedProject(id, slug, defaultBranch, branches.Value ?? []));
    }

    /// <summary>The longest project name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Why <paramref name="name"/> (trimmed) cannot be a project's name, or null when it can.</summary>
    public static string? NameError(string? name)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name)) return "name is required.";
        if (name.Length > MaxNameLength) return $"name must be {MaxNameLength} characters or fewer.";
        return Text.DisplayNames.Problem(name, "A project name");
    }

    /// <summary>
    /// Checks that <paramref name="gitUrl"/> is an address <paramref name="user"/> may build from (see
    /// <see cref="GitUrlPolicy"/>) and that a git repository with branches answers there; the address in canonical form
    /// and the repository's default branch.
    /// </summary>
    public async Task<Outcome<(string Url, string DefaultBranch)>> CheckRepositoryAsync(string? gitUrl, ClaimsPrincipal user, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(user);
        var admin = user.IsInRole(Roles.Admin);
        var url = GitMirror.NormalizeUrl(gitUrl);
        if (!url.Ok) return Outcome<(string, string)>.Fail(Problem.Invalid, url.Error!);
        if (await urls.CheckAsync(url.Value!, admin ? GitUrlRequester.Admin : GitUrlRequester.Member, ct) is { } refused)
            return Outcome<(string, string)>.Fail(Problem.Invalid, refused);

        var probe = await git.ProbeAsync(url.Value!, ct);
        // Git's own words (and what the remote answered) are for admins: to anyone else they would turn the portal into a
        // probe that reports what answers where on its network.
        if (!probe.Ok)
            return Outcome<(string, string)>.Fail(Problem.Invalid, admin
                ? GitUrlCredentials.Hide(probe.Error!)
                : $"Could not read a git repository at {GitUrlCredentials.Hide(url.Value!)}: check the address, and that the repository " +
                  "exists and the portal may read it (a public repository, or credentials in the address).");
        return Outcome<(string, string)>.Of((url.Value!, probe.Value.DefaultBranch));
    }

    /// <summary>Fetches the repository into the portal's mirror and stores its branch heads.</summary>
    public async Task<Outcome<IReadOnlyList<BranchRow>>> RefreshBranchesAsync(long projectId, string gitUrl, CancellationToken ct)
    {
        var sync = await git.SyncAsync(projectId, gitUrl, ct);
        if (!sync.Ok) return Outcome<IReadOnlyList<BranchRow>>.Fail(Problem.Invalid, sync.Error!);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = sync.Value!.Select(b => new BranchRow
        {
            Name = b.Name, HeadSha = b.Sha, HeadMessage = b.Message, HeadAuthor = b.Author, UpdatedAt = now,
        }).ToList();
        await store.ReplaceBranchesAsync(projectId, rows, ct);
        live.Publish(LiveUpdates.Keys.Project(projectId));
        return Outcome<IReadOnlyList<BranchRow>>.Of(rows);
    }

    public static string Slugify(string name)
    {
        var sb = new StringBuilder();
        foreach (var ch in name.Normalize(NormalizationForm.FormKD).ToLowerInvariant())
        {
            if (ch is >= 'a' and <= 'z' or >= '0' and <= '9') sb.Append(ch);
            else if (sb.Length > 0 && sb[^1] != '-' && (char.IsWhiteSpace(ch) || char.IsPunctuation(ch) || char.IsSymbol(ch))) sb.Append('-');
        }
        var slug = sb.ToString().Trim('-');
        if (slug.Length > 60) slug = slug[..60].Trim('-');
        return slug.Length == 0 ? "project" : slug;
    }

    private async Task<string> UniqueSlugAsync(string name, CancellationToken ct)
    {
        var baseSlug = Slugify(name);
        var slug = baseSlug;
        for (var n = 2; await store.SlugExistsAsync(slug, ct); n++) slug = $"{baseSlug}-{n}";
        return slug;
    }
}
