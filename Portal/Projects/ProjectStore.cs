using System.Text.Json;
using Dapper;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Projects;

public sealed class ProjectRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string Slug { get; init; } = "";
    public string GitUrl { get; init; } = "";
    public string DefaultBranch { get; init; } = "";
    public bool IsPublic { get; init; }
    public string SettingsJson { get; init; } = "{}";
    public long CreatedAt { get; init; }

    /// <summary>Shows a private project's badges to whoever has a URL with it; null: none made yet.</summary>
    public string? BadgeToken { get; init; }

    /// <summary>The GitHub repository ("owner/name") webhooks and commit statuses are matched by; null when none.</summary>
    public string? GithubRepository { get; init; }

    public string ForkSecretsJson { get; init; } = "[]";

    /// <summary>Which fork pull request builds wait for approval: one of <see cref="Projects.ForkApproval.Modes"/>.</summary>
    public string ForkApproval { get; init; } = Projects.ForkApproval.Always;

    public BuildSettings Settings => ProjectStore.ParseSettings(SettingsJson);

    /// <summary>Names of the secrets builds of pull requests from forks may receive (none by default).</summary>
    public IReadOnlyList<string> ForkSecrets => ParseForkSecrets(ForkSecretsJson);

    /// <summary>The names stored in a project's <c>fork_secrets</c> column (a JSON array).</summary>
    public static IReadOnlyList<string> ParseForkSecrets(string json) => JsonSerializer.Deserialize<List<string>>(json) ?? [];
}

public sealed class BranchRow
{
    public string Name { get; init; } = "";
    public string HeadSha { get; init; } = "";
    public string HeadMessage { get; init; } = "";
    public string HeadAuthor { get; init; } = "";
    public long UpdatedAt { get; init; }
}

public sealed class ProjectStore(Database db, TimeProvider time)
{
    private static readonly JsonSerializerOptions SettingsJson = new(JsonSerializerDefaults.Web);

    public static BuildSettings ParseSettings(string json)
    {
        var parsed = JsonSerializer.Deserialize<BuildSettings>(json, SettingsJson);
        return parsed is null ? BuildSettings.Empty
            : parsed with { Setup = parsed.Setup ?? [], Jobs = parsed.Jobs ?? [], Epilogue = parsed.Epilogue ?? [] };
    }

    public async Task<long> CreateAsync(string name, string slug, string gitUrl, string defaultBranch, bool isPublic,
        CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(db.Sql(ProjectSql.Insert), new
        {
            Name = name,
            Slug = slug,
            GitUrl = gitUrl,
            DefaultBranch = defaultBranch,
            IsPublic = isPublic,
            SettingsJson = JsonSerializer.Serialize(BuildSettings.Empty, SettingsJson),
            CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
        });
    }

    public async Task<bool> SlugExistsAsync(string slug, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(ProjectSql.CountSlug, new { Slug = slug }) > 0;
    }

    public async Task<ProjectRow?> FindBySlugAsync(string slug, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ProjectRow>(ProjectSql.BySlug, new { Slug = slug });
    }

    public async Task<IReadOnlyList<ProjectRow>> ListAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ProjectRow>(ProjectSql.All)).AsList();
    }

    public async Task SaveSettingsAsync(long projectId, BuildSettings settings, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.UpdateSettings,
            new { Id = projectId, SettingsJson = JsonSerializer.Serialize(settings, SettingsJson) });
    }

    public async Task SetPublicAsync(long projectId, bool isPublic, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.SetPublic, new { Id = projectId, IsPublic = isPublic });
    }

    public async Task RenameAsync(long projectId, string name, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.Rename, new { Id = projectId, Name = name });
    }

    /// <summary>Points the project at another repository, whose default branch is <paramref name="defaultBranch"/>.</summary>
    public async Task SetGitUrlAsync(long projectId, string gitUrl, string defaultBranch, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.SetGitUrl, new { Id = projectId, GitUrl = gitUrl, DefaultBranch = defaultBranch });
    }

    public async Task SetBadgeTokenAsync(long projectId, string? token, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.SetBadgeToken, new { Id = projectId, Token = token });
    }

    public async Task SetGithubRepositoryAsync(long projectId, string? repository, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.SetGithubRepository, new { Id = projectId, Repository = repository });
    }

    public async Task SetForkSecretsAsync(long projectId, IReadOnlyList<string> names, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.SetForkSecrets, new { Id = projectId, Json = JsonSerializer.Serialize(names) });
    }

    public async Task SetForkApprovalAsync(long projectId, string mode, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.SetForkApproval, new { Id = projectId, Mode = mode });
    }

    /// <summary>The webhook secret's ciphertext (see WebhookSecrets), or null when none was made.</summary>
    public async Task<string?> WebhookSecretAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<string?>(ProjectSql.WebhookSecret, new { Id = projectId });
    }

    public async Task SetWebhookSecretAsync(long projectId, string? ciphertext, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.SetWebhookSecret, new { Id = projectId, Secret = ciphertext });
    }

    /// <summary>Projects built from the GitHub repository <paramref name="repository"/> ("owner/name").</summary>
    public async Task<IReadOnlyList<ProjectRow>> FindByGithubRepositoryAsync(string repository, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ProjectRow>(ProjectSql.ByGithubRepository, new { Repository = repository })).AsList();
    }

    public async Task<IReadOnlyList<BranchRow>> BranchesAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<BranchRow>(ProjectSql.Branches, new { ProjectId = projectId })).AsList();
    }

    /// <summary>Records that the repository still has <paramref name="branch"/> at <paramref name="sha"/> at
    /// <paramref name="at"/> (ms): the stored head's age is how long ago the repository was last asked.</summary>
    public async Task ConfirmBranchAsync(long projectId, string branch, string sha, long at, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ProjectSql.ConfirmBranch, new { ProjectId = projectId, Name = branch, HeadSha = sha, At = at });
    }

    /// <summary>Replaces the known branches of a project with what its repository has now.</summary>
    public async Task ReplaceBranchesAsync(long projectId, IEnumerable<BranchRow> branches, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(ProjectSql.DeleteBranches, new { ProjectId = projectId }, tx);
        await c.ExecuteAsync(ProjectSql.InsertBranch, branches.Select(b => new
        {
            ProjectId = projectId, b.Name, b.HeadSha, b.HeadMessage, b.HeadAuthor, b.UpdatedAt,
        }), tx);
        await tx.CommitAsync(ct);
    }
}

internal static class ProjectSql
{
    private const string Columns =
        "id, name, slug, git_url AS GitUrl, default_branch AS DefaultBranch, is_public AS IsPublic, " +
        "settings_json AS SettingsJson, created_at AS CreatedAt, badge_token AS BadgeToken, " +
        "github_repository AS GithubRepository, fork_secrets AS ForkSecretsJson, fork_approval AS ForkApproval";

    public static readonly SqlText Insert = new(
        "INSERT INTO projects (name, slug, git_url, default_branch, is_public, settings_json, created_at) " +
        "VALUES (@Name, @Slug, @GitUrl, @DefaultBranch, @IsPublic, @SettingsJson, @CreatedAt) RETURNING id",
        "INSERT INTO projects (name, slug, git_url, default_branch, is_public, settings_json, created_at) " +
        "OUTPUT INSERTED.id VALUES (@Name, @Slug, @GitUrl, @DefaultBranch, @IsPublic, @SettingsJson, @CreatedAt)");

    public const string CountSlug = "SELECT COUNT(*) FROM projects WHERE slug = @Slug";
    public const string BySlug = "SELECT " + Columns + " FROM projects WHERE slug = @Slug";
    public const string All = "SELECT " + Columns + " FROM projects ORDER BY name";
    public const string UpdateSettings = "UPDATE projects SET settings_json = @SettingsJson WHERE id = @Id";
    public const string SetPublic = "UPDATE projects SET is_public = @IsPublic WHERE id = @Id";
    public const string Rename = "UPDATE projects SET name = @Name WHERE id = @Id";
    public const string SetGitUrl = "UPDATE projects SET git_url = @GitUrl, default_branch = @DefaultBranch WHERE id = @Id";
    public const string SetBadgeToken = "UPDATE projects SET badge_token = @Token WHERE id = @Id";
    public const string SetGithubRepository = "UPDATE projects SET github_repository = @Repository WHERE id = @Id";
    public const string SetForkSecrets = "UPDATE projects SET fork_secrets = @Json WHERE id = @Id";
    public const string SetForkApproval = "UPDATE projects SET fork_approval = @Mode WHERE id = @Id";
    public const string SetWebhookSecret = "UPDATE projects SET webhook_secret = @Secret WHERE id = @Id";
    public const string WebhookSecret = "SELECT webhook_secret FROM projects WHERE id = @Id";
    public const string ByGithubRepository = "SELECT " + Columns + " FROM projects WHERE LOWER(github_repository) = LOWER(@Repository) ORDER BY id";

    public const string Branches =
        "SELECT name, head_sha AS HeadSha, head_message AS HeadMessage, head_author AS HeadAuthor, updated_at AS UpdatedAt " +
        "FROM branches WHERE project_id = @ProjectId ORDER BY name";

    public const string ConfirmBranch =
        "UPDATE branches SET updated_at = @At WHERE project_id = @ProjectId AND name = @Name AND head_sha = @HeadSha AND updated_at < @At";

    public const string DeleteBranches = "DELETE FROM branches WHERE project_id = @ProjectId";

    public const string InsertBranch =
        "INSERT INTO branches (project_id, name, head_sha, head_message, head_author, updated_at) " +
        "VALUES (@ProjectId, @Name, @HeadSha, @HeadMessage, @HeadAuthor, @UpdatedAt)";
}
