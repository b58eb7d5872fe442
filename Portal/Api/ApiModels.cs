using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

/// <summary><c>public</c> (or <c>isPublic</c>) makes the project's builds and logs readable by anyone; private by default.</summary>
public sealed record CreateProjectRequest(string? Name, string? GitUrl, bool? IsPublic, bool? Public = null);

public sealed record CreatedProjectResponse(long Id, string Slug, string DefaultBranch, IReadOnlyList<string> Branches);

public sealed record BranchResponse(string Name, string HeadSha, string HeadMessage, string HeadAuthor);

public sealed record ProjectResponse(
    long Id, string Name, string Slug, string GitUrl, string DefaultBranch, bool IsPublic, DateTimeOffset CreatedAt,
    IReadOnlyList<BranchResponse> Branches)
{
    public static ProjectResponse From(ProjectRow p, IEnumerable<BranchRow> branches) => new(
        // Credentials in the address (https://user:token@host/...) are for git alone, never for whoever reads the project.
        p.Id, p.Name, p.Slug, Kaizen.Runner.Checkout.GitUrlCredentials.Hide(p.GitUrl), p.DefaultBranch, p.IsPublic, DateTimeOffset.FromUnixTimeMilliseconds(p.CreatedAt),
        branches.Select(b => new BranchResponse(b.Name, b.HeadSha, b.HeadMessage, b.HeadAuthor)).ToList())
    {
        GithubRepository = p.GithubRepository,
        ForkPullRequestApproval = p.ForkApproval,
    };

    /// <summary>The GitHub repository ("owner/name") webhooks and commit statuses are matched by.</summary>
    public string? GithubRepository { get; init; }

    /// <summary>Which builds of pull requests from forks wait for a member's approval: always, first-time or never.
    /// Anyone who reads the project may know it (a contributor learns why their build waits).</summary>
    public string ForkPullRequestApproval { get; init; } = ForkApproval.Always;

    /// <summary>Admins only: the secret GitHub signs webhook deliveries with.</summary>
    public string? WebhookSecret { get; init; }

    /// <summary>Admins only: the token that shows a private project's badges (<c>?token=</c>).</summary>
    public string? BadgeToken { get; init; }

    /// <summary>Admins only: the secrets builds of pull requests from forks may receive.</summary>
    public IReadOnlyList<string>? ForkSecrets { get; init; }
}

public sealed record SettingsRequest(IReadOnlyList<string>? Setup, IReadOnlyList<JobSettings>? Jobs, IReadOnlyList<string>? Epilogue,
    string? Image = null, IReadOnlyList<BlockSettings>? Blocks = null, IReadOnlyDictionary<string, string>? Env = null,
    string? TimeLimit = null, string? BuildTimeLimit = null, bool? FailFast = null, bool? AutoCancel = null)
{
    /// <summary>The settings the request describes (missing lists as empty).</summary>
    public BuildSettings ToSettings() => new(Setup ?? [], Jobs ?? [], Epilogue ?? [], Image, Blocks is { Count: > 0 } ? Blocks : null,
        Env is { Count: > 0 } ? Env : null, TimeLimit, BuildTimeLimit, FailFast, AutoCancel);
}

/// <summary>What to build: <see cref="Ref"/> a branch, a tag or a commit id (full or at least 7 characters), resolved in the
/// project's repository; or <see cref="Branch"/> (the default branch when neither is given). <see cref="Variables"/>: extra
/// plain variables for this build, as an object of names to text values (<c>{ "DEPLOY_ENV": "staging" }</c>); see
/// <see cref="RunVariables"/>.</summary>
public sealed record StartBuildRequest(string? Branch, string? Ref = null, System.Text.Json.JsonElement? Variables = null);

public sealed record CreatedResponse(long Id);

public sealed record BuildSummary(
    long Id, string Project, string Status, string Branch, string CommitSha, string CommitMessage, string CommitAuthor,
    string Trigger, DateTimeOffset QueuedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, long? DurationMs)
{
    public static BuildSummary From(BuildRow b) => new(
        b.Id, b.ProjectSlug, b.Status, b.Branch, b.CommitSha, b.CommitMessage, b.CommitAuthor, b.TriggerKind,
        DateTimeOffset.FromUnixTimeMilliseconds(b.QueuedAt), Time(b.StartedAt), Time(b.FinishedAt),
        b.StartedAt is { } s && b.FinishedAt is { } f ? f - s : null);

    internal static DateTimeOffset? Time(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
}

public sealed record BuildListResponse(IReadOnlyList<BuildSummary> Items, long Total, int Page, int PageSize);

/// <summary>A command of a job. A shared script is a section (<see cref="Script"/>: <c>name@version</c> it ran) followed by
/// its top-level commands, each with <see cref="Parent"/> = the section's index.</summary>
public sealed record CommandResponse(int Index, string Phase, string Text, string Status, int? ExitCode, long? DurationMs,
    DateTimeOffset? StartedAt, int? Parent = null, string? Script = null);

/// <summary>A job. <see cref="Image"/>: it runs in a container from it (on a runner that offers docker); <see cref="Waiting"/>:
/// while queued, what it waits for.</summary>
public sealed record JobResponse(
    long Id, string Name, string Status, string? Error, DateTimeOffset QueuedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt, long LogBytes, IReadOnlyList<CommandResponse> Commands, string? Image = null, string? Waiting = null)
{
    /// <summary>The job's block (null in flat settings) and the blocks that must pass before it starts.</summary>
    public string? Block { get; init; }

    /// <inheritdoc cref="Block"/>
    public IReadOnlyList<string>? Needs { get; init; }

    /// <summary>In a rerun of failed jobs: the job passed in the build it reruns, so it did not run again.</summary>
    public bool Reused { get; init; }

    /// <summary>What a queued job waits for: any runner, or one with docker for a job with an image.</summary>
    public static string WaitingFor(string? image) =>
        image is null ? "waiting for a runner" : $"waiting for a runner with docker (image {image})";

    /// <summary>What a job of <paramref name="status"/> waits for, or null when it waits for nothing.</summary>
    public static string? WaitingOf(string status, string? image) => status switch
    {
        Builds.Status.Queued => WaitingFor(image),
        Builds.Status.AwaitingApproval => "waiting for approval by a member",
        Builds.Status.Waiting => "waiting for the blocks it depends on",
        _ => null,
    };
}

/// <summary>A shared script version a build pinned (<see cref="Pinned"/>: its command names the version itself).</summary>
public sealed record SnapshotScriptResponse(string Name, int Version, bool Pinned);

/// <summary>What a build ran with (<c>GET /api/v1/builds/{id}/snapshot</c>): the settings and the script versions its
/// deploys run too.</summary>
public sealed record BuildSnapshotResponse(long BuildId, DateTimeOffset TakenAt, BuildSettings Settings, IReadOnlyList<SnapshotScriptResponse> Scripts)
{
    public static BuildSnapshotResponse From(long buildId, BuildSnapshot snapshot) => new(
        buildId, DateTimeOffset.FromUnixTimeMilliseconds(snapshot.TakenAt), snapshot.Settings,
        snapshot.Scripts.Select(s => new SnapshotScriptResponse(s.Name, s.Version, s.Pinned)).ToList());

    /// <summary>What a build from before snapshots says instead.</summary>
    public static string NoneMessage(long buildId) =>
        $"Build {buildId} was created before builds recorded what they ran with: it has no snapshot, and its deploys run the " +
        "project's current setup and the newest version of each shared script.";
}

public sealed record BuildResponse(
    long Id, string Project, string Status, string Branch, string CommitSha, string CommitMessage, string CommitAuthor,
    string Trigger, string? TriggeredBy, DateTimeOffset QueuedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    IReadOnlyList<JobResponse> Jobs)
{
    public static BuildResponse From(BuildRow b, IEnumerable<JobRow> jobs, IEnumerable<CommandRow> commands)
    {
        var byJob = commands.ToLookup(c => c.JobId);
        return new BuildResponse(b.Id, b.ProjectSlug, b.Status, b.Branch, b.CommitSha, b.CommitMessage, b.CommitAuthor,
            b.TriggerKind, b.TriggeredBy, DateTimeOffset.FromUnixTimeMilliseconds(b.QueuedAt),
            BuildSummary.Time(b.StartedAt), BuildSummary.Time(b.FinishedAt),
            jobs.Select(j => new JobResponse(j.Id, j.Name, j.Status, j.Error, DateTimeOffset.FromUnixTimeMilliseconds(j.QueuedAt),
                BuildSummary.Time(j.StartedAt), BuildSummary.Time(j.FinishedAt), j.LogBytes,
                byJob[j.Id].Select(c => new CommandResponse(c.Idx, c.Phase, c.Text, c.Status, c.ExitCode, c.DurationMs,
                    BuildSummary.Time(c.StartedAt), c.ParentIdx,
                    c.ScriptName is { } script ? $"{script}@{c.ScriptVersion}" : null)).ToList(),
                j.Image, j.Status == Builds.Status.Waiting ? $"waiting for {string.Join(", ", j.NeedsList)} to pass" : JobResponse.WaitingOf(j.Status, j.Image))
            {
                Block = j.Block, Needs = j.Needs is null ? null : j.NeedsList, Reused = BuildService.IsReused(j.Error),
            }).ToList())
        {
            Ref = b.RefKind, Tag = b.Tag, Variables = b.VariablesMap, RerunOf = b.RerunOf, RerunFailed = b.RerunFailed,
            CanceledBy = b.CanceledBy, CanceledAt = BuildSummary.Time(b.CanceledAt),
            CancelReason = b.CancelReason,
            FromFork = b.FromFork, PullRequest = b.PullRequest, PullRequestAuthor = b.PullRequestAuthor,
            ApprovedBy = b.ApprovedBy, ApprovedAt = BuildSummary.Time(b.ApprovedAt),
        };
    }

    /// <summary>A pull request's code from a fork: it runs without secrets, may wait for approval, and is never deployed.</summary>
    public bool FromFork { get; init; }

    /// <summary>Why the portal stopped the build by itself ("canceled by a newer push (build 12)", a build time limit).</summary>
    public string? CancelReason { get; init; }

    /// <summary>The pull request the build is of, and the GitHub login of who opened it.</summary>
    public int? PullRequest { get; init; }

    /// <inheritdoc cref="PullRequest"/>
    public string? PullRequestAuthor { get; init; }

    /// <summary>Who let the build run after it waited for approval, and when; null for a build that never waited.</summary>
    public string? ApprovedBy { get; init; }

    /// <inheritdoc cref="ApprovedBy"/>
    public DateTimeOffset? ApprovedAt { get; init; }

    /// <summary>What was built: <c>branch</c> (its head), <c>tag</c> (then <see cref="Tag"/> names it) or <c>commit</c>.</summary>
    public string Ref { get; init; } = RefKinds.Branch;

    /// <inheritdoc cref="Ref"/>
    public string? Tag { get; init; }

    /// <summary>The extra plain variables the build was started with (empty: none).</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    /// <summary>The build this one reruns, and whether only its failed jobs ran again.</summary>
    public long? RerunOf { get; init; }

    /// <inheritdoc cref="RerunOf"/>
    public bool RerunFailed { get; init; }

    /// <summary>Who canceled the build and when (null when no person did).</summary>
    public string? CanceledBy { get; init; }

    /// <inheritdoc cref="CanceledBy"/>
    public DateTimeOffset? CanceledAt { get; init; }
}
