using MudBlazor;

namespace Kaizen.Portal.Components.Pages.Projects;

/// <summary>One section of a project, with its own address under <c>/projects/{slug}/</c>.</summary>
/// <param name="Path">The last segment of the address (<c>builds</c>, <c>branches</c>, ...).</param>
/// <param name="Title">What the navigation and the breadcrumbs call it.</param>
/// <param name="Icon">The icon of the navigation rail.</param>
/// <param name="SignedInOnly">Settings, variables, servers and caches are for signed-in people only, also on a public project.</param>
public sealed record ProjectSection(string Path, string Title, string Icon, bool SignedInOnly);

/// <summary>A project's sections in the order the navigation shows them: the one list the drawer and the pages share.</summary>
public static class ProjectSections
{
    public static readonly ProjectSection Builds = new("builds", "Builds", Icons.Material.Filled.PlaylistPlay, false);
    public static readonly ProjectSection Branches = new("branches", "Branches", Icons.Material.Filled.AccountTree, false);
    public static readonly ProjectSection Downloads = new("downloads", "Downloads", Icons.Material.Filled.Download, false);
    public static readonly ProjectSection Coverage = new("coverage", "Coverage", Icons.Material.Filled.Rule, false);
    public static readonly ProjectSection Insights = new("insights", "Insights", Icons.Material.Filled.Insights, false);
    public static readonly ProjectSection Settings = new("settings", "Settings", Icons.Material.Filled.Settings, true);
    public static readonly ProjectSection Variables = new("variables", "Variables & secrets", Icons.Material.Filled.VpnKey, true);
    public static readonly ProjectSection Servers = new("servers", "Servers", Icons.Material.Filled.RocketLaunch, true);
    public static readonly ProjectSection Caches = new("caches", "Caches", Icons.Material.Filled.Cached, true);

    public static IReadOnlyList<ProjectSection> All { get; } = [Builds, Branches, Downloads, Coverage, Insights, Settings, Variables, Servers, Caches];

    /// <summary>The sections someone sees: visitors of a public project only those anyone may read.</summary>
    public static IEnumerable<ProjectSection> For(bool signedIn) => All.Where(s => signedIn || !s.SignedInOnly);

    /// <summary>The address of a section of project <paramref name="slug"/>.</summary>
    public static string Href(string slug, ProjectSection section) => $"/projects/{Uri.EscapeDataString(slug)}/{section.Path}";

    /// <summary>
    /// The project an address is about, if it is a project's page (<c>/projects/{slug}</c> and below), or null.
    /// </summary>
    public static string? SlugOf(string relativePath)
    {
        var path = relativePath.Split('?', '#')[0];
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && parts[0] == "projects" ? Uri.UnescapeDataString(parts[1]) : null;
    }
}
