using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace Kaizen.Portal.Components.Pages.Errors;

/// <summary>Which page of the portal an address opens, to say what a refused page needs.</summary>
public static class PageRoutes
{
    private static readonly Lazy<IReadOnlyList<(TemplateMatcher Matcher, Type Page)>> Routes = new(() =>
        typeof(PageRoutes).Assembly.GetTypes()
            .Where(t => typeof(IComponent).IsAssignableFrom(t))
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (r.Template, Page: t)))
            // Literal segments before parameters: "/scripts/new" before "/scripts/{Name}".
            .OrderBy(r => r.Template.Count(c => c == '{'))
            .Select(r => (new TemplateMatcher(TemplateParser.Parse(r.Template.TrimStart('/')), new RouteValueDictionary()), r.Page))
            .ToList());

    /// <summary>The page type that <paramref name="path"/> (an address on the portal, query allowed) opens, or null.</summary>
    public static Type? PageOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || !path.StartsWith('/') || path.StartsWith("//", StringComparison.Ordinal)) return null;
        var bare = path.Split('?', '#')[0];
        foreach (var (matcher, page) in Routes.Value)
        {
            if (matcher.TryMatch(bare, new RouteValueDictionary())) return page;
        }
        return null;
    }

    /// <summary>The roles the page at <paramref name="path"/> requires (comma-separated), or null.</summary>
    public static string? RolesOf(string? path) =>
        PageOf(path)?.GetCustomAttributes<AuthorizeAttribute>(inherit: true).Select(a => a.Roles).FirstOrDefault(r => !string.IsNullOrEmpty(r));
}
