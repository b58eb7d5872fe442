using System.Data.Common;
using Dapper;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Delivery;

public enum CancelResult
{
    /// <summary>It will not run (or its job was stopped before a runner took it).</summary>
    Canceled,

    /// <summary>Its job is running; the runner was asked to stop it.</summary>
    Stopping,

    AlreadyFinished,
}

/// <summary>Servers, deploys and the decisions on them. Rules live in <see cref="DeployService"/>; this only stores.</summary>
public sealed class DeployStore(Database db, TimeProvider time)
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    // ---- Servers ----

    /// <summary>Adds a server; null when the project already has one of that name (names compare without case).</summary>
    public async Task<long?> CreateServerAsync(long projectId, ServerSpec spec, string actor, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (await c.ExecuteScalarAsync<long>(DeploySql.CountServerName, new { ProjectId = projectId, spec.Name, Id = 0L }, tx) > 0)
            return null;
        var id = await c.ExecuteScalarAsync<long>(db.Sql(DeploySql.InsertServer), new
        {
            ProjectId = projectId, spec.Name, spec.CommandsJson, spec.TriggerMode, spec.BranchPattern, spec.Deployers,
            spec.Approvals, Actor = actor, Now,
        }, tx);
        await tx.CommitAsync(ct);
        return id;
    }

    /// <summary>Replaces a server's settings (its cordon stays as it is); false when the new name is taken.</summary>
    public async Task<bool> UpdateServerAsync(long serverId, long projectId, ServerSpec spec, string actor, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (await c.ExecuteScalarAsync<long>(DeploySql.CountServerName, new { ProjectId = projectId, spec.Name, Id = serverId }, tx) > 0)
            return false;
        await c.ExecuteAsync(DeploySql.UpdateServer, new
        {
            Id = serverId, spec.Name, spec.CommandsJson, spec.TriggerMode, spec.BranchPattern, spec.Deployers, spec.Approvals,
            Actor = actor, Now,
        }, tx);
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task SetCordonAsync(long serverId, bool cordoned, string? reason, string actor, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(DeploySql.SetCordon, new { Id = serverId, Cordoned = cordoned, Reason = cordoned ? reason : null, Actor = actor, Now });
    }

    /// <summary>Deletes a server with its deploy history and its variables and secrets. The jobs of its deploys (and
    /// their logs) stay with their builds' data.</summary>
    public async Task DeleteServerAsync(long serverId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(DeploySql.DeleteDecisionsOfServer, new { Id = serverId }, tx);
        await c.ExecuteAsync(DeploySql.DeleteDeploysOfServer, new { Id = serverId }, tx);
        await c.ExecuteAsync(DeploySql.DeleteServerVariables, new { Id = serverId }, tx);
        await c.ExecuteAsync(DeploySql.DeleteServer, new { Id = serverId }, tx);
        await tx.CommitAsync(ct);
    }

    public async Task<ServerRow?> FindServerAsync(long projectId, string name, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ServerRow>(DeploySql.ServerByName, new { ProjectId = projectId, Name = name });
    }

    public async Task<ServerRow?> ServerAsync(long serverId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ServerRow>(DeploySql.ServerById, new { Id = serverId });
    }

    /// <summary>Every server of every project that needs approvals or that only admins may deploy to.</summary>
    public async Task<IReadOnlyList<ServerRow>> GuardedServersAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ServerRow>(DeploySql.GuardedServers)).AsList();
    }

    public async Task<IReadOnlyList<ServerRow>> ServersAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ServerRow>(DeploySql.ServersOfProject, new { ProjectId = projectId })).AsList();
    }

    // ---- Deploys ----

    public async Task<long> InsertDeployAsync(long serverId, long buildId, string status, string trigger, string requestedBy,
        int approvalsRequired, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(db.Sql(DeploySql.InsertDeploy), new
        {
            ServerId = serverId, BuildId = buildId, Status = status, Trigger = trigger, RequestedBy = requestedBy,
            ApprovalsRequired = approvalsRequired, Now,
        });
    }

    public async Task<DeployRow?> FindDeployAsync(long deployId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<DeployRow>(DeploySql.DeployById, new { Id = deployId });
    }

    /// <summary>The deploy whose job this is, or null for a build's job.</summary>
    public async Task<DeployRow?> DeployOfJobAsync(long jobId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<DeployRow>(DeploySql.DeployByJob, new { JobId = jobId });
    }

    /// <summary>A server's deploys, newest first.</summary>
    public async Task<IReadOnlyList<DeployRow>> DeploysOfServerAsync(long serverId, int limit, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<DeployRow>(db.Sql(DeploySql.DeploysOfServer), new { ServerId = serverId, Limit = limit })).AsList();
    }

    /// <summary>A build's deploys, newest first.</summary>
    public async Task<IReadOnlyList<DeployRow>> DeploysOfBuildAsync(long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<DeployRow>(DeploySql.DeploysOfBuild, new { BuildId = buildId })).AsList();
    }

    /// <summary>Every deploy waiting for approvals, oldest first.</summary>
    public async Task<IReadOnlyList<DeployRow>> AwaitingApprovalAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<DeployRow>(DeploySql.AwaitingApproval)).AsList();
    }

    /// <summary>Per server of the project: its newest deploy and its newest passed one.</summary>
    public async Task<IReadOnlyList<ServerOverview>> OverviewAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var servers = (await c.QueryAsync<ServerRow>(DeploySql.ServersOfProject, new { ProjectId = projectId })).AsList();
        var latest = (await c.QueryAsync<DeployRow>(DeploySql.LatestPerServer, new { ProjectId = projectId })).ToDictionary(d => d.ServerId);
        var current = (await c.QueryAsync<DeployRow>(DeploySql.CurrentPerServer, new { ProjectId = projectId })).ToDictionary(d => d.ServerId);
        return servers.Select(s => new ServerOverview(s, latest.GetValueOrDefault(s.Id), current.GetValueOrDefault(s.Id))).ToList();
    }

    public async Task<bool> AutomaticDeployExistsAsync(long serverId, long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(DeploySql.CountAutomatic, new { ServerId = serverId, BuildId = buildId }) > 0;
    }

    public async Task<IReadOnlyList<ApprovalRow>> DecisionsAsync(long deployId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ApprovalRow>(DeploySql.Decisions, new { DeployId = deployId })).AsList();
    }

    /// <summary>Records a decision on a deploy still awaiting approval and, when it is the approval that completes the
    /// count, moves the deploy to queued; a rejection moves it to rejected. Returns what the deploy's status is then,
    /// or null when the deploy is no longer awaiting approval or this person already decided.</summary>
    public async Task<string?> DecideAsync(long deployId, string user, string decision, string? comment, CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var deploy = await c.QuerySingleOrDefaultAsync<DeployRow>(db.Sql(DeploySql.LockDeploy), new { Id = deployId }, tx);
        if (deploy is null || deploy.Status != DeployStatus.AwaitingApproval) return null;
        if (await c.ExecuteScalarAsync<long>(DeploySql.CountDecision, new { DeployId = deployId, User = user }, tx) > 0) return null;
        await c.ExecuteAsync(DeploySql.InsertDecision, new { DeployId = deployId, User = user, Decision = decision, Comment = comment, At = now }, tx);
        var status = DeployStatus.AwaitingApproval;
        if (decision == ApprovalDecision.Rejected)
        {
            status = DeployStatus.Rejected;
            await c.ExecuteAsync(DeploySql.SetStatus, new { Id = deployId, Status = status, From = DeployStatus.AwaitingApproval, Note = comment, Finished = true, Now = now }, tx);
        }
        else
        {
            var approvals = await c.ExecuteScalarAsync<long>(DeploySql.CountApprovals, new { DeployId = deployId }, tx);
            if (approvals >= deploy.ApprovalsRequired)
            {
                status = DeployStatus.Queued;
                await c.ExecuteAsync(DeploySql.SetStatus, new { Id = deployId, Status = status, From = DeployStatus.AwaitingApproval, Note = (string?)null, Finished = false, Now = now }, tx);
            }
        }
        await tx.CommitAsync(ct);
        return status;
    }

    /// <summary>Cancels a deploy that has not started (awaiting approval or queued), or one whose job no runner has
    /// taken yet; a running job is asked to stop, and its runner's completion finishes the deploy.</summary>
    public async Task<CancelResult> CancelAsync(long deployId, string? note, CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var deploy = await c.QuerySingleOrDefaultAsync<DeployRow>(db.Sql(DeploySql.LockDeploy), new { Id = deployId }, tx);
        if (deploy is null || DeployStatus.IsFinished(deploy.Status)) return CancelResult.AlreadyFinished;
        var result = CancelResult.Canceled;
        if (DeployStatus.IsPending(deploy.Status))
        {
            await c.ExecuteAsync(DeploySql.SetStatus, new { Id = deployId, Status = DeployStatus.Canceled, From = deploy.Status, Note = note, Finished = true, Now = now }, tx);
        }
        else if (await c.ExecuteAsync(DeploySql.CancelQueuedJob, new { deploy.JobId, Now = now }, tx) > 0)
        {
            await c.ExecuteAsync(DeploySql.SkipPendingCommands, new { deploy.JobId }, tx);
            await c.ExecuteAsync(DeploySql.SetStatus, new { Id = deployId, Status = DeployStatus.Canceled, From = DeployStatus.Running, Note = note, Finished = true, Now = now }, tx);
        }
        else
        {
            await c.ExecuteAsync(DeploySql.RequestJobCancel, new { deploy.JobId }, tx);
            if (note is not null) await c.ExecuteAsync(DeploySql.SetNote, new { Id = deployId, Note = note }, tx);
            result = CancelResult.Stopping;
        }
        await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>
    /// Starts the server's oldest queued deploy when none of its deploys is running and it is not cordoned: creates the
    /// deploy's job (of the deployed build, so it checks out that exact commit) with the commands <paramref name="plan"/>
    /// gives. Returns the started deploy, or null when nothing may start now.
    /// </summary>
    /// <remarks><paramref name="plan"/> returns null when the deploy or the server is not the one it planned for: nothing
    /// starts and the caller plans again.</remarks>
    public async Task<DeployRow?> StartNextAsync(long serverId, Func<DeployRow, ServerRow, NewJob?> plan, CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // Locks the server row (SQL Server) so two portals never start two deploys of one server; SQLite's write
        // transaction already excludes every other writer.
        var server = await c.QuerySingleOrDefaultAsync<ServerRow>(db.Sql(DeploySql.LockServer), new { Id = serverId }, tx);
        if (server is null || server.Cordoned) return null;
        if (await c.ExecuteScalarAsync<long>(DeploySql.CountRunning, new { ServerId = serverId }, tx) > 0) return null;
        var nextId = await c.ExecuteScalarAsync<long?>(DeploySql.OldestQueued, new { ServerId = serverId }, tx);
        if (nextId is null) return null;
        var next = await c.QuerySingleAsync<DeployRow>(DeploySql.DeployById, new { Id = nextId }, tx);

        var job = plan(next, server);
        if (job is null) return null;
        var jobId = await c.ExecuteScalarAsync<long>(db.Sql(DeploySql.InsertJob), new
        {
            next.BuildId, job.Name, Status = Status.Queued, QueuedAt = now, DeployId = next.Id,
        }, tx);
        await c.ExecuteAsync(BuildSql.InsertCommand, BuildStore.CommandRows(jobId, job), tx);
        await c.ExecuteAsync(DeploySql.Start, new { Id = next.Id, JobId = jobId, Now = now }, tx);
        await tx.CommitAsync(ct);
        return await FindDeployAsync(next.Id, ct);
    }

    /// <summary>The deploy of the server that starts next (its oldest queued one), or null.</summary>
    public async Task<DeployRow?> NextQueuedAsync(long serverId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var nextId = await c.ExecuteScalarAsync<long?>(DeploySql.OldestQueued, new { ServerId = serverId });
        return nextId is null ? null : await c.QuerySingleOrDefaultAsync<DeployRow>(DeploySql.DeployById, new { Id = nextId });
    }

    /// <summary>Servers that have a queued deploy and none running: work a crash may have left undone.</summary>
    public async Task<IReadOnlyList<long>> ServersWithWaitingDeploysAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<long>(DeploySql.ServersWithWaiting)).AsList();
    }

    /// <summary>(server, build) pairs where an automatic server's project has a build that passed since
    /// <paramref name="since"/> (and after the server was made) with no automatic deploy to it yet; branches are
    /// matched by the caller.</summary>
    public async Task<IReadOnlyList<(long ServerId, long BuildId)>> MissedAutomaticDeploysAsync(long since, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<(long, long)>(DeploySql.MissedAutomatic, new { Since = since });
        return rows.ToList();
    }

    /// <summary>Fails a deploy whose job could not start (e.g. its secrets cannot be decrypted).</summary>
    internal static Task FinishOfJobAsync(DbConnection c, DbTransaction tx, long jobId, string jobStatus, string? error, long now) =>
        c.ExecuteAsync(DeploySql.FinishOfJob, new { JobId = jobId, Status = jobStatus, Note = error, Now = now }, tx);
}

internal static class DeploySql
{
    private const string ServerColumns =
        "s.id, s.project_id AS ProjectId, p.slug AS ProjectSlug, s.name, s.commands_json AS CommandsJson, " +
        "s.trigger_mode AS TriggerMode, s.branch_pattern AS BranchPattern, s.deployers, s.approvals, s.cordoned, " +
        "s.cordon_reason AS CordonReason, s.created_at AS CreatedAt, s.created_by AS CreatedBy, " +
        "s.updated_at AS UpdatedAt, s.updated_by AS UpdatedBy";

    private const string ServerFrom = " FROM servers s JOIN projects p ON p.id = s.project_id";

    private const string DeployColumns =
        "d.id, d.server_id AS ServerId, s.name AS ServerName, s.project_id AS ProjectId, p.slug AS ProjectSlug, " +
        "d.build_id AS BuildId, b.branch, b.commit_sha AS CommitSha, b.commit_message AS CommitMessage, " +
        "b.commit_author AS CommitAuthor, d.status, d.trigger_kind AS TriggerKind, d.requested_by AS RequestedBy, " +
        "d.requested_at AS RequestedAt, d.approvals_required AS ApprovalsRequired, d.job_id AS JobId, " +
        "d.started_at AS StartedAt, d.finished_at AS FinishedAt, d.note, " +
        "(SELECT COUNT(*) FROM deploy_approvals a WHERE a.deploy_id = d.id AND a.decision = 'approved') AS Approvals";

    private const string DeployFrom =
        " FROM deploys d JOIN servers s ON s.id = d.server_id JOIN projects p ON p.id = s.project_id JOIN builds b ON b.id = d.build_id";

    public const string CountServerName =
        "SELECT COUNT(*) FROM servers WHERE project_id = @ProjectId AND LOWER(name) = LOWER(@Name) AND id <> @Id";

    public static readonly SqlText InsertServer = new(
        "INSERT INTO servers (project_id, name, commands_json, trigger_mode, branch_pattern, deployers, approvals, cordoned, " +
        "created_at, created_by, updated_at, updated_by) VALUES (@ProjectId, @Name, @CommandsJson, @TriggerMode, @BranchPattern, " +
        "@Deployers, @Approvals, 0, @Now, @Actor, @Now, @Actor) RETURNING id",
        "INSERT INTO servers (project_id, name, commands_json, trigger_mode, branch_pattern, deployers, approvals, cordoned, " +
        "created_at, created_by, updated_at, updated_by) OUTPUT INSERTED.id VALUES (@ProjectId, @Name, @CommandsJson, @TriggerMode, " +
        "@BranchPattern, @Deployers, @Approvals, 0, @Now, @Actor, @Now, @Actor)");

    public const string UpdateServer =
        "UPDATE servers SET name = @Name, commands_json = @CommandsJson, trigger_mode = @TriggerMode, branch_pattern = @BranchPattern, " +
        "deployers = @Deployers, approvals = @Approvals, updated_at = @Now, updated_by = @Actor WHERE id = @Id";

    public const string SetCordon =
        "UPDATE servers SET cordoned = @Cordoned, cordon_reason = @Reason, updated_at = @Now, updated_by = @Actor WHERE id = @Id";

    public const string DeleteDecisionsOfServer =
        "DELETE FROM deploy_approvals WHERE deploy_id IN (SELECT id FROM deploys WHERE server_id = @Id)";

    public const string DeleteDeploysOfServer = "DELETE FROM deploys WHERE server_id = @Id";
    public const string DeleteServerVariables = "DELETE FROM variables WHERE scope_kind = 'server' AND scope_id = @Id";
    public const string DeleteServer = "DELETE FROM servers WHERE id = @Id";

    public const string ServerByName =
        "SELECT " + ServerColumns + ServerFrom + " WHERE s.project_id = @ProjectId AND LOWER(s.name) = LOWER(@Name)";

    public const string ServerById = "SELECT " + ServerColumns + ServerFrom + " WHERE s.id = @Id";

    public static readonly SqlText LockServer = new(
        "SELECT " + ServerColumns + ServerFrom + " WHERE s.id = @Id",
        "SELECT " + ServerColumns + " FROM servers s WITH (UPDLOCK, HOLDLOCK) JOIN projects p ON p.id = s.project_id WHERE s.id = @Id");

    public const string GuardedServers =
        "SELECT " + ServerColumns + ServerFrom + " WHERE s.approvals > 0 OR s.deployers = 'admins' ORDER BY p.slug, s.name";

    public const string ServersOfProject = "SELECT " + ServerColumns + ServerFrom + " WHERE s.project_id = @ProjectId ORDER BY s.name";

    public static readonly SqlText InsertDeploy = new(
        "INSERT INTO deploys (server_id, build_id, status, trigger_kind, requested_by, requested_at, approvals_required) " +
        "VALUES (@ServerId, @BuildId, @Status, @Trigger, @RequestedBy, @Now, @ApprovalsRequired) RETURNING id",
        "INSERT INTO deploys (server_id, build_id, status, trigger_kind, requested_by, requested_at, approvals_required) " +
        "OUTPUT INSERTED.id VALUES (@ServerId, @BuildId, @Status, @Trigger, @RequestedBy, @Now, @ApprovalsRequired)");

    public const string DeployById = "SELECT " + DeployColumns + DeployFrom + " WHERE d.id = @Id";

    public static readonly SqlText LockDeploy = new(
        "SELECT " + DeployColumns + DeployFrom + " WHERE d.id = @Id",
        "SELECT " + DeployColumns + " FROM deploys d WITH (UPDLOCK, HOLDLOCK) JOIN servers s ON s.id = d.server_id " +
        "JOIN projects p ON p.id = s.project_id JOIN builds b ON b.id = d.build_id WHERE d.id = @Id");

    public const string DeployByJob = "SELECT " + DeployColumns + DeployFrom + " WHERE d.job_id = @JobId";

    public static readonly SqlText DeploysOfServer = new(
        "SELECT " + DeployColumns + DeployFrom + " WHERE d.server_id = @ServerId ORDER BY d.id DESC LIMIT @Limit",
        "SELECT TOP (@Limit) " + DeployColumns + DeployFrom + " WHERE d.server_id = @ServerId ORDER BY d.id DESC");

    public const string DeploysOfBuild = "SELECT " + DeployColumns + DeployFrom + " WHERE d.build_id = @BuildId ORDER BY d.id DESC";

    public const string AwaitingApproval =
        "SELECT " + DeployColumns + DeployFrom + " WHERE d.status = 'awaiting_approval' ORDER BY d.id";

    public const string LatestPerServer =
        "SELECT " + DeployColumns + DeployFrom + " WHERE d.id IN " +
        "(SELECT MAX(d2.id) FROM deploys d2 JOIN servers s2 ON s2.id = d2.server_id WHERE s2.project_id = @ProjectId GROUP BY d2.server_id)";

    public const string CurrentPerServer =
        "SELECT " + DeployColumns + DeployFrom + " WHERE d.id IN " +
        "(SELECT MAX(d2.id) FROM deploys d2 JOIN servers s2 ON s2.id = d2.server_id " +
        "WHERE s2.project_id = @ProjectId AND d2.status = 'passed' GROUP BY d2.server_id)";

    public const string CountAutomatic =
        "SELECT COUNT(*) FROM deploys WHERE server_id = @ServerId AND build_id = @BuildId AND trigger_kind = 'automatic'";

    public const string Decisions =
        "SELECT deploy_id AS DeployId, user_name AS UserName, decision, comment, at FROM deploy_approvals " +
        "WHERE deploy_id = @DeployId ORDER BY at";

    public const string CountDecision =
        "SELECT COUNT(*) FROM deploy_approvals WHERE deploy_id = @DeployId AND LOWER(user_name) = LOWER(@User)";

    public const string InsertDecision =
        "INSERT INTO deploy_approvals (deploy_id, user_name, decision, comment, at) VALUES (@DeployId, @User, @Decision, @Comment, @At)";

    public const string CountApprovals =
        "SELECT COUNT(*) FROM deploy_approvals WHERE deploy_id = @DeployId AND decision = 'approved'";

    public const string SetStatus =
        "UPDATE deploys SET status = @Status, note = COALESCE(@Note, note), " +
        "finished_at = CASE WHEN @Finished = 1 THEN @Now ELSE finished_at END WHERE id = @Id AND status = @From";

    public const string SetNote = "UPDATE deploys SET note = @Note WHERE id = @Id";

    public const string CancelQueuedJob =
        "UPDATE jobs SET status = 'canceled', finished_at = @Now WHERE id = @JobId AND status = 'queued'";

    public const string SkipPendingCommands = "UPDATE commands SET status = 'skipped' WHERE job_id = @JobId AND status = 'pending'";

    public const string RequestJobCancel = "UPDATE jobs SET cancel_requested = 1 WHERE id = @JobId AND status = 'running'";

    public const string CountRunning = "SELECT COUNT(*) FROM deploys WHERE server_id = @ServerId AND status = 'running'";

    public const string OldestQueued = "SELECT MIN(id) FROM deploys WHERE server_id = @ServerId AND status = 'queued'";

    public static readonly SqlText InsertJob = new(
        "INSERT INTO jobs (build_id, name, position, status, queued_at, deploy_id) VALUES (@BuildId, @Name, 0, @Status, @QueuedAt, @DeployId) RETURNING id",
        "INSERT INTO jobs (build_id, name, position, status, queued_at, deploy_id) OUTPUT INSERTED.id VALUES (@BuildId, @Name, 0, @Status, @QueuedAt, @DeployId)");

    public const string Start =
        "UPDATE deploys SET status = 'running', job_id = @JobId, started_at = @Now WHERE id = @Id AND status = 'queued'";

    public const string MissedAutomatic =
        "SELECT s.id, b.id FROM servers s JOIN builds b ON b.project_id = s.project_id " +
        "WHERE s.trigger_mode = 'automatic' AND b.status = 'passed' AND b.from_fork = 0 AND b.finished_at >= @Since " +
        "AND b.finished_at >= s.created_at AND NOT EXISTS (SELECT 1 FROM deploys d WHERE d.server_id = s.id AND d.build_id = b.id " +
        "AND d.trigger_kind = 'automatic') ORDER BY b.id";

    public const string ServersWithWaiting =
        "SELECT DISTINCT d.server_id FROM deploys d JOIN servers s ON s.id = d.server_id WHERE d.status = 'queued' AND s.cordoned = 0 " +
        "AND NOT EXISTS (SELECT 1 FROM deploys r WHERE r.server_id = d.server_id AND r.status = 'running')";

    public const string FinishOfJob =
        "UPDATE deploys SET status = @Status, note = COALESCE(@Note, note), finished_at = @Now WHERE job_id = @JobId AND status = 'running'";
}
