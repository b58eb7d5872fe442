namespace Kaizen.Portal.Secrets;

/// <summary>
/// Where a variable or secret applies: the whole organization, one project, or one server (deploy target) of a
/// project. When a job gets its environment the scopes are applied widest first, so the narrowest wins by name.
/// </summary>
public sealed record VariableScope(string Kind, long Id)
{
    public const string OrgKind = "org";
    public const string ProjectKind = "project";
    public const string ServerKind = "server";

    /// <summary>The organization: every project's jobs.</summary>
    public static VariableScope Org { get; } = new(OrgKind, 0);

    public static VariableScope Project(long projectId) => new(ProjectKind, projectId);

    /// <summary>One server's deploys only.</summary>
    public static VariableScope Server(long serverId) => new(ServerKind, serverId);
}
