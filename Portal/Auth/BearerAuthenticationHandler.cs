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

/// <summary>Authenticates users by personal API token.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, UserStore users)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = Tokens.FromHeader(Request.Headers.Authorization);
        if (token is null) return AuthenticateResult.NoResult();
        var user = await users.FindByTokenHashAsync(Tokens.Hash(token), Context.RequestAborted);
        if (user is null) return AuthenticateResult.Fail("Unknown or revoked API token.");
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()), new Claim(ClaimTypes.Name, user.Name), new Claim(ClaimTypes.Role, user.Role)],
            Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
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
        var identity = new ClaimsIdentity(
            [new Claim(KaizenAuth.RunnerIdClaim, runner.Id.ToString()), new Claim(ClaimTypes.Name, runner.Name)],
            Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }
}
