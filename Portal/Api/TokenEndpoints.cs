using System.Security.Claims;
using Kaizen.Portal.Auth;

namespace Kaizen.Portal.Api;

public sealed record CreateTokenRequest(string? Name);

/// <summary>The lines of an authorized_keys file: OpenSSH public keys, one per line.</summary>
public sealed record SshKeysRequest(string? Keys);

/// <summary>A new personal API token, shown this once (only its hash is kept).</summary>
public sealed record CreatedTokenResponse(long Id, string Name, string Token);

/// <summary>One of the caller's API tokens; times are Unix milliseconds, <c>lastUsedAt</c> null when never used.</summary>
public sealed record TokenResponse(long Id, string Name, long CreatedAt, long? LastUsedAt);

/// <summary>The caller's own API tokens: /api/v1/me/tokens, for everyone signed in.</summary>
public static class TokenEndpoints
{
    public static IEndpointRouteBuilder MapPersonalTokensApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/me/tokens").RequireAuthorization().WithTags("Users");
        api.MapGet("", List).WithSummary("Your API tokens: name, created, last used (never the token).");
        api.MapPost("", Create).WithSummary("Create an API token with a name; the token is returned this once.");
        api.MapDelete("/{id:long}", Revoke).WithSummary("Revoke one of your API tokens; it stops working at once.");

        var keys = app.MapGroup("/api/v1/me/ssh-keys").RequireAuthorization().WithTags("Users");
        keys.MapGet("", async (SshKeys store, ClaimsPrincipal user, CancellationToken ct) =>
                Results.Ok(await store.ListAsync(user.UserId() ?? 0, ct)))
            .WithSummary("Your SSH public keys (type, fingerprint, comment): they reach your debug sessions on runners that offer SSH.");
        keys.MapPut("", async (SshKeysRequest? body, SshKeys store, ClaimsPrincipal user, CancellationToken ct) =>
            {
                var saved = await store.SetAsync(user, body?.Keys, ct);
                return saved.Ok ? Results.Ok(saved.Value) : saved.ToProblemResult();
            })
            .WithSummary("Replace your SSH public keys: { keys: \"ssh-ed25519 AAAA… you@laptop\\n…\" } (an empty text removes them).");
        return app;
    }

    private static async Task<IResult> List(PersonalTokens tokens, ClaimsPrincipal user, CancellationToken ct) =>
        Results.Ok((await tokens.ListAsync(user, ct)).Select(t => new TokenResponse(t.Id, t.Name, t.CreatedAt, t.LastUsedAt)));

    private static async Task<IResult> Create(CreateTokenRequest? body, PersonalTokens tokens, ClaimsPrincipal user, CancellationToken ct)
    {
        var created = await tokens.CreateAsync(user, body?.Name, ct);
        if (!created.Ok) return created.ToProblemResult();
        var (id, name, token) = created.Value!;
        return Results.Created($"/api/v1/me/tokens/{id}", new CreatedTokenResponse(id, name, token));
    }

    private static async Task<IResult> Revoke(long id, PersonalTokens tokens, ClaimsPrincipal user, CancellationToken ct)
    {
        var revoked = await tokens.RevokeAsync(user, id, ct);
        return revoked.Ok ? Results.NoContent() : revoked.ToProblemResult();
    }
}
