using System.Security.Cryptography;
using System.Text;

namespace Kaizen.Portal.Auth;

/// <summary>Random bearer tokens; only their SHA-256 is stored, so a stolen database holds no usable token.</summary>
public static class Tokens
{
    public static string New(string prefix) =>
        prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The token of an "Authorization: Bearer ..." header, or null.</summary>
    public static string? FromHeader(string? header) =>
        header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7
            ? header[7..].Trim()
            : null;
}
