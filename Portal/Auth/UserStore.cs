using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Auth;

public sealed class UserRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string PasswordHash { get; init; } = "";
    public string Role { get; init; } = "";
    public long CreatedAt { get; init; }

    /// <summary>The GitHub account (its numeric id) the user linked from their own session, or an admin set; or null.</summary>
    public long? GithubId { get; init; }

    /// <summary>An empty hash never verifies: such a user signs in with an API token (or GitHub) only.</summary>
    public bool HasPassword => PasswordHash.Length > 0;
}

/// <summary>A personal API token as its owner sees it: never the token itself, which only exists as a hash.</summary>
public sealed record ApiTokenRow(long Id, string Name, long CreatedAt, long? LastUsedAt);

/// <summary>The owner of a presented API token, with what is needed to record its use.</summary>
public sealed record TokenOwner(UserRow User, long TokenId, long? LastUsedAt);

public static class Roles
{
    public const string Admin = "admin";
    public const string Member = "member";
    public const string Viewer = "viewer";

    public static readonly IReadOnlyList<string> All = [Admin, Member, Viewer];
}

public sealed class UserStore(Database db, TimeProvider time)
{
    public async Task<long> CountAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(UserSql.Count);
    }

    public async Task<long> CreateAsync(string name, string passwordHash, string role, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(db.Sql(UserSql.Insert),
            new { Name = name, PasswordHash = passwordHash, Role = role, Now = time.GetUtcNow().ToUnixTimeMilliseconds() });
    }

    public async Task<UserRow?> FindByNameAsync(string name, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<UserRow>(UserSql.ByName, new { Name = name });
    }

    public async Task<UserRow?> FindByIdAsync(long id, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<UserRow>(UserSql.ById, new { Id = id });
    }

    public async Task<IReadOnlyList<UserRow>> ListAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<UserRow>(UserSql.All)).AsList();
    }

    public async Task UpdatePasswordAsync(long id, string passwordHash, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(UserSql.UpdatePassword, new { Id = id, PasswordHash = passwordHash });
    }

    /// <summary>
    /// Gives the user <paramref name="role"/> unless that would leave no admin; false when it would (or the user is
    /// gone). The check is part of the statement, so two admins demoting each other at once cannot both succeed.
    /// </summary>
    public async Task<bool> UpdateRoleAsync(long id, string role, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(UserSql.UpdateRole, new { Id = id, Role = role, Admin = Roles.Admin }) == 1;
    }

    /// <summary>Removes the user and their API tokens unless they are the last admin; false when nothing was removed.</summary>
    public async Task<bool> DeleteAsync(long id, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(UserSql.DeleteTokensOfUser, new { Id = id }, tx);
        var removed = await c.ExecuteAsync(UserSql.Delete, new { Id = id, Admin = Roles.Admin }, tx) == 1;
        if (removed) await tx.CommitAsync(ct);
        else await tx.RollbackAsync(ct);
        return removed;
    }

    /// <summary>The user a GitHub account (by its numeric id, which a rename on GitHub does not change) is linked to.</summary>
    public async Task<UserRow?> FindByGithubIdAsync(long githubId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<UserRow>(UserSql.ByGithubId, new { GithubId = githubId });
    }

    /// <summary>
    /// Links the GitHub account <paramref name="githubId"/> to the user (replacing any other), or unlinks with null;
    /// false when that account is linked to another user (the check is part of the statement) or the user is gone.
    /// </summary>
    public async Task<bool> SetGithubAsync(long id, long? githubId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return githubId is null
            ? await c.ExecuteAsync(UserSql.UnlinkGithub, new { Id = id }) == 1
            : await c.ExecuteAsync(UserSql.LinkGithub, new { Id = id, GithubId = githubId.Value }) == 1;
    }

    /// <summary>Stores a new API token's hash; returns the token's id.</summary>
    public async Task<long> AddTokenAsync(long userId, string name, string tokenHash, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(db.Sql(UserSql.InsertToken), new
        {
            UserId = userId, Name = name, TokenHash = tokenHash, Now = time.GetUtcNow().ToUnixTimeMilliseconds(),
        });
    }

    public async Task<UserRow?> FindByTokenHashAsync(string tokenHash, CancellationToken ct = default) =>
        (await FindTokenAsync(tokenHash, ct))?.User;

    public async Task<TokenOwner?> FindTokenAsync(string tokenHash, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<TokenOwnerRow>(UserSql.ByToken, new { TokenHash = tokenHash });
        return row is null ? null : new TokenOwner(
            new UserRow { Id = row.Id, Name = row.Name, PasswordHash = row.PasswordHash, Role = row.Role, CreatedAt = row.CreatedAt, GithubId = row.GithubId },
            row.TokenId, row.LastUsedAt);
    }

    public async Task<IReadOnlyList<ApiTokenRow>> TokensAsync(long userId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ApiTokenRow>(UserSql.TokensOfUser, new { UserId = userId })).AsList();
    }

    /// <summary>Deletes the user's token and returns it; null when they have no token with that id (it may be someone else's).</summary>
    public async Task<ApiTokenRow?> DeleteTokenAsync(long userId, long tokenId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var token = await c.QuerySingleOrDefaultAsync<ApiTokenRow>(UserSql.TokenOfUser, new { UserId = userId, Id = tokenId });
        if (token is null) return null;
        return await c.ExecuteAsync(UserSql.DeleteToken, new { UserId = userId, Id = tokenId }) == 1 ? token : null;
    }

    /// <summary>Records that a token was last used at <paramref name="at"/> (Unix ms), unless a later use is recorded.</summary>
    public async Task TouchTokenAsync(long tokenId, long at, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(UserSql.TouchToken, new { Id = tokenId, At = at }, cancellationToken: ct));
    }

    private sealed class TokenOwnerRow
    {
        public long Id { get; init; }
        public string Name { get; init; } = "";
        public string PasswordHash { get; init; } = "";
        public string Role { get; init; } = "";
        public long CreatedAt { get; init; }
        public long? GithubId { get; init; }
        public long TokenId { get; init; }
        public long? LastUsedAt { get; init; }
    }
}

internal static class UserSql
{
    private const string Columns =
        "u.id, u.name, u.password_hash AS PasswordHash, u.role, u.created_at AS CreatedAt, u.github_id AS GithubId";

    private const string TokenColumns = "t.id, t.name, t.created_at AS CreatedAt, t.last_used_at AS LastUsedAt";

    // True when the user with @Id is not the only admin.
    private const string AnotherAdmin = "(SELECT COUNT(*) FROM users o WHERE o.role = @Admin AND o.id <> @Id) > 0";

    public const string Count = "SELECT COUNT(*) FROM users";

    public static readonly SqlText Insert = new(
        "INSERT INTO users (name, password_hash, role, created_at) VALUES (@Name, @PasswordHash, @Role, @Now) RETURNING id",
        "INSERT INTO users (name, password_hash, role, created_at) OUTPUT INSERTED.id VALUES (@Name, @PasswordHash, @Role, @Now)");

    public const string ByName = "SELECT " + Columns + " FROM users u WHERE u.name = @Name";
    public const string ById = "SELECT " + Columns + " FROM users u WHERE u.id = @Id";
    public const string All = "SELECT " + Columns + " FROM users u ORDER BY u.name";
    public const string UpdatePassword = "UPDATE users SET password_hash = @PasswordHash WHERE id = @Id";

    public const string UpdateRole =
        "UPDATE users SET role = @Role WHERE id = @Id AND (role <> @Admin OR @Role = @Admin OR " + AnotherAdmin + ")";

    public const string Delete = "DELETE FROM users WHERE id = @Id AND (role <> @Admin OR " + AnotherAdmin + ")";
    public const string DeleteTokensOfUser = "DELETE FROM api_tokens WHERE user_id = @Id";
    public const string ByGithubId = "SELECT " + Columns + " FROM users u WHERE u.github_id = @GithubId";

    public const string LinkGithub =
        "UPDATE users SET github_id = @GithubId WHERE id = @Id AND NOT EXISTS (SELECT 1 FROM users o WHERE o.github_id = @GithubId AND o.id <> @Id)";

    public const string UnlinkGithub = "UPDATE users SET github_id = NULL WHERE id = @Id";

    public static readonly SqlText InsertToken = new(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (@UserId, @Name, @TokenHash, @Now) RETURNING id",
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) OUTPUT INSERTED.id VALUES (@UserId, @Name, @TokenHash, @Now)");

    public const string ByToken =
        "SELECT " + Columns + ", t.id AS TokenId, t.last_used_at AS LastUsedAt FROM users u JOIN api_tokens t ON t.user_id = u.id " +
        "WHERE t.token_hash = @TokenHash";

    public const string TokensOfUser = "SELECT " + TokenColumns + " FROM api_tokens t WHERE t.user_id = @UserId ORDER BY t.created_at, t.id";
    public const string TokenOfUser = "SELECT " + TokenColumns + " FROM api_tokens t WHERE t.user_id = @UserId AND t.id = @Id";
    public const string DeleteToken = "DELETE FROM api_tokens WHERE user_id = @UserId AND id = @Id";

    public const string TouchToken =
        "UPDATE api_tokens SET last_used_at = @At WHERE id = @Id AND (last_used_at IS NULL OR last_used_at < @At)";
}
