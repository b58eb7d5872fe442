using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;

namespace Kaizen.Portal.Auth;

/// <summary>A new personal API token; <see cref="Token"/> exists in clear only in this value.</summary>
public sealed record CreatedToken(long Id, string Name, string Token);

/// <summary>Each signed-in user's own API tokens: list, create, revoke. Nobody sees or revokes another's.</summary>
public sealed class PersonalTokens(UserStore users, AuditLog audit, TokenUsage usage)
{
    public const int MaxNameLength = 100;

    public const string NameRule = "Name the token (1 to 100 characters), e.g. after the script or machine that uses it.";

    public async Task<IReadOnlyList<ApiTokenRow>> ListAsync(ClaimsPrincipal owner, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (owner.UserId() is not { } id) return [];
        // A use noted but not yet written counts: the list is what people check a token by.
        return (await users.TokensAsync(id, ct)).Select(t => t with { LastUsedAt = usage.LastUsedAt(t.Id, t.LastUsedAt) }).ToList();
    }

    public async Task<Outcome<CreatedToken>> CreateAsync(ClaimsPrincipal owner, string? name, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (owner.UserId() is not { } userId) return Outcome<CreatedToken>.Fail(Problem.Forbidden, "Only users have API tokens.");
        name = name?.Trim() ?? "";
        if (name.Length is 0 or > MaxNameLength) return Outcome<CreatedToken>.Fail(Problem.Invalid, NameRule);
        var token = Tokens.New("kzt_");
        var id = await users.AddTokenAsync(userId, name, Tokens.Hash(token), ct);
        await audit.RecordAsync(owner, AuditActions.TokenCreated, $"user:{owner.Identity?.Name}/token:{name}", null, ct);
        return Outcome<CreatedToken>.Of(new CreatedToken(id, name, token));
    }

    /// <summary>Revokes one of the owner's tokens at once; another user's token is "not found", never revoked.</summary>
    public async Task<Outcome<ApiTokenRow>> RevokeAsync(ClaimsPrincipal owner, long tokenId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var revoked = owner.UserId() is { } userId ? await users.DeleteTokenAsync(userId, tokenId, ct) : null;
        if (revoked is null) return Outcome<ApiTokenRow>.Fail(Problem.NotFound, $"You have no API token {tokenId}.");
        await audit.RecordAsync(owner, AuditActions.TokenRevoked, $"user:{owner.Identity?.Name}/token:{revoked.Name}", null, ct);
        return Outcome<ApiTokenRow>.Of(revoked);
    }
}
