using System.Security.Claims;
using Kaizen.Portal.Auth;

namespace Kaizen.Portal.Delivery;

/// <summary>The states of a deploy, as stored and as the API shows them.</summary>
public static class DeployStatus
{
    /// <summary>Waiting for approvals from people other than its requester.</summary>
    public const string AwaitingApproval = "awaiting_approval";

    /// <summary>Approved (or needing none) and waiting for its turn, or for its server to be uncordoned.</summary>
    public const string Queued = "queued";

    /// <summary>Its job exists: queued for a runner or running.</summary>
    public const string Running = "running";

    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string Canceled = "canceled";
    public const string Rejected = "rejected";

    public static bool IsFinished(string status) => status is Passed or Failed or Canceled or Rejected;

    /// <summary>Not yet started: it can still be approved, rejected or canceled without stopping a job.</summary>
    public static bool IsPending(string status) => status is AwaitingApproval or Queued;
}

/// <summary>How a server's deploys start.</summary>
public static class TriggerMode
{
    /// <summary>By itself after a passed build of a matching branch.</summary>
    public const string Automatic = "automatic";

    /// <summary>When someone asks, for a passed build of a matching branch.</summary>
    public const string Manual = "manual";
}

/// <summary>Who may request and approve a server's deploys. Viewers never may.</summary>
public static class Deployers
{
    public const string Members = "members";
    public const string Admins = "admins";

    public static bool Allows(string deployers, string role) =>
        role == Roles.Admin || (role == Roles.Member && deployers == Members);
}

/// <summary>Why a deploy was asked for.</summary>
public static class DeployTrigger
{
    public const string Automatic = "automatic";
    public const string Manual = "manual";

    /// <summary>A manual deploy of an older build than the one the server runs now.</summary>
    public const string Rollback = "rollback";
}

/// <summary>Someone doing something in delivery: a signed-in person with a role, or the portal itself.</summary>
public sealed record Actor(string Name, string Role)
{
    /// <summary>The portal itself (automatic deploys); it holds the admin role for what it starts.</summary>
    public static Actor System { get; } = new(Audit.AuditLog.System, Roles.Admin);

    public static Actor From(ClaimsPrincipal user)
    {
        var name = user.Identity?.Name ?? "";
        var role = user.IsInRole(Roles.Admin) ? Roles.Admin : user.IsInRole(Roles.Member) ? Roles.Member : Roles.Viewer;
        return new Actor(name, role);
    }
}

public sealed class ServerRow
{
    public long Id { get; init; }
    public long ProjectId { get; init; }
    public string ProjectSlug { get; init; } = "";
    public string Name { get; init; } = "";
    public string CommandsJson { get; init; } = "[]";
    public string TriggerMode { get; init; } = Delivery.TriggerMode.Manual;
    public string BranchPattern { get; init; } = "";
    public string Deployers { get; init; } = Delivery.Deployers.Members;
    public int Approvals { get; init; }
    public bool Cordoned { get; init; }
    public string? CordonReason { get; init; }
    public long CreatedAt { get; init; }
    public string CreatedBy { get; init; } = "";
    public long UpdatedAt { get; init; }
    public string UpdatedBy { get; init; } = "";

    public IReadOnlyList<string> Commands => ServerSpec.ParseCommands(CommandsJson);

    /// <summary>Whether builds of <paramref name="branch"/> may be deployed here (and, if automatic, are).</summary>
    public bool AcceptsBranch(string branch) => BranchPatterns.Matches(BranchPattern, branch);
}

public sealed class DeployRow
{
    public long Id { get; init; }
    public long ServerId { get; init; }
    public string ServerName { get; init; } = "";
    public long ProjectId { get; init; }
    public string ProjectSlug { get; init; } = "";
    public long BuildId { get; init; }
    public string Branch { get; init; } = "";
    public string CommitSha { get; init; } = "";
    public string CommitMessage { get; init; } = "";
    public string CommitAuthor { get; init; } = "";
    public string Status { get; init; } = "";
    public string TriggerKind { get; init; } = "";
    public string RequestedBy { get; init; } = "";
    public long RequestedAt { get; init; }
    public int ApprovalsRequired { get; init; }

    /// <summary>How many people approved it so far.</summary>
    public int Approvals { get; init; }

    public long? JobId { get; init; }
    public long? StartedAt { get; init; }
    public long? FinishedAt { get; init; }

    /// <summary>Why it was rejected or canceled, or why it failed to start.</summary>
    public string? Note { get; init; }
}

/// <summary>One person's decision on a deploy.</summary>
public sealed class ApprovalRow
{
    public long DeployId { get; init; }
    public string UserName { get; init; } = "";
    public string Decision { get; init; } = "";
    public string? Comment { get; init; }
    public long At { get; init; }
}

public static class ApprovalDecision
{
    public const string Approved = "approved";
    public const string Rejected = "rejected";
}

/// <summary>A server with its newest deploy and the newest passed one (what runs there now).</summary>
public sealed record ServerOverview(ServerRow Server, DeployRow? Latest, DeployRow? Current);

/// <summary>A deploy with the decisions taken on it.</summary>
public sealed record DeployDetails(DeployRow Deploy, IReadOnlyList<ApprovalRow> Decisions)
{
    public int Approvals => Decisions.Count(d => d.Decision == ApprovalDecision.Approved);
}
