using System.Buffers.Binary;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Kaizen.Portal.Api;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Auth;

/// <summary>One OpenSSH public key as a user sees it: type, fingerprint (as <c>ssh-keygen -l</c> prints it) and comment.</summary>
public sealed record SshKeyInfo(string Type, string Fingerprint, string? Comment, string Line);

/// <summary>
/// The OpenSSH public keys in a user's profile (the lines of an authorized_keys file, without options): they let the
/// user reach their own debug sessions over SSH on runners that offer it. Only public keys are kept; a private key
/// pasted by mistake is refused, and so is anything that is not a key.
/// </summary>
public sealed class SshKeys(Database db)
{
    public const int MaxKeys = 20;
    public const int MaxLineLength = 16 * 1024;

    private static readonly HashSet<string> Types =
    [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ];

    /// <summary>The saved key lines of a user (checked when saved), as a runner's authorized keys need them.</summary>
    public async Task<IReadOnlyList<string>> LinesAsync(long userId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return StoredLines(await c.ExecuteScalarAsync<string?>(SshKeySql.Get, new { Id = userId }));
    }

    /// <summary>The lines of a user's saved keys (the users.ssh_keys column).</summary>
    public static IReadOnlyList<string> StoredLines(string? stored) =>
        (stored ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public async Task<IReadOnlyList<SshKeyInfo>> ListAsync(long userId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var text = await c.ExecuteScalarAsync<string?>(SshKeySql.Get, new { Id = userId });
        return Parse(text, out _);
    }

    /// <summary>Replaces the user's keys with those in <paramref name="text"/> (one per line; blank lines and <c>#</c> comments
    /// skipped). Nothing changes when a line is not a public key: the message names it.</summary>
    public async Task<Outcome<IReadOnlyList<SshKeyInfo>>> SetAsync(ClaimsPrincipal user, string? text, CancellationToken ct = default)
    {
        if (user.UserId() is not { } userId) return Outcome<IReadOnlyList<SshKeyInfo>>.Fail(Problem.Forbidden, "Sign in to keep SSH keys.");
        var keys = Parse(text, out var error);
        if (error is not null) return Outcome<IReadOnlyList<SshKeyInfo>>.Fail(Problem.Invalid, error);
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(SshKeySql.Set, new { Id = userId, Keys = keys.Count == 0 ? null : string.Join('\n', keys.Select(k => k.Line)) });
        return Outcome<IReadOnlyList<SshKeyInfo>>.Of(keys);
    }

    /// <summary>The keys in <paramref name="text"/>; <paramref name="error"/> names the first line that is not one.</summary>
    public static IReadOnlyList<SshKeyInfo> Parse(string? text, out string? error)
    {
        error = null;
        var keys = new List<SshKeyInfo>();
        var number = 0;
        foreach (var raw in (text ?? "").Replace("\r", "").Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.Contains("PRIVATE KEY", StringComparison.Ordinal))
            {
                error = $"Line {number} is a private key: paste the public key (the .pub file, e.g. ~/.ssh/id_ed25519.pub) and keep the private one to yourself.";
                return [];
            }

            if (line.Length > MaxLineLength || KeyOf(line) is not { } key)
            {
                error = $"Line {number} is not an OpenSSH public key: expected 'ssh-ed25519 AAAA… comment' (the contents of a .pub file).";
                return [];
            }

            if (keys.All(k => k.Fingerprint != key.Fingerprint)) keys.Add(key);
        }

        if (keys.Count > MaxKeys)
        {
            error = $"At most {MaxKeys} keys.";
            return [];
        }

        return keys;
    }

    private static SshKeyInfo? KeyOf(string line)
    {
        var parts = line.Split([' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !Types.Contains(parts[0])) return null;
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(parts[1]);
        }
        catch (FormatException)
        {
            return null;
        }

        // The key's blob starts with its type as an SSH string (a 32-bit big-endian length, then the bytes).
        if (blob.Length < 4) return null;
        var length = BinaryPrimitives.ReadUInt32BigEndian(blob);
        if (length > blob.Length - 4 || Encoding.ASCII.GetString(blob, 4, (int)length) != parts[0]) return null;
        var fingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
        var comment = parts.Length > 2 ? parts[2].Trim() : null;
        return new SshKeyInfo(parts[0], fingerprint, comment, $"{parts[0]} {parts[1]}{(comment is { Length: > 0 } ? " " + comment : "")}");
    }
}

internal static class SshKeySql
{
    public const string Get = "SELECT ssh_keys FROM users WHERE id = @Id";
    public const string Set = "UPDATE users SET ssh_keys = @Keys WHERE id = @Id";
}
