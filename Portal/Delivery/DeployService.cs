using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Delivery;

/// <summary>
/// The rules of delivery: who may change servers, request, approve, reject and cancel deploys; when a deploy starts
/// (approved, its server not cordoned, no other deploy of that server running: one at a time, in order); and the
/// automatic deploys that follow a passed build. Every change is audited and published to live pages.
/// </summary>
public sealed class DeployService(DeployStore store, ProjectStore projects, BuildStore builds, AuditLog audit, LiveUpdates live,
    WorkSignal signal, TimeProvider time, ILogger<DeployService> logger, Scripts.ScriptPlanner scripts, Scripts.ScriptLibrary library)
{
    public const int HistoryLimit = 100;

    // Deploy state changes are rare and short: one lock keeps this portal from starting two deploys of a server at
    // once (the database transaction guards against other portal processes).
    private readonly SemaphoreSlim _gate = new(1, 1);

    public static string ServerTarget(string projectSlug, string server) => $"project:{projectSlug}/server:{server}";

    public static string DeployTarget(DeployRow d) => $"{ServerTarget(d.ProjectSlug, d.ServerName)}/deploy:{d.Id}";

    // ---- Servers ----

    /// <summary>Whether a server is guarded: it needs approvals, or only admins may deploy to it. What its deploys run and
    /// receive is changed by admins alone.</summary>
    public static bool IsGuarded(ServerRow server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return server.Approvals > 0 || server.Deployers == Deployers.Admins;
    }

    /// <summary>Why <paramref name="actor"/> may not change a server configured like <paramref name="spec"/> (null when
    /// they may). Members manage servers that any member may deploy to without approval; a server that needs approvals
    /// or is for admins only is changed by admins, so nobody lowers a safeguard meant for them.</summary>
    public static string? WhyCannotManage(Actor actor, ServerRow? current, ServerSpec? spec)
    {
        if (actor.Role == Roles.Admin) return null;
        if (actor.Role != Roles.Member) return "Only admins and members may change servers.";
        var guarded = (current is not null && IsGuarded(current))
                      || (spec is not null && (spec.Approvals > 0 || spec.Deployers == Deployers.Admins));
        return guarded ? "Only admins may change a server that needs approvals or that only admins may deploy to." : null;
    }

    public async Task<Outcome<ServerRow>> CreateServerAsync(ProjectRow project, ServerSpec spec, Actor actor, CancellationToken ct = default)
    {
        spec = spec.Normalized();
        if (await InvalidAsync(spec, ct) is { } invalid) return invalid;
        if (WhyCannotManage(actor, null, spec) is { } denied) return Outcome<ServerRow>.Fail(Problem.Forbidden, denied);
        var id = await store.CreateServerAsync(project.Id, spec, actor.Name, ct);
        if (id is null) return Outcome<ServerRow>.Fail(Problem.Conflict, $"Project '{project.Slug}' already has a server named '{spec.Name}'.");
        await audit.RecordAsync(actor.Name, AuditActions.ServerCreated, ServerTarget(project.Slug, spec.Name), Describe(spec), ct);
        live.Publish(LiveUpdates.Keys.Project(project.Id));
        return Outcome<ServerRow>.Of((await store.ServerAsync(id.Value, ct))!);
    }

    public async Task<Outcome<ServerRow>> UpdateServerAsync(ServerRow server, ServerSpec spec, Actor actor, CancellationToken ct = default)
    {
        spec = spec.Normalized();
        if (await InvalidAsync(spec, ct) is { } invalid) return invalid;
        if (WhyCannotManage(actor, server, spec) is { } denied) return Outcome<ServerRow>.Fail(Problem.Forbidden, denied);
        if (!await store.UpdateServerAsync(server.Id, server.ProjectId, spec, actor.Name, ct))
            return Outcome<ServerRow>.Fail(Problem.Conflict, $"Project '{server.ProjectSlug}' already has a server named '{spec.Name}'.");
        var renamed = string.Equals(server.Name, spec.Name, StringComparison.Ordinal) ? "" : $"renamed from {server.Name}; ";
        await audit.RecordAsync(actor.Name, AuditActions.ServerChanged, ServerTarget(server.ProjectSlug, spec.Name), renamed + Describe(spec), ct);
        live.Publish(LiveUpdates.Keys.Project(server.ProjectId), LiveUpdates.Keys.Server(server.Id));
        return Outcome<ServerRow>.Of((await store.ServerAsync(server.Id, ct))!);
    }

    /// <summary>Deletes a server, its history and its variables and secrets; refused while one of its deploys is running.</summary>
    public async Task<Outcome<bool>> DeleteServerAsync(ServerRow server, Actor actor, CancellationToken ct = default)
    {
        if (WhyCannotManage(actor, server, null) is { } denied) return Outcome<bool>.Fail(Problem.Forbidden, denied);
        await _gate.WaitAsync(ct);
        try
        {
            var running = (await store.DeploysOfServerAsync(server.Id, HistoryLimit, ct)).FirstOrDefault(d => d.Status == DeployStatus.Running);
            if (running is not null)
                return Outcome<bool>.Fail(Problem.Conflict, $"Deploy {running.Id} to {server.Name} is running; cancel it or wait for it to finish first.");
            await store.DeleteServerAsync(server.Id, ct);
        }
        finally
        {
            _gate.Release();
        }
        await audit.RecordAsync(actor.Name, AuditActions.ServerDeleted, ServerTarget(server.ProjectSlug, server.Name), null, ct);
        live.Publish(LiveUpdates.Keys.Project(server.ProjectId), LiveUpdates.Keys.Server(server.Id), LiveUpdates.Keys.Approvals);
        return Outcome<bool>.Of(true);
    }

    /// <summary>Cordons (pauses) or uncordons a server. Anyone who may deploy to it may do either: stopping deploys
    /// during an incident must not wait for an admin. Uncordoning starts the next queued deploy.</summary>
    public async Task<Outcome<ServerRow>> SetCordonAsync(ServerRow server, bool cordoned, string? reason, Actor actor, CancellationToken ct = default)
    {
        if (!Deployers.Allows(server.Deployers, actor.Role))
            return Outcome<ServerRow>.Fail(Problem.Forbidden, $"Only people who may deploy to {server.Name} may cordon or uncordon it.");
        reason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        if (reason is { Length: > 1000 }) return Outcome<ServerRow>.Fail(Problem.Invalid, "The reason is at most 1000 characters.");
        await store.SetCordonAsync(server.Id, cordoned, reason, actor.Name, ct);
        await audit.RecordAsync(actor.Name, cordoned ? AuditActions.ServerCordoned : AuditActions.ServerUncordoned,
            ServerTarget(server.ProjectSlug, server.Name), reason, ct);
        live.Publish(LiveUpdates.Keys.Project(server.ProjectId), LiveUpdates.Keys.Server(server.Id));
        if (!cordoned) await StartNextAsync(server.Id, ct);
        return Outcome<ServerRow>.Of((await store.ServerAsync(server.Id, ct))!);
    }

    // ---- Deploys ----

    /// <summary>Asks for a deploy of a passed build to a server of its project. It waits for approvals when the server
    /// needs them, else it starts when the server is free.</summary>
    public async Task<Outcome<DeployRow>> RequestAsync(long buildId, string? serverName, Actor actor, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(serverName)) return Outcome<DeployRow>.Fail(Problem.Invalid, "Say which server to deploy to: { \"server\": \"staging\" }.");
        var build = await builds.FindAsync(buildId, ct);
        if (build is null) return Outcome<DeployRow>.Fail(Problem.NotFound, $"No build {buildId}.");
        var server = await store.FindServerAsync(build.ProjectId, serverName.Trim(), ct);
        if (server is null)
            return Outcome<DeployRow>.Fail(Problem.NotFound, $"Project '{build.ProjectSlug}' has no server '{serverName.Trim()}'.");
        if (!Deployers.Allows(server.Deployers, actor.Role))
            return Outcome<DeployRow>.Fail(Problem.Forbidden, actor.Role == Roles.Viewer
                ? "Viewers cannot deploy."
                : $"Only admins may deploy to {server.Name}.");
        if (WhyNotDeployable(build, server) is { } reason) return Outcome<DeployRow>.Fail(Problem.Conflict, reason);

        var current = (await store.OverviewAsync(build.ProjectId, ct)).First(o => o.Server.Id == server.Id).Current;
        var trigger = current is not null && current.BuildId > build.Id ? DeployTrigger.Rollback : DeployTrigger.Manual;
        var deploy = await CreateAsync(server, build, trigger, actor.Name, ct);
        return Outcome<DeployRow>.Of(deploy);
    }

    /// <summary>Why a build cannot go to a server (null when it can): only passed builds of accepted branches, and never
    /// a fork's pull request.</summary>
    public static string? WhyNotDeployable(BuildRow build, ServerRow server)
    {
        if (build.FromFork) return "A build of a pull request from a fork is never deployed.";
        if (build.Status != Status.Passed) return $"Only a passed build can be deployed; build {build.Id} is {build.Status}.";
        if (!server.AcceptsBranch(build.Branch))
            return $"{server.Name} deploys builds of {server.BranchPattern} only; build {build.Id} is of {build.Branch}.";
        return null;
    }

    public async Task<Outcome<DeployRow>> ApproveAsync(long deployId, Actor actor, string? comment, CancellationToken ct = default) =>
        await DecideAsync(deployId, actor, ApprovalDecision.Approved, comment, ct);

    public async Task<Outcome<DeployRow>> RejectAsync(long deployId, Actor actor, string? comment, CancellationToken ct = default) =>
        await DecideAsync(deployId, actor, ApprovalDecision.Rejected, comment, ct);

    /// <summary>Why <paramref name="actor"/> may not approve or reject the deploy now (null when they may).</summary>
    public static string? WhyCannotDecide(DeployDetails details, ServerRow server, Actor actor)
    {
        var deploy = details.Deploy;
        if (deploy.Status != DeployStatus.AwaitingApproval) return $"Deploy {deploy.Id} is not awaiting approval (it is {deploy.Status}).";
        if (!Deployers.Allows(server.Deployers, actor.Role))
            return actor.Role == Roles.Viewer ? "Viewers cannot approve deploys." : $"Only admins may approve deploys to {server.Name}.";
        if (string.Equals(deploy.RequestedBy, actor.Name, StringComparison.OrdinalIgnoreCase))
            return "You requested this deploy; someone else must approve it.";
        if (details.Decisions.Any(d => string.Equals(d.UserName, actor.Name, StringComparison.OrdinalIgnoreCase)))
            return "You have already decided on this deploy.";
        return null;
    }

    private async Task<Outcome<DeployRow>> DecideAsync(long deployId, Actor actor, string decision, string? comment, CancellationToken ct)
    {
        comment = string.IsNullOrWhiteSpace(comment) ? null : comment.Trim();
        if (comment is { Length: > 2000 }) return Outcome<DeployRow>.Fail(Problem.Invalid, "A comment is at most 2000 characters.");
        var details = await DetailsAsync(deployId, ct);
        if (details is null) return Outcome<DeployRow>.Fail(Problem.NotFound, $"No deploy {deployId}.");
        var server = (await store.ServerAsync(details.Deploy.ServerId, ct))!;
        if (WhyCannotDecide(details, server, actor) is { } denied)
            return Outcome<DeployRow>.Fail(details.Deploy.Status == DeployStatus.AwaitingApproval && !denied.StartsWith("You have", StringComparison.Ordinal)
                ? Problem.Forbidden : Problem.Conflict, denied);

        var status = await store.DecideAsync(deployId, actor.Name, decision, comment, ct);
        if (status is null) return Outcome<DeployRow>.Fail(Problem.Conflict, $"Deploy {deployId} is no longer awaiting approval.");
        var deploy = details.Deploy;
        await audit.RecordAsync(actor.Name, decision == ApprovalDecision.Approved ? AuditActions.DeployApproved : AuditActions.DeployRejected,
            DeployTarget(deploy), comment, ct);
        Changed(deploy);
        if (status == DeployStatus.Queued) await StartNextAsync(deploy.ServerId, ct);
        return Outcome<DeployRow>.Of((await store.FindDeployAsync(deployId, ct))!);
    }

    /// <summary>Cancels a deploy: its requester, an admin, or anyone who may deploy to its server may.</summary>
    public async Task<Outcome<DeployRow>> CancelAsync(long deployId, Actor actor, CancellationToken ct = default)
    {
        var deploy = await store.FindDeployAsync(deployId, ct);
        if (deploy is null) return Outcome<DeployRow>.Fail(Problem.NotFound, $"No deploy {deployId}.");
        var server = (await store.ServerAsync(deploy.ServerId, ct))!;
        var isRequester = string.Equals(deploy.RequestedBy, actor.Name, StringComparison.OrdinalIgnoreCase);
        if (!isRequester && !Deployers.Allows(server.Deployers, actor.Role))
            return Outcome<DeployRow>.Fail(Problem.Forbidden, "Only its requester or someone who may deploy to its server may cancel a deploy.");
        var result = await store.CancelAsync(deployId, $"canceled by {actor.Name}", ct);
        if (result == CancelResult.AlreadyFinished)
            return Outcome<DeployRow>.Fail(Problem.Conflict, $"Deploy {deployId} has already finished ({deploy.Status}).");
        await audit.RecordAsync(actor.Name, AuditActions.DeployCanceled, DeployTarget(deploy),
            result == CancelResult.Stopping ? "stopping its running job" : null, ct);
        Changed(deploy);
        if (result == CancelResult.Canceled) await StartNextAsync(deploy.ServerId, ct);
        return Outcome<DeployRow>.Of((await store.FindDeployAsync(deployId, ct))!);
    }

    public async Task<DeployDetails?> DetailsAsync(long deployId, CancellationToken ct = default)
    {
        var deploy = await store.FindDeployAsync(deployId, ct);
        return deploy is null ? null : new DeployDetails(deploy, await store.DecisionsAsync(deployId, ct));
    }

    /// <summary>The approvals inbox: deploys waiting for approval that <paramref name="actor"/> may approve now.</summary>
    public async Task<IReadOnlyList<DeployDetails>> AwaitingAsync(Actor actor, CancellationToken ct = default)
    {
        var result = new List<DeployDetails>();
        var servers = new Dictionary<long, ServerRow?>();
        foreach (var deploy in await store.AwaitingApprovalAsync(ct))
        {
            if (!servers.TryGetValue(deploy.ServerId, out var server))
                servers[deploy.ServerId] = server = await store.ServerAsync(deploy.ServerId, ct);
            if (server is null) continue;
            var details = new DeployDetails(deploy, await store.DecisionsAsync(deploy.Id, ct));
            if (WhyCannotDecide(details, server, actor) is null) result.Add(details);
        }
        return result;
    }

    // ---- What follows runners' work ----

    /// <summary>
    /// Called when a job finished: a deploy's job finishes its deploy and lets the server's next one start; a build's
    /// last job passing the build starts the automatic deploys of servers that follow its branch.
    /// </summary>
    public async Task JobFinishedAsync(long jobId, long buildId, CancellationToken ct = default)
    {
        var deploy = await store.DeployOfJobAsync(jobId, ct);
        if (deploy is not null)
        {
            await audit.RecordAsync(AuditLog.System, AuditActions.DeployFinished, DeployTarget(deploy), deploy.Status, ct);
            Changed(deploy);
            await StartNextAsync(deploy.ServerId, ct);
            return;
        }
        var build = await builds.FindAsync(buildId, ct);
        if (build is null || build.Status != Status.Passed || build.FromFork) return;
        foreach (var server in await store.ServersAsync(build.ProjectId, ct))
        {
            // Automatic deploys follow a branch's pushes: a tag or an older commit started by hand (Run build…) is deployed by hand.
            if (server.TriggerMode != TriggerMode.Automatic || !server.AcceptsBranch(build.Branch) || build.RefKind != RefKinds.Branch) continue;
            await _gate.WaitAsync(ct);
            try
            {
                // Two jobs finishing together may both see the build pass: the first one requests the deploy.
                if (await store.AutomaticDeployExistsAsync(server.Id, build.Id, ct)) continue;
            }
            finally
            {
                _gate.Release();
            }
            await CreateAsync(server, build, DeployTrigger.Automatic, AuditLog.System, ct);
        }
    }

    /// <summary>How far back the sweep looks for passed builds whose automatic deploys were never requested.</summary>
    public static readonly TimeSpan MissedWindow = TimeSpan.FromMinutes(15);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(long Server, long Build), bool> _judged = new();

    /// <summary>
    /// Does what a crash or a missed notification left undone: requests the automatic deploys of builds that passed
    /// recently (after their server existed) but have none, then starts deploys that wait for nothing but a start.
    /// </summary>
    public async Task SweepAsync(CancellationToken ct = default)
    {
        var since = time.GetUtcNow().Add(-MissedWindow).ToUnixTimeMilliseconds();
        foreach (var (serverId, buildId) in await store.MissedAutomaticDeploysAsync(since, ct))
        {
            if (_judged.ContainsKey((serverId, buildId))) continue;
            var server = await store.ServerAsync(serverId, ct);
            var build = await builds.FindAsync(buildId, ct);
            if (server is null || build is null || !server.AcceptsBranch(build.Branch) || build.RefKind != RefKinds.Branch)
            {
                // Not this server's branch: remembered, so the sweep does not read it again every tick.
                if (_judged.Count > 10_000) _judged.Clear();
                _judged[(serverId, buildId)] = true;
                continue;
            }
            logger.LogWarning("Build {BuildId} passed but its automatic deploy to {Server} was never requested; requesting it now",
                buildId, server.Name);
            await CreateAsync(server, build, DeployTrigger.Automatic, AuditLog.System, ct);
        }
        foreach (var serverId in await store.ServersWithWaitingDeploysAsync(ct)) await StartNextAsync(serverId, ct);
    }

    private async Task<DeployRow> CreateAsync(ServerRow server, BuildRow build, string trigger, string requestedBy, CancellationToken ct)
    {
        var status = server.Approvals > 0 ? DeployStatus.AwaitingApproval : DeployStatus.Queued;
        long id;
        await _gate.WaitAsync(ct);
        try
        {
            if (trigger == DeployTrigger.Automatic && await store.AutomaticDeployExistsAsync(server.Id, build.Id, ct))
                return (await store.DeploysOfBuildAsync(build.Id, ct)).First(d => d.ServerId == server.Id && d.TriggerKind == trigger);
            id = await store.InsertDeployAsync(server.Id, build.Id, status, trigger, requestedBy, server.Approvals, ct);
        }
        finally
        {
            _gate.Release();
        }
        var deploy = (await store.FindDeployAsync(id, ct))!;
        await audit.RecordAsync(requestedBy, AuditActions.DeployRequested, DeployTarget(deploy),
            $"build {build.Id} ({build.Branch} {build.CommitSha[..Math.Min(12, build.CommitSha.Length)]}), {trigger}" +
            (server.Approvals > 0 ? $", needs {server.Approvals} approval(s)" : ""), ct);
        Changed(deploy);
        if (status == DeployStatus.Queued) await StartNextAsync(server.Id, ct);
        return (await store.FindDeployAsync(id, ct))!;
    }

    private async Task StartNextAsync(long serverId, CancellationToken ct)
    {
        DeployRow? started = null;
        await _gate.WaitAsync(ct);
        try
        {
            // Shared scripts resolve to their versions now, before the store's transaction (which cannot wait for them).
            // Should another portal start that deploy, or an admin change the server's commands meanwhile, the store
            // refuses the plan and it is made again for what is next.
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var server = await store.ServerAsync(serverId, ct);
                var next = await store.NextQueuedAsync(serverId, ct);
                if (server is null || next is null || server.Cordoned) return;
                var project = await projects.FindBySlugAsync(server.ProjectSlug, ct);
                if (project is null) return;
                var plan = await PlanAsync(project, server, next.BuildId, ct);
                var stale = false;
                started = await store.StartNextAsync(serverId, (deploy, now) =>
                {
                    if (deploy.Id == next.Id && now.CommandsJson == server.CommandsJson) return plan.Job;
                    stale = true;
                    return null;
                }, ct);
                if (!stale) break;
            }
        }
        finally
        {
            _gate.Release();
        }
        if (started is null) return;
        logger.LogInformation("Deploy {DeployId} of build {BuildId} to {Server} started", started.Id, started.BuildId, started.ServerName);
        await audit.RecordAsync(AuditLog.System, AuditActions.DeployStarted, DeployTarget(started), $"job {started.JobId}", ct);
        signal.Pulse();
        Changed(started);
    }

    /// <summary>
    /// What a deploy of <paramref name="buildId"/> to <paramref name="server"/> runs: the build's snapshot of the setup and
    /// of the shared script versions, then the server's commands. A build from before snapshots runs the project's current
    /// setup and the newest versions, as deploys did then.
    /// </summary>
    public async Task<DeployPlan> PlanAsync(ProjectRow project, ServerRow server, long buildId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(server);
        var snapshot = await builds.SnapshotAsync(buildId, ct);
        var setup = (snapshot?.Settings ?? project.Settings).Setup;
        var (job, fromSnapshot) = await scripts.ExpandAsync(PlanJob(setup, server), snapshot, ct);
        var used = (job.Scripts ?? []).Select(p =>
        {
            var text = job.Commands.First(c => c.Index == p.Index).Text;
            var source = Scripts.ScriptReference.Parse(text, out _) is { Version: not null } ? ScriptSource.Pinned
                : fromSnapshot.Contains(p.Name) ? ScriptSource.Build
                : ScriptSource.Latest;
            return new DeployScript(p.Name, p.Version, source);
        }).Distinct().ToList();
        return new DeployPlan(setup, server.Commands, used, snapshot is not null, job);
    }

    /// <summary>
    /// What a deploy runs (planned now while it waits; read back from its job once it started) and what changed since
    /// the server's last deploy that ran (its newest passed one, else its newest started one).
    /// </summary>
    public async Task<DeployPreview?> PreviewAsync(long deployId, CancellationToken ct = default)
    {
        var deploy = await store.FindDeployAsync(deployId, ct);
        if (deploy is null) return null;
        var server = await store.ServerAsync(deploy.ServerId, ct);
        var project = await projects.FindBySlugAsync(deploy.ProjectSlug, ct);
        if (server is null || project is null) return null;
        var plan = deploy.JobId is { } jobId
            ? DeployPlan.FromCommands(await builds.CommandsOfJobAsync(jobId, ct), await builds.SnapshotAsync(deploy.BuildId, ct) is not null)
            : await PlanAsync(project, server, deploy.BuildId, ct);
        var earlier = (await store.DeploysOfServerAsync(server.Id, HistoryLimit, ct)).Where(d => d.Id < deploy.Id && d.JobId is not null).ToList();
        var previous = earlier.FirstOrDefault(d => d.Status == DeployStatus.Passed) ?? earlier.FirstOrDefault();
        DeployPlan? before = null;
        if (previous is not null)
            before = DeployPlan.FromCommands(await builds.CommandsOfJobAsync(previous.JobId!.Value, ct),
                await builds.SnapshotAsync(previous.BuildId, ct) is not null);
        return new DeployPreview(deploy, plan, previous, DeployChanges.Between(before, plan));
    }

    /// <summary>A deploy's job: <paramref name="setup"/> (its build's, as recorded), then the server's deploy commands.</summary>
    public static NewJob PlanJob(IReadOnlyList<string> setup, ServerRow server)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(server);
        var commands = new List<JobCommand>();
        foreach (var text in setup) commands.Add(new JobCommand(commands.Count, CommandPhase.Setup, text));
        foreach (var text in server.Commands) commands.Add(new JobCommand(commands.Count, CommandPhase.Main, text));
        return new NewJob($"deploy to {server.Name}", commands);
    }

    private void Changed(DeployRow deploy) => live.Publish(
        LiveUpdates.Keys.Deploy(deploy.Id), LiveUpdates.Keys.Server(deploy.ServerId), LiveUpdates.Keys.Project(deploy.ProjectId),
        LiveUpdates.Keys.Build(deploy.BuildId), LiveUpdates.Keys.Approvals);

    private async Task<Outcome<ServerRow>?> InvalidAsync(ServerSpec spec, CancellationToken ct)
    {
        var errors = spec.Validate().ToList();
        if (errors.Count == 0) errors.AddRange(await library.CheckServerCommandsAsync(spec.Commands, ct));
        return errors.Count == 0 ? null : Outcome<ServerRow>.Fail(Problem.Invalid, string.Join(" ", errors));
    }

    private static string Describe(ServerSpec spec) =>
        $"{spec.TriggerMode}" + (spec.BranchPattern.Length > 0 ? $" from {spec.BranchPattern}" : " from any branch") +
        $", {spec.Commands.Count} command(s), deployers {spec.Deployers}, {spec.Approvals} approval(s)";
}
