using System.Security.Cryptography;
using Dapper;
using Kaizen.Portal.Data;
using Microsoft.AspNetCore.DataProtection;

namespace Kaizen.Portal.Secrets;

/// <summary>A plain variable: its value is readable by anyone who may read the scope.</summary>
public sealed record VariableInfo(
    VariableScope Scope, string Name, string Value, long CreatedAt, string CreatedBy, long UpdatedAt, string UpdatedBy);

/// <summary>What may be shown of a secret: everything but its value, which nothing returns once saved.</summary>
public sealed record SecretInfo(
    VariableScope Scope, string Name, string? FilePath, long CreatedAt, string CreatedBy, long UpdatedAt, string UpdatedBy)
{
    /// <summary><c>env</c> (an environment variable) or <c>file</c> (written to <see cref="FilePath"/> in the job).</summary>
    public string Kind => FilePath is null ? "env" : "file";
}

public enum SaveResult
{
    Created,
    Replaced,

    /// <summary>The name is taken in that scope by the other kind (a variable for a secret, or the reverse).</summary>
    NameTaken,
}

/// <summary>One value of one scope as a job receives it; a secret's value is decrypted.</summary>
internal sealed record JobValue(string Name, bool IsSecret, string Value, string? FilePath);

/// <summary>
/// Variables and secrets of every scope. A secret's value is encrypted with Data Protection before it reaches the
/// database and is decrypted only for jobs (<see cref="ValuesForJobAsync"/>); nothing else here returns it.
/// Callers validate names, values and paths with <see cref="VariableRules"/> first.
/// </summary>
public sealed class VariableStore(Database db, IDataProtectionProvider protection, TimeProvider time)
{
    public const string Purpose = "Kaizen.Secrets.v1";

    private readonly IDataProtector _protector = protection.CreateProtector(Purpose);

    public Task<SaveResult> SetSecretAsync(VariableScope scope, string name, string value, string? filePath, string actor,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(value);
        return SaveAsync(scope, name, isSecret: true, For(scope, name).Protect(value), filePath, actor, ct);
    }

    public Task<SaveResult> SetVariableAsync(VariableScope scope, string name, string value, string actor,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(value);
        return SaveAsync(scope, name, isSecret: false, value, filePath: null, actor, ct);
    }

    /// <summary>False when the scope has no secret (or, for <paramref name="isSecret"/> false, no variable) of that name.</summary>
    public async Task<bool> DeleteAsync(VariableScope scope, string name, bool isSecret, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(VariableSql.Delete, Key(scope, name, isSecret)) > 0;
    }

    public async Task<IReadOnlyList<SecretInfo>> SecretsAsync(VariableScope scope, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<MetadataRow>(VariableSql.Secrets, new { scope.Kind, scope.Id });
        return rows.Select(r => new SecretInfo(scope, r.Name, r.FilePath, r.CreatedAt, r.CreatedBy, r.UpdatedAt, r.UpdatedBy)).ToList();
    }

    public async Task<SecretInfo?> FindSecretAsync(VariableScope scope, string name, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<MetadataRow>(VariableSql.Secret, new { scope.Kind, scope.Id, Name = name });
        return row is null ? null : new SecretInfo(scope, row.Name, row.FilePath, row.CreatedAt, row.CreatedBy, row.UpdatedAt, row.UpdatedBy);
    }

    public async Task<IReadOnlyList<VariableInfo>> VariablesAsync(VariableScope scope, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<VariableRow>(VariableSql.Variables, new { scope.Kind, scope.Id });
        return rows.Select(r => r.ToInfo(scope)).ToList();
    }

    public async Task<VariableInfo?> FindVariableAsync(VariableScope scope, string name, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<VariableRow>(VariableSql.Variable, new { scope.Kind, scope.Id, Name = name });
        return row?.ToInfo(scope);
    }

    /// <summary>
    /// The variables and decrypted secrets of each scope, in the order given. Only for handing to a job: the values
    /// must not be shown to anyone.
    /// </summary>
    /// <exception cref="SecretUnreadableException">A secret was saved with Data Protection keys this portal no longer has.</exception>
    internal async Task<IReadOnlyList<(VariableScope Scope, IReadOnlyList<JobValue> Values)>> ValuesForJobAsync(
        IReadOnlyList<VariableScope> scopes, CancellationToken ct, Func<string, bool>? decryptSecret = null)
    {
        await using var c = await db.OpenAsync(ct);
        var result = new List<(VariableScope, IReadOnlyList<JobValue>)>(scopes.Count);
        foreach (var scope in scopes)
        {
            var rows = await c.QueryAsync<StoredRow>(VariableSql.ForJob, new { scope.Kind, scope.Id });
            result.Add((scope, rows.Select(r => new JobValue(r.Name, r.IsSecret, r.IsSecret ? (decryptSecret?.Invoke(r.Name) ?? true ? Decrypt(scope, r) : "") : r.Value, r.FilePath)).ToList()));
        }
        return result;
    }

    private string Decrypt(VariableScope scope, StoredRow row)
    {
        try
        {
            return For(scope, row.Name).Unprotect(row.Value);
        }
        catch (CryptographicException ex)
        {
            // The message becomes a job's public failure reason: it says which scope to look at, never a secret's name.
            throw new SecretUnreadableException(row.Name,
                $"A secret of the {scope.Kind} scope cannot be decrypted: it was saved with Data Protection keys " +
                "this portal does not have (see Kaizen:Secrets:KeysDirectory). Restore the keys, or have an admin save that " +
                "scope's secrets again.", ex);
        }
    }

    // Each secret gets its own sub-purpose, so a ciphertext copied into another row (another name or scope) does not decrypt.
    private IDataProtector For(VariableScope scope, string name) =>
        _protector.CreateProtector(scope.Kind, scope.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), name);

    private async Task<SaveResult> SaveAsync(VariableScope scope, string name, bool isSecret, string stored, string? filePath,
        string actor, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(actor);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var row = new
        {
            scope.Kind, scope.Id, Name = name, IsSecret = isSecret, Value = stored, FilePath = filePath, Now = now, Actor = actor,
        };
        await using var c = await db.OpenAsync(ct);
        if (await c.ExecuteAsync(VariableSql.Update, row) > 0) return SaveResult.Replaced;
        if (await c.ExecuteScalarAsync<long>(VariableSql.CountName, row) > 0) return SaveResult.NameTaken;
        await c.ExecuteAsync(VariableSql.Insert, row);
        return SaveResult.Created;
    }

    private static object Key(VariableScope scope, string name, bool isSecret) =>
        new { scope.Kind, scope.Id, Name = name, IsSecret = isSecret };

    private sealed class MetadataRow
    {
        public string Name { get; init; } = "";
        public string? FilePath { get; init; }
        public long CreatedAt { get; init; }
        public string CreatedBy { get; init; } = "";
        public long UpdatedAt { get; init; }
        public string UpdatedBy { get; init; } = "";
    }

    private sealed class VariableRow
    {
        public string Name { get; init; } = "";
        public string Value { get; init; } = "";
        public long CreatedAt { get; init; }
        public string CreatedBy { get; init; } = "";
        public long UpdatedAt { get; init; }
        public string UpdatedBy { get; init; } = "";

        public VariableInfo ToInfo(VariableScope scope) => new(scope, Name, Value, CreatedAt, CreatedBy, UpdatedAt, UpdatedBy);
    }

    private sealed class StoredRow
    {
        public string Name { get; init; } = "";
        public bool IsSecret { get; init; }
        public string Value { get; init; } = "";
        public string? FilePath { get; init; }
    }
}

/// <summary>A secret exists but cannot be decrypted; a job that needs it must not run without it.</summary>
public sealed class SecretUnreadableException(string secretName, string message, Exception inner) : InvalidOperationException(message, inner)
{
    /// <summary>Which secret, for admins only: the message itself never names it.</summary>
    public string SecretName { get; } = secretName;
}

internal static class VariableSql
{
    private const string InScope = "scope_kind = @Kind AND scope_id = @Id";

    private const string Audit =
        "created_at AS CreatedAt, created_by AS CreatedBy, updated_at AS UpdatedAt, updated_by AS UpdatedBy";

    // No statement that lists secrets selects the value column.
    public const string Secrets =
        "SELECT name, file_path AS FilePath, " + Audit + " FROM variables WHERE " + InScope + " AND is_secret = 1 ORDER BY name";

    public const string Secret =
        "SELECT name, file_path AS FilePath, " + Audit + " FROM variables WHERE " + InScope + " AND name = @Name AND is_secret = 1";

    public const string Variables =
        "SELECT name, value, " + Audit + " FROM variables WHERE " + InScope + " AND is_secret = 0 ORDER BY name";

    public const string Variable =
        "SELECT name, value, " + Audit + " FROM variables WHERE " + InScope + " AND name = @Name AND is_secret = 0";

    public const string ForJob =
        "SELECT name, is_secret AS IsSecret, value, file_path AS FilePath FROM variables WHERE " + InScope;

    public const string Update =
        "UPDATE variables SET name = @Name, value = @Value, file_path = @FilePath, updated_at = @Now, updated_by = @Actor " +
        "WHERE " + InScope + " AND name = @Name AND is_secret = @IsSecret";

    public const string CountName = "SELECT COUNT(*) FROM variables WHERE " + InScope + " AND name = @Name";

    public const string Insert =
        "INSERT INTO variables (scope_kind, scope_id, name, is_secret, value, file_path, created_at, created_by, updated_at, updated_by) " +
        "VALUES (@Kind, @Id, @Name, @IsSecret, @Value, @FilePath, @Now, @Actor, @Now, @Actor)";

    public const string Delete = "DELETE FROM variables WHERE " + InScope + " AND name = @Name AND is_secret = @IsSecret";
}
