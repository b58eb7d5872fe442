using System.Globalization;
using System.Security.Claims;

namespace Kaizen.Portal.Auth;

/// <summary>The claims a signed-in user carries, whichever way they signed in: their id, name and role.</summary>
public static class UserPrincipal
{
    public static ClaimsPrincipal Create(UserRow user, string authenticationType)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, user.Id.ToString(CultureInfo.InvariantCulture)),
            new Claim(ClaimTypes.Name, user.Name),
            new Claim(ClaimTypes.Role, user.Role),
        ], authenticationType));
    }

    /// <summary>The signed-in user's id, or null for anyone else (anonymous, a runner).</summary>
    public static long? UserId(this ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : null;

    /// <summary>True when the principal still says what the database says about the user (name and role).</summary>
    public static bool Matches(this ClaimsPrincipal principal, UserRow user) =>
        principal.UserId() == user.Id
        && principal.Identity?.Name == user.Name
        && principal.FindAll(ClaimTypes.Role).Select(c => c.Value).SequenceEqual([user.Role]);
}
