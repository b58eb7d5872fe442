using System.Security.Claims;
using System.Text.Encodings.Web;
using Kaizen.Portal.Runners;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Auth;

public static class KaizenAuth
{
    /// <summary>Personal API tokens of users ("Authorization: Bearer ...").</summary>
    public const string ApiToken = "ApiToken";

    /// <summary>Runner tokens, for /api/runner only.</summary>
    public const string Runner = "Runner";

    /// <summary>Picks the API token scheme when a bearer header is present, else the sign-in cookie.</summary>
    public const string Default = "Kaizen";

    public const string RunnerPolicy = "Runner";

    public const string RunnerIdClaim = "kaizen:runner";

    public static long RunnerId(this ClaimsPrincipal user) => long.Parse(user.FindFirstValue(RunnerIdClaim)!);
}

/// <summary>
/// Authenticates users by personal API token. The user is read with the token on every request, so a revoked token,
/// a removed user or a changed role counts at once. Nothing is written here: the token's last use is only noted
/// (<see cref="TokenUsage"/>), so a read never depends on a write succeeding.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, UserStore users, TokenUsage usage)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = Tokens.FromHeader(Request.Headers.Authorization);
        if (token is null) return AuthenticateResult.NoResult();
        var found = await users.FindTokenAsync(Tokens.Hash(token), Context.RequestAborted);
        if (found is null) return AuthenticateResult.Fail("Unknown or revoked API token.");
        usage.Used(found.TokenId, found.LastUsedAt);
        var principal = UserPrincipal.Create(found.User, Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }
}

/// <summary>Authenticates runners by the token they got at registration.</summary>
public sealed class RunnerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, RunnerStore runners)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = Tokens.FromHeader(Request.Headers.Authorization);
        if (token is null) return AuthenticateResult.NoResult();
        var runner = await runners.FindByTokenHashAsync(Tokens.Hash(token), Context.RequestAborted);
        if (runner is null) return AuthenticateResult.Fail("Unknown runner token: register the runner again.");
        if (runner.RevokedAt is not null)
        {
            Context.Items[RevokedKey] = true;
            return AuthenticateResult.Fail($"Runner {runner.Id} ({runner.Name}) was revoked by an admin; register a new runner to run jobs again.");
        }
        var identity = new ClaimsIdentity(
            [new Claim(KaizenAuth.RunnerIdClaim, runner.Id.ToString()), new Claim(ClaimTypes.Name, runner.Name)],
            Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    private const string RevokedKey = "kaizen:runner-revoked";

    /// <summary>A refused runner learns why; a revoked one is told to stop rather than register again.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        if (Context.Items.ContainsKey(RevokedKey)) Response.Headers[Kaizen.Runner.Protocol.RunnerRoutes.RevokedHeader] = "true";
        if (result.Failure is { } failure)
            await Response.WriteAsJsonAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = 401, Title = failure.Message },
                (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", Context.RequestAborted);
    }
}
