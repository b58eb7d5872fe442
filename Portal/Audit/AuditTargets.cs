using System.Text.RegularExpressions;

namespace Kaizen.Portal.Audit;

/// <summary>
/// The page an audit entry is about, read from its target (<c>project:web/server:production/deploy:12</c>): the most
/// specific part that has a page wins. Null when the target names nothing with a page of its own.
/// </summary>
public static partial class AuditTargets
{
    public static string? LinkOf(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.StartsWith("runner:", StringComparison.Ordinal) || target.StartsWith("runner ", StringComparison.Ordinal)) return "/runners";
        if (target.StartsWith("user:", StringComparison.Ordinal))
            return target.Contains("/token:", StringComparison.Ordinal) ? null : "/admin/users";
        if (target.StartsWith("org/", StringComparison.Ordinal)) return "/admin/variables";
        if (target == "scripts") return "/scripts";
        if (target.StartsWith("script:", StringComparison.Ordinal)) return "/scripts/" + Uri.EscapeDataString(target["script:".Length..]);
        if (ProjectPattern().Match(target) is not { Success: true } match) return null;

        var slug = match.Groups["slug"].Value;
        var project = $"/projects/{slug}";
        var parts = match.Groups["rest"].Value.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string? server = null;
        foreach (var part in parts)
        {
            var (kind, name) = part.IndexOf(':') is var colon and > 0 ? (part[..colon], part[(colon + 1)..]) : (part, "");
            switch (kind)
            {
                case "build" when long.TryParse(name, out var build): return $"/builds/{build}";
                case "job" when long.TryParse(name, out var job): return $"/jobs/{job}";
                case "deploy" when long.TryParse(name, out var deploy): return $"/deploys/{deploy}";
                case "server": server = name; break;
                case "secret" or "variable":
                    return server is null ? $"{project}/variables" : $"{project}/servers/{Uri.EscapeDataString(server)}";
                case "settings" or "runner-labels":
                    return server is null ? $"{project}/settings" : $"{project}/servers/{Uri.EscapeDataString(server)}";
                case "cache" or "caches": return $"{project}/caches";
            }
        }
        return server is null ? project : $"{project}/servers/{Uri.EscapeDataString(server)}";
    }

    /// <summary>The project slug a target is about (<c>project:web/...</c>), or null.</summary>
    public static string? ProjectOf(string target) =>
        ProjectPattern().Match(target ?? "") is { Success: true } match ? match.Groups["slug"].Value : null;

    [GeneratedRegex("^project:(?<slug>[a-z0-9][a-z0-9-]*)(?<rest>/.*)?$")]
    private static partial Regex ProjectPattern();
}
