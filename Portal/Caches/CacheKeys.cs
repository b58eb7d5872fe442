using System.Text.RegularExpressions;

namespace Kaizen.Portal.Caches;

/// <summary>What a cache key, fallback prefix or cache name may be: what <c>kaizen cache</c> allows, checked again here.</summary>
public static partial class CacheKeys
{
    public const int MaxLength = 200;

    /// <summary>Why <paramref name="key"/> cannot be a key (or a fallback prefix, or a name); null when it can.</summary>
    public static string? Problem(string? key, string what = "cache key")
    {
        if (string.IsNullOrEmpty(key)) return $"The {what} is empty.";
        if (key.Length > MaxLength) return $"The {what} is longer than {MaxLength} characters.";
        if (!Allowed().IsMatch(key)) return $"The {what} '{key}' may hold only letters, digits, '.', '_', '+' and '-', and may not start with '.'.";
        return null;
    }

    /// <summary>The cache a key belongs to when the caller did not say: the key without a trailing <c>-checksum</c>.</summary>
    public static string NameOf(string key)
    {
        var match = TrailingChecksum().Match(key);
        return match.Success && match.Index > 0 ? key[..match.Index] : key;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_+\-][A-Za-z0-9._+\-]*$")]
    private static partial Regex Allowed();

    [GeneratedRegex(@"-[0-9a-f]{8,}$")]
    private static partial Regex TrailingChecksum();
}
