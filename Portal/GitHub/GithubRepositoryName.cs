using System.Text.RegularExpressions;

namespace Kaizen.Portal.GitHub;

/// <summary>"owner/name" of a GitHub repository, read from the URLs a project or a webhook payload gives.</summary>
public static partial class GithubRepositoryName
{
    /// <summary>The repository of an https://github.com/owner/name(.git), git@github.com:owner/name(.git) or
    /// ssh://git@github.com/owner/name URL; null for anything else.</summary>
    public static string? FromUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return null;
        var match = UrlPattern().Match(url.Trim());
        return match.Success ? $"{match.Groups["owner"].Value}/{match.Groups["name"].Value}" : null;
    }

    /// <summary>Whether <paramref name="value"/> is a valid "owner/name".</summary>
    public static bool IsValid(string? value) => value is not null && NamePattern().IsMatch(value);

    [GeneratedRegex(@"^(?:https?://(?:[^@/]+@)?|ssh://git@|git@|git://)github\.com[/:](?<owner>[A-Za-z0-9-]{1,39})/(?<name>[A-Za-z0-9._-]{1,100}?)(?:\.git)?/?$", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex NamePattern();
}
