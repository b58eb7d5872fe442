using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Kaizen.Portal.Auth;

/// <summary>
/// Keeps a sign-in cookie true to the database on every request: a removed user's cookie, or one made before the
/// user's password changed, is rejected (and cleared); a changed name or role is put into the principal and the cookie
/// re-issued.
/// </summary>
public static class CookieRevalidation
{
    public static async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        var users = context.HttpContext.RequestServices.GetRequiredService<UserStore>();
        var user = context.Principal?.UserId() is { } id ? await users.FindByIdAsync(id, context.HttpContext.RequestAborted) : null;
        if (user is null || !context.Principal!.HasCurrentPassword(user))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return;
        }
        if (!context.Principal!.Matches(user))
        {
            context.ReplacePrincipal(UserPrincipal.Create(user, CookieAuthenticationDefaults.AuthenticationScheme));
            context.ShouldRenew = true;
        }
    }
}

/// <summary>
/// Re-checks the user of an open Blazor circuit every <see cref="Interval"/>: a removed user is signed out of it (the
/// page sends them to sign-in), a changed role replaces the circuit's principal so the pages follow at once.
/// </summary>
public sealed class UserRevalidatingAuthenticationStateProvider(ILoggerFactory loggerFactory, UserStore users)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    /// <summary>How often the user is looked up again.</summary>
    public TimeSpan Interval { get; init; } = DefaultInterval;

    protected override TimeSpan RevalidationInterval => Interval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var principal = authenticationState.User;
        if (principal.UserId() is not { } id) return false;
        var user = await users.FindByIdAsync(id, cancellationToken);
        if (user is null || !principal.HasCurrentPassword(user)) return false;
        if (!principal.Matches(user))
        {
            // Setting a new state restarts the revalidation loop with it.
            var refreshed = UserPrincipal.Create(user, principal.Identity?.AuthenticationType ?? CookieAuthenticationDefaults.AuthenticationScheme);
            SetAuthenticationState(Task.FromResult(new AuthenticationState(refreshed)));
        }
        return true;
    }
}
