using System.Text.RegularExpressions;

namespace Kaizen.Runner.Checkout;

/// <summary>
/// Hides the credentials people put into git URLs (<c>https://user:token@host/repo.git</c>) from whatever is shown or
/// logged; git itself keeps getting the real URL. Lives with the runner because both the runner's checkout log and the
/// portal's pages and answers need it.
/// </summary>
public static partial class GitUrlCredentials
{
    /// <summary>What replaces a hidden credential.</summary>
    public const string Mask = "***";

    /// <summary>
    /// <paramref name="text"/> (a URL, or a message that contains URLs) with the user info of every http(s) URL replaced
    /// by <see cref="Mask"/> (a lone user name there is usually a token), and the password of every other URL masked
    /// (<c>ssh://git@host</c> keeps its harmless user name).
    /// </summary>
    public static string Hide(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains('@', StringComparison.Ordinal)) return text;
        var hidden = HttpUserInfo().Replace(text, "$1" + Mask + "@");
        return OtherPassword().Replace(hidden, "$1:" + Mask + "@");
    }

    [GeneratedRegex(@"\b(https?://)[^/\s@]+@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HttpUserInfo();

    [GeneratedRegex(@"\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^/\s@]+@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OtherPassword();
}
