namespace Kaizen.Portal.Builds;

/// <summary>Status words shared by builds, jobs and the API.</summary>
public static class Status
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string Canceled = "canceled";

    /// <summary>A fork's pull request held until a member approves it: its jobs exist but no runner may claim them.
    /// The same word as a deploy waiting for approval, so both read alike wherever statuses show.</summary>
    public const string AwaitingApproval = "awaiting_approval";

    /// <summary>A job of a block that waits for the blocks it depends on; no runner may claim it yet.</summary>
    public const string Waiting = "waiting";

    // Commands; and jobs that did not run (a condition, a failed dependency, fail fast), with why in their error.
    public const string Pending = "pending";
    public const string Skipped = "skipped";

    public static bool IsFinished(string status) => status is Passed or Failed or Canceled or Skipped;

    /// <summary>Not started yet and not finished: queued for a runner, or waiting for a member's approval first.</summary>
    public static bool IsWaiting(string status) => status is Queued or AwaitingApproval;

    /// <summary>A build's status from its jobs' statuses. Skipped jobs count as done and neither pass nor fail it (a
    /// job skipped because another failed sits beside that failure).</summary>
    public static string Combine(IReadOnlyCollection<string> jobs)
    {
        if (jobs.Count == 0) return Failed;
        if (jobs.All(IsFinished))
        {
            if (jobs.Contains(Failed)) return Failed;
            return jobs.Contains(Canceled) ? Canceled : Passed;
        }
        // Approval moves every job of a build at once, so a held build's jobs are all held (or skipped by a condition).
        if (jobs.Where(s => s != Skipped).All(s => s == AwaitingApproval)) return AwaitingApproval;
        return jobs.Any(s => s is not (Queued or Waiting or Skipped)) ? Running : Queued;
    }
}

public static class Trigger
{
    public const string Manual = "manual";
    public const string Api = "api";
    public const string Rerun = "rerun";
    public const string PullRequest = "pull_request";
    public const string Push = "push";

    /// <summary>A new commit the portal found when it read the repository (no webhook needed).</summary>
    public const string Poll = "poll";
}

/// <summary>What a build was asked to build.</summary>
public static class RefKinds
{
    public const string Branch = "branch";
    public const string Tag = "tag";
    public const string Commit = "commit";
}

public sealed class BuildRow
{
    public long Id { get; init; }
    public long ProjectId { get; init; }
    public string ProjectSlug { get; init; } = "";
    public string Branch { get; init; } = "";
    public string CommitSha { get; init; } = "";
    public string CommitMessage { get; init; } = "";
    public string CommitAuthor { get; init; } = "";
    public string TriggerKind { get; init; } = "";
    public string? TriggeredBy { get; init; }
    public string Status { get; init; } = "";
    public long QueuedAt { get; init; }
    public long? StartedAt { get; init; }
    public long? FinishedAt { get; init; }

    /// <summary>A pull request from a fork: untrusted code, so no secrets and no deploys.</summary>
    public bool FromFork { get; init; }

    /// <summary>The pull request this build is of (its <see cref="Branch"/> is then <c>pull/N</c>), or null.</summary>
    public int? PullRequest { get; init; }

    /// <summary>Where a pull request's head comes from, as "owner/branch".</summary>
    public string? PullRequestSource { get; init; }

    /// <summary>The GitHub login of the pull request's author (who opened it), or null for a branch build.</summary>
    public string? PullRequestAuthor { get; init; }

    /// <summary>Who let a held fork build run (see <see cref="Status.AwaitingApproval"/>), and when (unix ms).</summary>
    public string? ApprovedBy { get; init; }

    /// <inheritdoc cref="ApprovedBy"/>
    public long? ApprovedAt { get; init; }

    /// <summary>Why the portal canceled the build (e.g. "canceled by a newer push (build 12)"), or null.</summary>
    public string? CancelReason { get; init; }

    /// <summary>What was asked to be built: a branch's head (<see cref="RefKinds.Branch"/>), a tag or a commit (Run build…).</summary>
    public string RefKind { get; init; } = RefKinds.Branch;

    /// <summary>The tag a build of a tag was started from (its <see cref="Branch"/> holds the same name), or null.</summary>
    public string? Tag { get; init; }

    /// <summary>The extra plain variables given for this one build, as a JSON object (null: none). See <see cref="RunVariables"/>.</summary>
    public string? Variables { get; init; }

    /// <summary><see cref="Variables"/> by name, in name order.</summary>
    public IReadOnlyDictionary<string, string> VariablesMap => RunVariables.Parse(Variables);

    /// <summary>The build this one reruns (null: not a rerun); <see cref="RerunFailed"/>: only the jobs that failed in it ran.</summary>
    public long? RerunOf { get; init; }

    /// <inheritdoc cref="RerunOf"/>
    public bool RerunFailed { get; init; }

    /// <summary>Who canceled the build and when (unix ms); null when no person did (or it was never canceled).</summary>
    public string? CanceledBy { get; init; }

    /// <inheritdoc cref="CanceledBy"/>
    public long? CanceledAt { get; init; }

    /// <summary>How people read where the build comes from: the branch, or "PR #12 from fork owner/branch".</summary>
    public string Source => PullRequest is { } number
        ? $"PR #{number} from {(FromFork ? "fork " : "")}{PullRequestSource}"
        : Branch;
}

public sealed class JobRow
{
    public long Id { get; init; }
    public long BuildId { get; init; }
    public string Name { get; init; } = "";
    public int Position { get; init; }
    public string Status { get; init; } = "";
    public long? RunnerId { get; init; }
    public long? LeaseExpiresAt { get; init; }
    public bool CancelRequested { get; init; }
    public long LastSeq { get; init; }
    public long LogBytes { get; init; }
    public string? Error { get; init; }
    public long QueuedAt { get; init; }
    public long? StartedAt { get; init; }
    public long? FinishedAt { get; init; }

    /// <summary>Set when the job is a deploy's (of <see cref="BuildId"/>'s commit) rather than one of the build's jobs.</summary>
    public long? DeployId { get; init; }

    /// <summary>The image the job runs in (null: on a runner's shell); only runners offering <c>docker</c> claim it.</summary>
    public string? Image { get; init; }

    /// <summary>The job's block (null: the one block of flat settings).</summary>
    public string? Block { get; init; }

    /// <summary>The blocks that must pass before the job starts, as a JSON list (null: none).</summary>
    public string? Needs { get; init; }

    /// <summary>The blocks of <see cref="Needs"/>.</summary>
    public IReadOnlyList<string> NeedsList => PipelineScheduler.ParseNeeds(Needs);
}

public sealed class CommandRow
{
    public long JobId { get; init; }
    public int Idx { get; init; }
    public string Phase { get; init; } = "";
    public string Text { get; init; } = "";
    public string Status { get; init; } = "";
    public long? StartedAt { get; init; }
    public long? DurationMs { get; init; }
    public int? ExitCode { get; init; }

    /// <summary>Set on a step of a shared script: the index of the script's section (its <c>run-script</c> command).</summary>
    public int? ParentIdx { get; init; }

    /// <summary>Set on a shared script's section: the script and the version this job runs (resolved when it was planned).</summary>
    public string? ScriptName { get; init; }

    /// <inheritdoc cref="ScriptName"/>
    public int? ScriptVersion { get; init; }
}
