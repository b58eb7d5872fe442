using System.Data.Common;
using Dapper;
using Kaizen.Portal.Data;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Builds;

/// <summary>A build to create: its commit and, per job, the commands it runs (setup + job + epilogue).
/// <see cref="AwaitingApproval"/>: a fork's pull request held until a member approves it (no runner claims its jobs).
/// <see cref="Snapshot"/>: the settings and script versions it runs with, kept for its deploys.
/// <see cref="RefKind"/>, <see cref="Tag"/>: what a person asked to build; <see cref="Variables"/>: extra plain variables for
/// this build only (already laid over each job's own); <see cref="RerunOf"/>: the build it reruns.</summary>
public sealed record NewBuild(
    long ProjectId,
    string Branch,
    string CommitSha,
    string CommitMessage,
    string CommitAuthor,
    string Trigger,
    string? TriggeredBy,
    IReadOnlyList<NewJob> Jobs,
    bool FromFork = false,
    int? PullRequest = null,
    string? PullRequestSource = null,
    string? PullRequestAuthor = null,
    bool AwaitingApproval = false,
    BuildSnapshot? Snapshot = null,
    bool FailFast = false,
    int? TimeLimitSeconds = null,
    string RefKind = RefKinds.Branch,
    string? Tag = null,
    IReadOnlyDictionary<string, string>? Variables = null,
    long? RerunOf = null,
    bool RerunFailed = false);

/// <summary>A job to create. <see cref="Reports"/> are the report files the runner uploads when it ends; <see cref="Scripts"/>
/// the shared scripts among its commands (each a section followed by its steps), recorded with the commands.
/// <see cref="Block"/>, <see cref="Needs"/>: its block and the blocks that must pass first (it waits until then);
/// <see cref="SkipReason"/>: set when its condition is false (it is created skipped, with this as why);
/// <see cref="FailReason"/>: set when the build cannot run at all (its settings file is invalid: created failed, with why).</summary>
public sealed record NewJob(string Name, IReadOnlyList<JobCommand> Commands, IReadOnlyList<ReportSpec>? Reports = null,
    IReadOnlyList<Scripts.PlannedScript>? Scripts = null, string? Image = null, IReadOnlyList<ServiceSpec>? Services = null,
    string? Block = null, IReadOnlyList<string>? Needs = null, IReadOnlyDictionary<string, string>? Env = null,
    int? TimeLimitSeconds = null, string? SkipReason = null, string? FailReason = null);

public sealed record BuildPage(IReadOnlyList<BuildRow> Items, long Total);

public sealed class BuildStore(Database db, TimeProvider time)
{
    /// <summary>The jobs a build of <paramref name="settings"/> runs, blocks and matrices expanded, each with its
    /// commands (project setup, block and job prologues, the job's commands, job, block and project epilogues), variables
    /// and limit. <paramref name="facts"/> decide conditions (null: only the branch is known). <paramref name="defaults"/>:
    /// the portal's limits for settings that name none (see <see cref="TimeLimits.Defaults"/>).</summary>
    public static NewBuild Plan(long projectId, BuildSettings settings, string branch, string sha, string message,
        string author, string trigger, string? triggeredBy, BuildFacts? facts = null, (TimeSpan Job, TimeSpan? Build)? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        facts ??= BuildFacts.Of(branch);
        var jobs = Pipeline.Expand(settings, defaults?.Job).Select(p =>
        {
            var j = p.Job;
            var commands = new List<JobCommand>();
            var image = settings.ImageOf(j);
            var services = j.ServiceSpecs();

            // A job in an image first prepares its images and services: steps the runner performs, timed like commands.
            commands.AddRange(PrepareSteps.For(image, services).Select(t => new JobCommand(commands.Count, CommandPhase.Setup, t)));
            commands.AddRange(settings.Setup.Concat(p.Prologue).Select(t => new JobCommand(commands.Count, CommandPhase.Setup, t)));
            foreach (var t in j.Commands) commands.Add(new JobCommand(commands.Count, CommandPhase.Main, t));
            foreach (var t in p.Epilogue.Concat(settings.Epilogue)) commands.Add(new JobCommand(commands.Count, CommandPhase.Epilogue, t));
            var skip = p.BlockWhen?.Evaluate(facts) is (false, var blockWhy) ? SkipReasons.Condition(blockWhy!)
                : j.When?.Evaluate(facts) is (false, var jobWhy) ? SkipReasons.Condition(jobWhy!) : null;
            return new NewJob(p.Name, commands, j.ReportSpecs(), Image: image, Services: services, Block: p.Block,
                Needs: p.Needs.Count > 0 ? p.Needs : null, Env: p.Env.Count > 0 ? p.Env : null,
                TimeLimitSeconds: (int)p.TimeLimit.TotalSeconds, SkipReason: skip);
        }).ToList();
        return new NewBuild(projectId, branch, sha, message, author, trigger, triggeredBy, jobs,
            FailFast: settings.FailFast == true,
            TimeLimitSeconds: TimeLimits.TryParse(settings.BuildTimeLimit, out var limit) ? (int)limit.TotalSeconds
                : defaults?.Build is { } buildDefault ? (int)buildDefault.TotalSeconds : null);
    }

    public async Task<long> CreateAsync(NewBuild build, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        // Runners claim only queued jobs, so a held build's jobs wait with the build's own status.
        var status = build.AwaitingApproval ? Status.AwaitingApproval : Status.Queued;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var buildId = await c.ExecuteScalarAsync<long>(db.Sql(BuildSql.Insert), new
        {
            build.ProjectId, build.Branch, build.CommitSha, build.CommitMessage, build.CommitAuthor,
            TriggerKind = build.Trigger, build.TriggeredBy, Status = status, QueuedAt = now, build.FromFork,
            build.PullRequest, build.PullRequestSource, build.PullRequestAuthor, build.FailFast, build.TimeLimitSeconds,
            build.RefKind, build.Tag, Variables = RunVariables.Serialize(build.Variables), build.RerunOf, build.RerunFailed,
        }, tx);
        for (var position = 0; position < build.Jobs.Count; position++)
        {
            var job = build.Jobs[position];
            // A held build holds every job that would run; a job that must wait for blocks waits; a false condition skips.
            var jobStatus = job.FailReason is not null ? Status.Failed
                : job.SkipReason is not null ? Status.Skipped
                : build.AwaitingApproval ? Status.AwaitingApproval
                : job.Needs is { Count: > 0 } ? Status.Waiting : Status.Queued;
            var jobId = await c.ExecuteScalarAsync<long>(db.Sql(BuildSql.InsertJob), new
            {
                BuildId = buildId, job.Name, Position = position, Status = jobStatus, QueuedAt = now,
                job.Block, Needs = job.Needs is { Count: > 0 } ? System.Text.Json.JsonSerializer.Serialize(job.Needs) : null,
                Env = job.Env is { Count: > 0 } ? System.Text.Json.JsonSerializer.Serialize(job.Env) : null,
                job.TimeLimitSeconds, Error = job.SkipReason ?? job.FailReason,
                FinishedAt = job.SkipReason is null && job.FailReason is null ? (long?)null : now,
                Reports = job.Reports is { Count: > 0 } ? System.Text.Json.JsonSerializer.Serialize(job.Reports, RunnerJson.Options) : null,
                job.Image,
                Services = job.Services is { Count: > 0 } ? System.Text.Json.JsonSerializer.Serialize(job.Services, RunnerJson.Options) : null,
            }, tx);
            await c.ExecuteAsync(BuildSql.InsertCommand, CommandRows(jobId, job, job.SkipReason is null ? Status.Pending : Status.Skipped), tx);
        }
        if (build.Snapshot is { } snapshot)
        {
            await c.ExecuteAsync(BuildSql.InsertSnapshot, new
            {
                BuildId = buildId, SettingsJson = BuildSnapshot.SerializeSettings(snapshot.Settings),
                ScriptsJson = BuildSnapshot.SerializeScripts(snapshot.Scripts), TakenAt = now,
            }, tx);
        }
        if (build.Jobs.Count > 0 && build.Jobs.All(j => j.FailReason is not null))
            await c.ExecuteAsync(SettingsSourceSql.FailBuild, new { Id = buildId, Now = now }, tx);
        await tx.CommitAsync(ct);
        return buildId;
    }

    /// <summary>The parameters of a job's command rows: a script's section carries its name and version, its steps
    /// point at the section.</summary>
    internal static IEnumerable<object> CommandRows(long jobId, NewJob job, string status = Status.Pending) => job.Commands.Select(cmd =>
    {
        var section = job.Scripts?.FirstOrDefault(s => s.Index == cmd.Index);
        var parent = job.Scripts?.FirstOrDefault(s => cmd.Index > s.Index && cmd.Index <= s.Index + s.Steps);
        return new
        {
            JobId = jobId, Idx = cmd.Index, Phase = PhaseName(cmd.Phase), cmd.Text, Status = status,
            ParentIdx = parent?.Index, ScriptName = section?.Name, ScriptVersion = section?.Version,
        };
    });

    public static string PhaseName(CommandPhase phase) => phase.ToString().ToLowerInvariant();

    public static CommandPhase ParsePhase(string phase) => Enum.Parse<CommandPhase>(phase, ignoreCase: true);

    public async Task<BuildRow?> FindAsync(long id, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<BuildRow>(BuildSql.ById, new { Id = id });
    }

    public async Task<BuildPage> ListAsync(long projectId, int skip, int take, string? branch, string? status,
        CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var args = new { ProjectId = projectId, Skip = skip, Take = take, Branch = branch, Status = status };
        var items = (await c.QueryAsync<BuildRow>(db.Sql(BuildSql.Page), args)).AsList();
        var total = await c.ExecuteScalarAsync<long>(BuildSql.Count, args);
        return new BuildPage(items, total);
    }

    /// <summary>The newest build of every branch of a project (or of every project when null).</summary>
    public async Task<IReadOnlyList<BuildRow>> LatestPerBranchAsync(long? projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<BuildRow>(BuildSql.LatestPerBranch, new { ProjectId = projectId })).AsList();
    }

    /// <summary>The queued builds of a branch, oldest first.</summary>
    public async Task<IReadOnlyList<BuildRow>> QueuedOfBranchAsync(long projectId, string branch, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<BuildRow>(BuildSql.QueuedOfBranch, new { ProjectId = projectId, Branch = branch })).AsList();
    }

    /// <summary>The builds of a branch that are waiting (queued or held) or running, oldest first.</summary>
    public async Task<IReadOnlyList<BuildRow>> ActiveOfBranchAsync(long projectId, string branch, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<BuildRow>(BuildSql.ActiveOfBranch, new { ProjectId = projectId, Branch = branch })).AsList();
    }

    /// <summary>Builds of projects linked to a GitHub repository that are active or finished after <paramref name="since"/>
    /// (unix ms): what commit statuses report.</summary>
    public async Task<IReadOnlyList<BuildRow>> RecentOfGithubProjectsAsync(long since, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<BuildRow>(BuildSql.RecentOfGithubProjects, new { Since = since })).AsList();
    }

    /// <summary>Builds that are queued or running, oldest first.</summary>
    public async Task<IReadOnlyList<BuildRow>> ActiveAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<BuildRow>(BuildSql.Active)).AsList();
    }

    public async Task<IReadOnlyList<JobRow>> JobsAsync(long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<JobRow>(BuildSql.Jobs, new { BuildId = buildId })).AsList();
    }

    /// <summary>What the build ran with, or null for a build created before snapshots were recorded.</summary>
    public async Task<BuildSnapshot?> SnapshotAsync(long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<BuildSnapshotRow>(BuildSql.SnapshotOf, new { BuildId = buildId });
        return row?.ToSnapshot();
    }

    public async Task<JobRow?> FindJobAsync(long jobId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<JobRow>(BuildSql.JobById, new { Id = jobId });
    }

    public async Task<IReadOnlyList<CommandRow>> CommandsOfBuildAsync(long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CommandRow>(BuildSql.CommandsOfBuild, new { BuildId = buildId })).AsList();
    }

    public async Task<IReadOnlyList<CommandRow>> CommandsOfJobAsync(long jobId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CommandRow>(BuildSql.CommandsOfJob, new { JobId = jobId })).AsList();
    }

    /// <summary>
    /// Lets a held build run: its jobs join the queue as if it were created now (the wait for a person is not queue
    /// time), and who approved it and when are kept. Only a build still awaiting approval changes, in one conditional
    /// update, so two people approving at once approve it once. False when it was not awaiting approval.
    /// </summary>
    public async Task<bool> ApproveAsync(long buildId, string approvedBy, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(approvedBy);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var approved = await c.ExecuteAsync(BuildSql.Approve, new { Id = buildId, By = approvedBy, Now = now }, tx);
        if (approved == 0) return false;
        await c.ExecuteAsync(BuildSql.QueueApprovedJobs, new { BuildId = buildId, Now = now }, tx);
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>Whether <paramref name="login"/> (a GitHub login, any case) has had a fork build of the project approved,
    /// or run without needing approval: the test "first-time" approval makes.</summary>
    public async Task<bool> ForkAuthorKnownAsync(long projectId, string login, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(BuildSql.ForkAuthorKnown, new { ProjectId = projectId, Login = login }) > 0;
    }

    /// <summary>Cancels queued jobs at once and asks runners to stop running ones. Returns false for a finished build.
    /// <paramref name="reason"/>: why, when the portal cancels it by itself ("canceled by a newer push"), shown on the build.
    /// <paramref name="canceledBy"/>: the person who canceled it, kept with the time.</summary>
    public async Task<bool> CancelAsync(long buildId, CancellationToken ct = default, string? reason = null, string? canceledBy = null)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var status = await c.ExecuteScalarAsync<string?>(BuildSql.StatusOf, new { Id = buildId }, tx);
        if (status is null || Status.IsFinished(status)) return false;
        await c.ExecuteAsync(BuildSql.CancelQueuedJobs, new { BuildId = buildId, Now = now, Reason = reason }, tx);
        await c.ExecuteAsync(BuildSql.CancelQueuedCommands, new { BuildId = buildId }, tx);
        await c.ExecuteAsync(BuildSql.RequestCancelRunning, new { BuildId = buildId, Reason = reason }, tx);
        if (reason is not null) await c.ExecuteAsync(BuildSql.SetCancelReason, new { Id = buildId, Reason = reason }, tx);
        if (canceledBy is not null) await c.ExecuteAsync(BuildSql.SetCanceledBy, new { Id = buildId, By = canceledBy, Now = now }, tx);
        await RecomputeAsync(c, tx, buildId, now);
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>Sets a build's status from its jobs in a transaction of its own (after the job changes committed).</summary>
    internal static async Task RecomputeAsync(Database db, long buildId, long now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await RecomputeAsync(c, tx, buildId, now);
        await tx.CommitAsync(ct);
    }

    /// <summary>Repairs builds whose status does not match their jobs (a crash between a job change and the
    /// build's update); returns their ids.</summary>
    public async Task<IReadOnlyList<long>> RepairStaleAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var stale = (await c.QueryAsync<long>(BuildSql.Stale)).AsList();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var id in stale) await RecomputeAsync(db, id, now, ct);
        return stale;
    }

    /// <summary>Sets a build's status from its jobs (and its start/finish times).</summary>
    internal static async Task RecomputeAsync(DbConnection c, DbTransaction tx, long buildId, long now)
    {
        // Blocks whose dependencies are decided start or are skipped, and fail fast stops the rest, before the status.
        await PipelineScheduler.AdvanceAsync(c, tx, buildId, now);
        var statuses = (await c.QueryAsync<string>(BuildSql.JobStatuses, new { BuildId = buildId }, tx)).AsList();
        var status = Status.Combine(statuses);
        await c.ExecuteAsync(BuildSql.SetStatus, new
        {
            Id = buildId,
            Status = status,
            Now = now,
            Started = !Status.IsWaiting(status),
            Finished = Status.IsFinished(status),
        }, tx);
    }
}

internal static class BuildSql
{
    public const string InsertSnapshot =
        "INSERT INTO build_snapshots (build_id, settings_json, scripts_json, taken_at) VALUES (@BuildId, @SettingsJson, @ScriptsJson, @TakenAt)";

    public const string SnapshotOf =
        "SELECT build_id AS BuildId, settings_json AS SettingsJson, scripts_json AS ScriptsJson, taken_at AS TakenAt " +
        "FROM build_snapshots WHERE build_id = @BuildId";

    private const string BuildColumns =
        "b.id, b.project_id AS ProjectId, p.slug AS ProjectSlug, b.branch, b.commit_sha AS CommitSha, " +
        "b.commit_message AS CommitMessage, b.commit_author AS CommitAuthor, b.trigger_kind AS TriggerKind, " +
        "b.triggered_by AS TriggeredBy, b.status, b.queued_at AS QueuedAt, b.started_at AS StartedAt, " +
        "b.finished_at AS FinishedAt, b.from_fork AS FromFork, b.pull_request AS PullRequest, " +
        "b.pull_request_source AS PullRequestSource, b.pull_request_author AS PullRequestAuthor, b.approved_by AS ApprovedBy, " +
        "b.approved_at AS ApprovedAt, b.cancel_reason AS CancelReason, b.ref_kind AS RefKind, b.tag, b.variables, " +
        "b.rerun_of AS RerunOf, b.rerun_failed AS RerunFailed, b.canceled_by AS CanceledBy, b.canceled_at AS CanceledAt";

    private const string JobColumns =
        "id, build_id AS BuildId, name, position, status, runner_id AS RunnerId, lease_expires_at AS LeaseExpiresAt, " +
        "cancel_requested AS CancelRequested, last_seq AS LastSeq, log_bytes AS LogBytes, error, " +
        "queued_at AS QueuedAt, started_at AS StartedAt, finished_at AS FinishedAt, deploy_id AS DeployId, image, block, needs";

    private const string CommandColumns =
        "c.job_id AS JobId, c.idx, c.phase, c.text, c.status, c.started_at AS StartedAt, " +
        "c.duration_ms AS DurationMs, c.exit_code AS ExitCode, c.parent_idx AS ParentIdx, c.script_name AS ScriptName, " +
        "c.script_version AS ScriptVersion";

    public static readonly SqlText Insert = new(
        "INSERT INTO builds (project_id, branch, commit_sha, commit_message, commit_author, trigger_kind, triggered_by, status, queued_at, from_fork, pull_request, pull_request_source, pull_request_author, fail_fast, time_limit_seconds, ref_kind, tag, variables, rerun_of, rerun_failed) " +
        "VALUES (@ProjectId, @Branch, @CommitSha, @CommitMessage, @CommitAuthor, @TriggerKind, @TriggeredBy, @Status, @QueuedAt, @FromFork, " +
        "@PullRequest, @PullRequestSource, @PullRequestAuthor, @FailFast, @TimeLimitSeconds, @RefKind, @Tag, @Variables, @RerunOf, @RerunFailed) RETURNING id",
        "INSERT INTO builds (project_id, branch, commit_sha, commit_message, commit_author, trigger_kind, triggered_by, status, queued_at, from_fork, pull_request, pull_request_source, pull_request_author, fail_fast, time_limit_seconds, ref_kind, tag, variables, rerun_of, rerun_failed) " +
        "OUTPUT INSERTED.id VALUES (@ProjectId, @Branch, @CommitSha, @CommitMessage, @CommitAuthor, @TriggerKind, @TriggeredBy, @Status, @QueuedAt, " +
        "@FromFork, @PullRequest, @PullRequestSource, @PullRequestAuthor, @FailFast, @TimeLimitSeconds, @RefKind, @Tag, @Variables, @RerunOf, @RerunFailed)");

    public static readonly SqlText InsertJob = new(
        "INSERT INTO jobs (build_id, name, position, status, queued_at, reports, image, services, block, needs, env, time_limit_seconds, error, finished_at) " +
        "VALUES (@BuildId, @Name, @Position, @Status, @QueuedAt, @Reports, @Image, @Services, @Block, @Needs, @Env, @TimeLimitSeconds, @Error, @FinishedAt) RETURNING id",
        "INSERT INTO jobs (build_id, name, position, status, queued_at, reports, image, services, block, needs, env, time_limit_seconds, error, finished_at) " +
        "OUTPUT INSERTED.id VALUES (@BuildId, @Name, @Position, @Status, @QueuedAt, @Reports, @Image, @Services, @Block, @Needs, @Env, @TimeLimitSeconds, @Error, @FinishedAt)");

    public const string InsertCommand =
        "INSERT INTO commands (job_id, idx, phase, text, status, parent_idx, script_name, script_version) " +
        "VALUES (@JobId, @Idx, @Phase, @Text, @Status, @ParentIdx, @ScriptName, @ScriptVersion)";

    public const string ById =
        "SELECT " + BuildColumns + " FROM builds b JOIN projects p ON p.id = b.project_id WHERE b.id = @Id";

    private const string Filter =
        " WHERE b.project_id = @ProjectId AND (@Branch IS NULL OR b.branch = @Branch) AND (@Status IS NULL OR b.status = @Status)";

    public static readonly SqlText Page = new(
        "SELECT " + BuildColumns + " FROM builds b JOIN projects p ON p.id = b.project_id" + Filter +
        " ORDER BY b.id DESC LIMIT @Take OFFSET @Skip",
        "SELECT " + BuildColumns + " FROM builds b JOIN projects p ON p.id = b.project_id" + Filter +
        " ORDER BY b.id DESC OFFSET @Skip ROWS FETCH NEXT @Take ROWS ONLY");

    public const string Count = "SELECT COUNT(*) FROM builds b" + Filter;

    public const string LatestPerBranch =
        "SELECT " + BuildColumns + " FROM builds b JOIN projects p ON p.id = b.project_id WHERE b.id IN " +
        "(SELECT MAX(id) FROM builds WHERE @ProjectId IS NULL OR project_id = @ProjectId GROUP BY project_id, branch)";

    // Held builds show beside the running ones: a member has something to do about them.
    public const string Active =
        "SELECT " + BuildColumns + " FROM builds b JOIN projects p ON p.id = b.project_id " +
        "WHERE b.status IN ('queued', 'running', 'awaiting_approval') ORDER BY b.id";

    // A deploy's job belongs to the build it deploys (for its commit) but is not one of the build's jobs.
    public const string QueuedOfBranch =
        "SELECT " + BuildColumns + " FROM builds b JOIN projects p ON p.id = b.project_id " +
        "WHERE b.project_id = @ProjectId AND b.branch = @Branch AND b.status IN ('queued', 'awaiting_approval') ORDER BY b.id";

    public const string ActiveOfBranch =
        "SELECT " + BuildColumns + " FROM builds b JOIN projects p ON p.id = b.project_id " +
        "WHERE b.project_id = @ProjectId AND b.branch = @Branch AND b.status IN ('queued', 'running', 'awaiting_approval') ORDER BY b.id";

    public const string RecentOfGithubProjects =
        "SELECT " + BuildColumns + " FROM builds b JOIN projects p ON p.id = b.project_id " +
        "WHERE p.github_repository IS NOT NULL AND (b.status IN ('queued', 'running', 'awaiting_approval') OR b.finished_at >= @Since) ORDER BY b.id";

    public const string Jobs = "SELECT " + JobColumns + " FROM jobs WHERE build_id = @BuildId AND deploy_id IS NULL ORDER BY position";

    public const string JobById = "SELECT " + JobColumns + " FROM jobs WHERE id = @Id";

    public const string CommandsOfBuild =
        "SELECT " + CommandColumns + " FROM commands c JOIN jobs j ON j.id = c.job_id WHERE j.build_id = @BuildId AND j.deploy_id IS NULL ORDER BY c.job_id, c.idx";

    public const string CommandsOfJob = "SELECT " + CommandColumns + " FROM commands c WHERE c.job_id = @JobId ORDER BY c.idx";

    public const string StatusOf = "SELECT status FROM builds WHERE id = @Id";

    public const string CancelQueuedJobs =
        "UPDATE jobs SET status = 'canceled', finished_at = @Now, error = COALESCE(@Reason, error) " +
        "WHERE build_id = @BuildId AND deploy_id IS NULL AND status IN ('queued', 'waiting', 'awaiting_approval')";

    public const string SetCancelReason = "UPDATE builds SET cancel_reason = @Reason WHERE id = @Id";

    public const string SetCanceledBy = "UPDATE builds SET canceled_by = @By, canceled_at = @Now WHERE id = @Id";

    public const string Approve =
        "UPDATE builds SET status = 'queued', approved_by = @By, approved_at = @Now, queued_at = @Now WHERE id = @Id AND status = 'awaiting_approval'";

    // A job of a block with dependencies waits for them rather than joining the queue.
    public const string QueueApprovedJobs =
        "UPDATE jobs SET status = CASE WHEN needs IS NULL THEN 'queued' ELSE 'waiting' END, queued_at = @Now " +
        "WHERE build_id = @BuildId AND deploy_id IS NULL AND status = 'awaiting_approval'";

    // Known: a fork build of theirs was approved, or a job of one was claimed by a runner (it ran without being held).
    public const string ForkAuthorKnown =
        "SELECT COUNT(*) FROM builds b WHERE b.project_id = @ProjectId AND b.from_fork = 1 AND LOWER(b.pull_request_author) = LOWER(@Login) " +
        "AND (b.approved_at IS NOT NULL OR EXISTS (SELECT 1 FROM jobs j WHERE j.build_id = b.id AND j.deploy_id IS NULL AND j.started_at IS NOT NULL))";

    public const string CancelQueuedCommands =
        "UPDATE commands SET status = 'skipped' WHERE status = 'pending' AND job_id IN " +
        "(SELECT id FROM jobs WHERE build_id = @BuildId AND deploy_id IS NULL AND status = 'canceled')";

    public const string RequestCancelRunning =
        "UPDATE jobs SET cancel_requested = 1, cancel_reason = COALESCE(cancel_reason, @Reason) WHERE build_id = @BuildId AND deploy_id IS NULL AND status = 'running'";

    public const string JobStatuses = "SELECT status FROM jobs WHERE build_id = @BuildId AND deploy_id IS NULL";

    public const string Stale =
        "SELECT b.id FROM builds b WHERE " +
        "(b.status IN ('queued', 'running') AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.build_id = b.id AND j.deploy_id IS NULL AND j.status IN ('queued', 'running'))) " +
        "OR (b.status = 'queued' AND EXISTS (SELECT 1 FROM jobs j WHERE j.build_id = b.id AND j.deploy_id IS NULL AND j.status NOT IN ('queued', 'waiting', 'skipped')))";

    public const string SetStatus =
        "UPDATE builds SET status = @Status, " +
        "started_at = CASE WHEN @Started = 1 AND started_at IS NULL THEN @Now ELSE started_at END, " +
        "finished_at = CASE WHEN @Finished = 1 AND finished_at IS NULL THEN @Now ELSE finished_at END " +
        "WHERE id = @Id";
}
