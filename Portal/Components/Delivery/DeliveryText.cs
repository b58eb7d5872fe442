using Kaizen.Portal.Delivery;

namespace Kaizen.Portal.Components.Delivery;

/// <summary>How servers and deploys read on every delivery page, in the words of the people who deploy.</summary>
public static class DeliveryText
{
    /// <summary>"automatic from develop", "manual from any branch", "manual from main, hotfix/*".</summary>
    public static string Trigger(ServerRow server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return $"{server.TriggerMode} from {Branches(server.BranchPattern)}";
    }

    public static string Branches(string pattern) => string.IsNullOrWhiteSpace(pattern) ? "any branch" : pattern;

    /// <summary>"no approval needed", "1 approval", "2 approvals".</summary>
    public static string Approvals(int count) => count switch
    {
        0 => "no approval needed",
        1 => "1 approval",
        _ => $"{count} approvals",
    };

    /// <summary>Who may deploy to (and approve deploys of) a server.</summary>
    public static string Deployers(string deployers) =>
        deployers == Kaizen.Portal.Delivery.Deployers.Admins ? "admins only" : "members and admins";

    /// <summary>The names of those who approved, in order, or a dash.</summary>
    public static string ApprovedBy(IReadOnlyList<ApprovalRow>? decisions)
    {
        var names = decisions?.Where(d => d.Decision == ApprovalDecision.Approved).Select(d => d.UserName).ToList() ?? [];
        return names.Count == 0 ? "—" : string.Join(", ", names);
    }

    /// <summary>How long a deploy ran (so far, while it runs).</summary>
    public static string Duration(DeployRow deploy, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(deploy);
        return Shared.Format.Duration(deploy.StartedAt, deploy.FinishedAt ?? (deploy.Status == DeployStatus.Running ? nowMs : null));
    }
}
