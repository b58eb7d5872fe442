using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;

namespace Kaizen.Portal.Projects;

/// <summary>
/// Who may see a project. Everyone signed in (whatever their role) sees every project; anyone at all sees a public
/// project's builds, jobs and logs, but never its servers, deploys, variables or secrets. A project someone may not
/// see answers exactly like one that does not exist, so its existence is not confirmed.
/// </summary>
public static class ProjectAccess
{
    public static bool IsSignedIn(ClaimsPrincipal? user) => user?.Identity?.IsAuthenticated == true;

    public static bool CanRead(ClaimsPrincipal? user, [NotNullWhen(true)] ProjectRow? project) =>
        project is not null && (project.IsPublic || IsSignedIn(user));
}
