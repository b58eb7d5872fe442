using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Auth;

public sealed class UserRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string PasswordHash { get; init; } = "";
    public string Role { get; init; } = "";
}

public static class Roles
{
    public const string Admin = "admin";
    public const string Member = "member";
    public const string Viewer = "viewer";
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

    public async Task AddTokenAsync(long userId, string name, string tokenHash, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(UserSql.InsertToken, new
        {
            UserId = userId, Name = name, TokenHash = tokenHash, Now = time.GetUtcNow().ToUnixTimeMilliseconds(),
        });
    }

    public async Task<UserRow?> FindByTokenHashAsync(string tokenHash, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<UserRow>(UserSql.ByToken, new { TokenHash = tokenHash });
    }
}

internal static class UserSql
{
    private const string Columns = "u.id, u.name, u.password_hash AS PasswordHash, u.role";

    public const string Count = "SELECT COUNT(*) FROM users";

    public static readonly SqlText Insert = new(
        "INSERT INTO users (name, password_hash, role, created_at) VALUES (@Name, @PasswordHash, @Role, @Now) RETURNING id",
        "INSERT INTO users (name, password_hash, role, created_at) OUTPUT INSERTED.id VALUES (@Name, @PasswordHash, @Role, @Now)");

    public const string ByName = "SELECT " + Columns + " FROM users u WHERE u.name = @Name";
    public const string All = "SELECT " + Columns + " FROM users u ORDER BY u.name";
    public const string UpdatePassword = "UPDATE users SET password_hash = @PasswordHash WHERE id = @Id";

    public const string InsertToken =
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (@UserId, @Name, @TokenHash, @Now)";

    public const string ByToken =
        "SELECT " + Columns + " FROM users u JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = @TokenHash";
}
