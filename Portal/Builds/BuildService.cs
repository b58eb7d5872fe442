using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Builds;

/// <summary>A commit to build as an event describes it. <see cref="FromFork"/>: a pull request's code from a fork;
/// <see cref="PullRequestAuthor"/>: the GitHub login of who opened the pull request.</summary>
public sealed record CommitBuildRequest(
    string Branch, string Sha, string Message, string Author, string Trigger, string? User,
    bool FromFork = false, int? PullRequest = null, string? PullRequestSource = null, string? PullRequestAuthor = null);

/// <summary>Starts, cancels, reruns and approves builds, and wakes runners when work is queued.</summary>
public sealed class BuildService(ProjectStore projects, ProjectService projectService, BuildStore builds, GitMirror git,
    WorkSignal signal, LiveUpdates live, Scripts.ScriptPlanner scripts, AuditLog audit, IOptions<KaizenOptions> options, TimeProvider time,
    BuildFactsReader facts, SettingsSourceStore sources, RepositorySettings repository, BuildRefResolver refs)
{
    /// <summary>Builds the current head of <paramref name="branch"/> (fetched from the repository first).
    /// <paramref name="fromFork"/> marks a pull request's code from a fork: it runs without secrets and is never deployed.
    /// <paramref name="variables"/>: extra plain variables for this build only (checked by the caller, see <see cref="RunVariables"/>).</summary>
    public async Task<Outcome<long>> StartAsync(ProjectRow project, string? branch, string trigger, string? user, CancellationToken ct,
        bool fromFork = false, IReadOnlyDictionary<string, string>? variables = null)
    {
        branch = string.IsNullOrWhiteSpace(branch) ? project.DefaultBranch : branch.Trim();
        if (BranchNames.Problem(branch) is { } branchProblem) return Outcome<long>.Fail(Problem.Invalid, branchProblem);
        var source = await sources.GetAsync(project.Id, ct);
        if (!source.InRepository && !project.Settings.HasJobs)
            return Outcome<long>.Fail(Problem.Invalid,
                $"Project '{project.Slug}' has no jobs yet: add build settings first (PUT /api/v1/projects/{project.Slug}/settings).");

        var head = await HeadAsync(project, branch, ct);
        if (!head.Ok) return Outcome<long>.Fail(head.Problem!.Value, head.Message!);

        var (settings, errors) = await SettingsAtAsync(project, source, head.Value!.HeadSha, null, ct);
        if (settings is null)
            return Outcome<long>.Of(await FailedAtOnceAsync(BuildStore.Plan(project.Id, BuildSettings.Empty, branch, head.Value.HeadSha,
                head.Value.HeadMessage, head.Value.HeadAuthor, trigger, user) with { FromFork = fromFork }, errors, ct));
        var plan = BuildStore.Plan(project.Id, settings, branch, head.Value!.HeadSha, head.Value.HeadMessage, head.Value.HeadAuthor,
            trigger, user, await facts.ReadAsync(project, settings, branch, head.Value.HeadSha, false, ct), Limits) with { FromFork = fromFork };
        var id = await builds.CreateAsync(await PlannedAsync(project, settings, RunVariables.Apply(plan, variables), ct), ct);
        await AutoCancelAsync(project, settings, branch, head.Value.HeadSha, id, trigger, ct);
        Queued(project.Id, id);
        return Outcome<long>.Of(id);
    }

    /// <summary>
    /// Run build…: builds what a person asked for, a branch's head, a tag or a commit (<paramref name="reference"/>, resolved with
    /// real git; without it, <paramref name="branch"/> or the default branch as before), with extra plain variables for this
    /// build only. Bad variables or an unknown ref change nothing. Audited: who, what was built and the variables' names
    /// (their values are on the build page for whoever reads it).
    /// </summary>
    public async Task<Outcome<long>> RunAsync(ProjectRow project, string? reference, string? branch,
        IReadOnlyList<KeyValuePair<string, string?>>? variables, string trigger, ClaimsPrincipal user, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(user);
        // Readers (viewers, visitors of a public project) read builds; only members and admins start them.
        if (!user.IsInRole(Auth.Roles.Admin) && !user.IsInRole(Auth.Roles.Member))
            return Outcome<long>.Fail(Problem.Forbidden, "Only members and admins start builds.");
        variables ??= [];
        if (RunVariables.Errors(variables) is { Count: > 0 } errors) return Outcome<long>.Fail(Problem.Invalid, string.Join(" ", errors));
        var given = variables.ToDictionary(v => v.Key, v => v.Value!, StringComparer.Ordinal);
        var name = AuditLog.ActorOf(user);
        Outcome<long> started;
        string what;
        if (reference is null)
        {
            started = await StartAsync(project, branch, trigger, name, ct, variables: given);
            what = $"branch {(string.IsNullOrWhiteSpace(branch) ? project.DefaultBranch : branch.Trim())}";
        }
        else
        {
            var resolved = await refs.ResolveAsync(project, reference, ct);
            if (!resolved.Ok) return Outcome<long>.Fail(resolved.Problem!.Value, resolved.Message!);
            var r = resolved.Value!;
            started = r.Kind == RefKinds.Branch
                ? await StartAsync(project, r.Branch, trigger, name, ct, variables: given)
                : await StartResolvedAsync(project, r, trigger, name, given, ct);
            what = r.Kind == RefKinds.Commit ? $"commit {r.Sha} (on {r.Branch})" : $"{r.Kind} {r.Name}";
        }
        if (started.Ok)
        {
            var at = (await builds.FindAsync(started.Value, ct))?.CommitSha ?? "";
            await audit.RecordAsync(user, AuditActions.BuildStarted, $"project:{project.Slug}/build:{started.Value}",
                $"{what} at {at}" + (given.Count > 0 ? $"; variables {string.Join(", ", given.Keys.Order(StringComparer.Ordinal))}" : ""), ct);
        }
        return started;
    }

    /// <summary>A tag or a commit: built as it is, never auto-canceling builds of a branch (it is not a branch's newest push).</summary>
    private async Task<Outcome<long>> StartResolvedAsync(ProjectRow project, ResolvedRef r, string trigger, string user,
        IReadOnlyDictionary<string, string> variables, CancellationToken ct)
    {
        var source = await sources.GetAsync(project.Id, ct);
        if (!source.InRepository && !project.Settings.HasJobs)
            return Outcome<long>.Fail(Problem.Invalid,
                $"Project '{project.Slug}' has no jobs yet: add build settings first (PUT /api/v1/projects/{project.Slug}/settings).");
        var tag = r.Kind == RefKinds.Tag ? r.Name : null;
        var (settings, errors) = await SettingsAtAsync(project, source, r.Sha, null, ct);
        if (settings is null)
            return Outcome<long>.Of(await FailedAtOnceAsync(BuildStore.Plan(project.Id, BuildSettings.Empty, r.Branch, r.Sha, r.Message,
                r.Author, trigger, user) with { RefKind = r.Kind, Tag = tag }, errors, ct));
        var plan = BuildStore.Plan(project.Id, settings, r.Branch, r.Sha, r.Message, r.Author, trigger, user,
            await facts.ReadAsync(project, settings, r.Branch, r.Sha, false, ct), Limits) with { RefKind = r.Kind, Tag = tag };
        var id = await builds.CreateAsync(await PlannedAsync(project, settings, RunVariables.Apply(plan, variables), ct), ct);
        Queued(project.Id, id);
        return Outcome<long>.Of(id);
    }

    /// <summary>
    /// Where <paramref name="branch"/> is now. The repository is asked (ls-remote: no objects, one round trip), because
    /// a build requested right after a push must build the pushed commit and nothing else tells the portal of a push
    /// that came without a webhook; the mirror is fetched only when that commit is new to it. Where an operator accepts
    /// a head a few seconds old (<see cref="GitOptions.BranchHeadMaxAgeSeconds"/>), a head confirmed that recently is
    /// used without asking: the round trip is most of a request's time when the repository is far away.
    /// </summary>
    private async Task<Outcome<BranchRow>> HeadAsync(ProjectRow project, string branch, CancellationToken ct)
    {
        var stored = (await projects.BranchesAsync(project.Id, ct)).FirstOrDefault(b => b.Name == branch);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var maxAgeMs = options.Value.Git.BranchHeadMaxAgeSeconds * 1000;
        if (stored is not null && maxAgeMs > 0 && now - stored.UpdatedAt is var age && age >= 0 && age <= maxAgeMs)
            return Outcome<BranchRow>.Of(stored);

        var remote = await git.RemoteHeadAsync(project.GitUrl, branch, ct);
        if (!remote.Ok) return Outcome<BranchRow>.Fail(Problem.Invalid, remote.Error!);
        if (remote.Value is null) return Outcome<BranchRow>.Fail(Problem.NotFound, $"Branch '{branch}' does not exist in {Kaizen.Runner.Checkout.GitUrlCredentials.Hide(project.GitUrl)}.");
        if (stored is not null && stored.HeadSha == remote.Value)
        {
            // Only a reuse window reads the confirmation time; without one, spare the write.
            if (maxAgeMs > 0) await projects.ConfirmBranchAsync(project.Id, branch, stored.HeadSha, now, ct);
            return Outcome<BranchRow>.Of(stored);
        }

        var refreshed = await projectService.RefreshBranchesAsync(project.Id, project.GitUrl, ct);
        if (!refreshed.Ok) return Outcome<BranchRow>.Fail(Problem.Invalid, refreshed.Message!);
        return refreshed.Value!.FirstOrDefault(b => b.Name == branch) is { } head
            ? Outcome<BranchRow>.Of(head)
            : Outcome<BranchRow>.Fail(Problem.NotFound, $"Branch '{branch}' does not exist in {Kaizen.Runner.Checkout.GitUrlCredentials.Hide(project.GitUrl)}.");
    }

    /// <summary>Builds an exact commit that an event reported (a push, a pull request), without asking the repository
    /// where a branch is: the event says it. <paramref name="request"/> carries the pull request's number and source.</summary>
    public async Task<Outcome<long>> StartCommitAsync(ProjectRow project, CommitBuildRequest request, CancellationToken ct)
    {
        var source = await sources.GetAsync(project.Id, ct);
        if (!source.InRepository && !project.Settings.HasJobs)
            return Outcome<long>.Fail(Problem.Invalid, $"Project '{project.Slug}' has no jobs yet, so nothing was built.");
        var (settings, errors) = await SettingsAtAsync(project, source, request.Sha, request.PullRequest, ct);
        if (settings is null)
            return Outcome<long>.Of(await FailedAtOnceAsync(BuildStore.Plan(project.Id, BuildSettings.Empty, request.Branch, request.Sha,
                request.Message, request.Author, request.Trigger, request.User) with
            {
                FromFork = request.FromFork, PullRequest = request.PullRequest, PullRequestSource = request.PullRequestSource,
                PullRequestAuthor = request.PullRequestAuthor,
            }, errors, ct));
        var plan = BuildStore.Plan(project.Id, settings, request.Branch, request.Sha, request.Message, request.Author, request.Trigger,
            request.User, await facts.ReadAsync(project, settings, request.Branch, request.Sha, request.PullRequest is not null, ct), Limits) with
        {
            FromFork = request.FromFork, PullRequest = request.PullRequest, PullRequestSource = request.PullRequestSource,
            PullRequestAuthor = request.PullRequestAuthor,
            AwaitingApproval = await NeedsApprovalAsync(project, request.FromFork, request.PullRequestAuthor, ct),
        };
        var id = await builds.CreateAsync(await PlannedAsync(project, settings, plan, ct), ct);
        await AutoCancelAsync(project, settings, request.Branch, request.Sha, id, request.Trigger, ct);
        Queued(project.Id, id);
        return Outcome<long>.Of(id);
    }

    /// <summary>Whether a build of a fork's pull request by <paramref name="author"/> must wait for a member's approval,
    /// as the project's <see cref="ProjectRow.ForkApproval"/> says. Same-repository pull requests and pushes never wait.</summary>
    public async Task<bool> NeedsApprovalAsync(ProjectRow project, bool fromFork, string? author, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(project);
        if (!fromFork) return false;
        return project.ForkApproval switch
        {
            ForkApproval.Never => false,
            // An author we cannot name cannot be recognised.
            ForkApproval.FirstTime => string.IsNullOrWhiteSpace(author) || !await builds.ForkAuthorKnownAsync(project.Id, author, ct),
            // Always, and anything unexpected in the column: waiting is the safe side.
            _ => true,
        };
    }

    /// <summary>
    /// Lets a build held for approval run: its jobs join the queue, runners are woken, and the approval is audited.
    /// Conflict when the build is not awaiting approval (approved already, canceled, or never held): nothing changes.
    /// </summary>
    public async Task<Outcome<BuildRow>> ApproveAsync(BuildRow build, ClaimsPrincipal user, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(user);
        var approver = AuditLog.ActorOf(user);
        if (!await builds.ApproveAsync(build.Id, approver, ct))
        {
            var now = await builds.FindAsync(build.Id, ct);
            return Outcome<BuildRow>.Fail(Problem.Conflict, now switch
            {
                null => $"Build {build.Id} no longer exists.",
                { ApprovedBy: { } by } => $"Build {build.Id} was already approved by {by}; it is {Words(now.Status)}.",
                _ => $"Build {build.Id} is not awaiting approval (it is {Words(now.Status)}), so there is nothing to approve.",
            });
        }
        await audit.RecordAsync(user, AuditActions.BuildApproved, $"project:{build.ProjectSlug}/build:{build.Id}",
            $"{build.Source} by {build.PullRequestAuthor ?? build.CommitAuthor} at {build.CommitSha}", ct);
        live.Publish(LiveUpdates.Keys.Build(build.Id));
        Queued(build.ProjectId, build.Id);
        return Outcome<BuildRow>.Of((await builds.FindAsync(build.Id, ct))!);
    }

    private static string Words(string status) => status.Replace('_', ' ');

    /// <summary>Runs a build's commit again with the project's current settings; a shared script the build ran as its latest
    /// version runs that same version again (a rerun retries what ran; a new build takes the newest). It keeps what was
    /// built (branch, tag or commit) and the build's extra variables, and records which build it reruns and who asked.
    /// <paramref name="onlyFailed"/>: only the jobs that failed or were canceled run again, with the jobs that depend on them;
    /// a job that passed in <paramref name="build"/> is not run and shows as passed there (see <see cref="ReusedReason"/>).
    /// <paramref name="by"/>: the person (null: the portal); audited when given.</summary>
    public async Task<Outcome<long>> RerunAsync(BuildRow build, string? user, CancellationToken ct, bool onlyFailed = false,
        ClaimsPrincipal? by = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        var project = await projects.FindBySlugAsync(build.ProjectSlug, ct);
        if (project is null) return Outcome<long>.Fail(Problem.NotFound, "The build's project no longer exists.");
        var original = await builds.JobsAsync(build.Id, ct);
        if (onlyFailed)
        {
            if (!Status.IsFinished(build.Status))
                return Outcome<long>.Fail(Problem.Conflict, $"Build {build.Id} is still {Words(build.Status)}: rerun its failed jobs once it has finished.");
            if (!original.Any(j => j.Status is Status.Failed or Status.Canceled))
                return Outcome<long>.Fail(Problem.Conflict, $"Build {build.Id} has no failed or canceled jobs to rerun.");
        }
        var source = await sources.GetAsync(project.Id, ct);
        if (!source.InRepository && !project.Settings.HasJobs)
            return Outcome<long>.Fail(Problem.Invalid, $"Project '{project.Slug}' has no jobs configured.");
        var (settings, errors) = await SettingsAtAsync(project, source, build.CommitSha, build.PullRequest, ct);
        NewBuild Same(NewBuild plan) => plan with
        {
            FromFork = build.FromFork, PullRequest = build.PullRequest, PullRequestSource = build.PullRequestSource,
            PullRequestAuthor = build.PullRequestAuthor, RefKind = build.RefKind, Tag = build.Tag, RerunOf = build.Id,
            RerunFailed = onlyFailed, Variables = build.VariablesMap.Count > 0 ? build.VariablesMap : null,
        };
        long id;
        if (settings is null)
        {
            id = await FailedAtOnceAsync(Same(BuildStore.Plan(project.Id, BuildSettings.Empty, build.Branch, build.CommitSha,
                build.CommitMessage, build.CommitAuthor, Trigger.Rerun, user)), errors, ct);
        }
        else
        {
            // A rerun of a fork's build is still the fork's code.
            // It waits for approval again as the project says: approving a build lets that build run, not its reruns.
            var plan = Same(BuildStore.Plan(project.Id, settings, build.Branch, build.CommitSha, build.CommitMessage,
                build.CommitAuthor, Trigger.Rerun, user,
                await facts.ReadAsync(project, settings, build.Branch, build.CommitSha, build.PullRequest is not null, ct), Limits)) with
            {
                AwaitingApproval = await NeedsApprovalAsync(project, build.FromFork, build.PullRequestAuthor, ct),
            };
            plan = RunVariables.Apply(plan, build.VariablesMap);
            if (onlyFailed)
            {
                plan = OnlyFailed(plan, original, build.Id);
                if (plan.Jobs.All(j => j.SkipReason is not null))
                    return Outcome<long>.Fail(Problem.Conflict,
                        $"None of build {build.Id}'s failed jobs is in the project's build settings any more: rerun the whole build instead.");
            }
            var recorded = Scripts.ScriptPlanner.Recorded(await builds.CommandsOfBuildAsync(build.Id, ct));
            id = await builds.CreateAsync(await PlannedAsync(project, settings, plan, ct, recorded), ct);
            Queued(project.Id, id);
        }
        if (by is not null)
            await audit.RecordAsync(by, AuditActions.BuildRerun, $"project:{project.Slug}/build:{id}",
                $"{(onlyFailed ? "failed jobs of" : "rerun of")} build {build.Id} ({build.RefKind} {build.Tag ?? build.Branch} at {build.CommitSha})", ct);
        return Outcome<long>.Of(id);
    }

    /// <summary>Why a job of a rerun of failed jobs did not run: "skipped: passed in build 12, not run again". It starts like a
    /// condition's skip, so the jobs that depend on its block still run.</summary>
    public static string ReusedReason(long original) => SkipReasons.Condition($"passed in build {original}, not run again");

    /// <summary>Whether a job did not run because it passed in the build a rerun repeats.</summary>
    public static bool IsReused(string? error) => error?.StartsWith("skipped: passed in build ", StringComparison.Ordinal) == true;

    /// <summary>The plan with every job that passed in <paramref name="original"/> created already done (skipped with
    /// <see cref="ReusedReason"/>). Jobs that failed, were canceled or skipped because of them, and jobs new to the settings, run.</summary>
    private static NewBuild OnlyFailed(NewBuild plan, IReadOnlyList<JobRow> original, long originalId)
    {
        // A job a rerun of failed jobs already reused passed earlier still: it keeps saying in which build it ran.
        var passed = original.Where(j => j.Status == Status.Passed || j.Status == Status.Skipped && IsReused(j.Error))
            .GroupBy(j => (j.Block, j.Name))
            .ToDictionary(g => g.Key, g => g.First().Status == Status.Passed ? ReusedReason(originalId) : g.First().Error!);
        return plan with
        {
            Jobs = plan.Jobs.Select(j => j.SkipReason is null && j.FailReason is null && passed.TryGetValue((j.Block, j.Name), out var reason)
                ? j with { SkipReason = reason }
                : j).ToList(),
        };
    }

    /// <summary>Cancels a build; <paramref name="by"/> is the person who did (kept on the build and audited), null for the portal.</summary>
    public async Task<bool> CancelAsync(BuildRow build, CancellationToken ct, ClaimsPrincipal? by = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        var canceled = await builds.CancelAsync(build.Id, ct, canceledBy: by is null ? null : AuditLog.ActorOf(by));
        if (canceled)
        {
            if (by is not null)
                await audit.RecordAsync(by, AuditActions.BuildCanceled, $"project:{build.ProjectSlug}/build:{build.Id}",
                    $"{build.Status} build of {build.Tag ?? build.Branch} at {build.CommitSha}", ct);
            live.Publish(LiveUpdates.Keys.Build(build.Id), LiveUpdates.Keys.Project(build.ProjectId), LiveUpdates.Keys.Dashboard);
        }
        return canceled;
    }

    /// <summary>
    /// Auto-cancel (<see cref="BuildSettings.AutoCancel"/>): a new build of a branch at another commit, from a push or a
    /// request to build the branch's head, cancels the branch's older builds that are still waiting or running, saying so
    /// on each. Reruns never cancel anything: they retry a commit on purpose.
    /// </summary>
    private async Task AutoCancelAsync(ProjectRow project, BuildSettings settings, string branch, string sha, long newer, string trigger,
        CancellationToken ct)
    {
        if (settings.AutoCancel != true || trigger == Trigger.Rerun) return;
        foreach (var older in await builds.ActiveOfBranchAsync(project.Id, branch, ct))
        {
            if (older.Id >= newer || older.CommitSha == sha) continue;
            if (await builds.CancelAsync(older.Id, ct, CancelReasons.NewerPush(newer)))
                live.Publish(LiveUpdates.Keys.Build(older.Id), LiveUpdates.Keys.Project(project.Id), LiveUpdates.Keys.Dashboard);
        }
    }

    /// <summary>The build with its shared scripts resolved and the snapshot of what it runs with, which its deploys run.</summary>
    private async Task<NewBuild> PlannedAsync(ProjectRow project, BuildSettings settings, NewBuild plan, CancellationToken ct,
        IReadOnlyDictionary<string, int>? recorded = null)
    {
        var expanded = await scripts.ExpandAsync(plan, ct, recorded);
        return expanded with { Snapshot = await scripts.SnapshotAsync(project.Slug, settings, expanded, ct, recorded) };
    }

    /// <summary>The settings a build of <paramref name="sha"/> runs with: the project's, or in repository mode its own
    /// commit's <see cref="SettingsLocations.FileName"/> (null with the file's errors when it is missing or invalid).</summary>
    /// <summary>The portal's limits for settings that name none (<c>Kaizen:Builds</c>; checked at start).</summary>
    private (TimeSpan Job, TimeSpan? Build) Limits => TimeLimits.Defaults(options.Value.Builds);

    private async Task<(BuildSettings? Settings, IReadOnlyList<string> Errors)> SettingsAtAsync(ProjectRow project, ProjectSettingsText source,
        string sha, int? pullRequest, CancellationToken ct)
    {
        if (!source.InRepository) return (project.Settings, []);
        var read = await repository.ReadAsync(project, sha, pullRequest, ct);
        return (read.Settings, read.Errors);
    }

    /// <summary>A build whose settings file is missing or invalid: created failed at once, with one job named after the
    /// file whose error lists what to fix (with the file's line numbers), so the build page and the API both say why.
    /// Nothing runs, so nothing waits for approval either.</summary>
    private async Task<long> FailedAtOnceAsync(NewBuild plan, IReadOnlyList<string> errors, CancellationToken ct)
    {
        var why = $"{SettingsLocations.FileName} at {plan.CommitSha[..Math.Min(12, plan.CommitSha.Length)]} cannot be used:\n" +
            string.Join("\n", errors);
        var id = await builds.CreateAsync(plan with
        {
            Jobs = [new NewJob(SettingsLocations.FileName, [], FailReason: why)],
            AwaitingApproval = false,
        }, ct);
        live.Publish(LiveUpdates.Keys.Build(id), LiveUpdates.Keys.Project(plan.ProjectId), LiveUpdates.Keys.Dashboard);
        return id;
    }

    private void Queued(long projectId, long buildId)
    {
        signal.Pulse();
        live.Publish(LiveUpdates.Keys.Project(projectId), LiveUpdates.Keys.Dashboard);
    }
}
