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
            new Claim(PasswordStampClaim, PasswordStamp(user)),
        ], authenticationType));
    }

    /// <summary>Names which password a sign-in was made with (a digest of its hash, never the hash itself).</summary>
    public const string PasswordStampClaim = "kaizen:password";

    public static string PasswordStamp(UserRow user) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("kaizen-password:" + user.PasswordHash)))[..16];

    /// <summary>False when the user's password changed since this sign-in: every session made with the old one ends.
    /// A principal without the stamp is refused too: every sign-in path writes one, so a cookie without it is either
    /// older than stamps (signing in again costs a moment) or made by someone who wants to outlive a password reset.</summary>
    public static bool HasCurrentPassword(this ClaimsPrincipal principal, UserRow user) =>
        principal.FindFirstValue(PasswordStampClaim) is { } stamp
        && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(stamp), System.Text.Encoding.ASCII.GetBytes(PasswordStamp(user)));

    /// <summary>The signed-in user's id, or null for anyone else (anonymous, a runner).</summary>
    public static long? UserId(this ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : null;

    /// <summary>True when the principal still says what the database says about the user (name, role, password).</summary>
    public static bool Matches(this ClaimsPrincipal principal, UserRow user) =>
        principal.UserId() == user.Id
        && principal.Identity?.Name == user.Name
        && principal.FindAll(ClaimTypes.Role).Select(c => c.Value).SequenceEqual([user.Role])
        && principal.FindFirstValue(PasswordStampClaim) == PasswordStamp(user);
}
