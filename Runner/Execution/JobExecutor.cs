using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kaizen.Runner.Checkout;
using Kaizen.Runner.Protocol;
using ForwardingSandbox = Kaizen.Runner.Execution.Docker.ForwardingSandbox;
using KaizenForwarder = Kaizen.Runner.Execution.Docker.KaizenForwarder;
using WarmShell = Kaizen.Runner.Execution.Sandbox.WarmShell;
using WarmShellPool = Kaizen.Runner.Execution.Sandbox.WarmShells;

namespace Kaizen.Runner.Execution;

/// <summary>How a job ended. <see cref="Error"/> explains a failure or cancellation in one line, when there is something to say.</summary>
public sealed record JobResult(JobOutcome Outcome, string? Error = null);

/// <summary>
/// Runs one job end to end: fresh workspace and checkout, one shell session for setup and main commands (the first
/// failure skips the rest), then the epilogue, which always runs unless the job was canceled. Every command is
/// reported as started and finished, or skipped. The outcome is returned; only bugs throw.
/// </summary>
public sealed class JobExecutor : IAsyncDisposable
{
    /// <summary>Exit code reported for the command that was running when the job was canceled (as for Ctrl+C).</summary>
    public const int CanceledExitCode = 130;

    private readonly IExecutor _executor;
    private readonly GitCheckout _checkout;
    private readonly TimeProvider _time;
    private readonly KaizenFunctions _functions;
    private readonly ConcurrentDictionary<long, Debug.AttachPoint> _attachPoints = new();
    private readonly ConcurrentDictionary<long, byte> _runningJobs = new();

    /// <param name="workRoot">The runner's work directory; workspaces and git mirrors live under it (see <see cref="GitCheckout"/>).</param>
    /// <param name="functions">The <c>kaizen</c> cache and tool commands; by default with their folders under <paramref name="workRoot"/>.</param>
    public JobExecutor(string workRoot, IExecutor executor, GitCheckout checkout, TimeProvider? time = null, KaizenFunctions? functions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(workRoot);
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(checkout);
        WorkRoot = Path.GetFullPath(workRoot);
        _executor = executor;
        _checkout = checkout;
        _time = time ?? TimeProvider.System;
        _functions = functions ?? new KaizenFunctions(WorkRoot);
    }

    public string WorkRoot { get; }

    /// <summary>Uploads the job's declared report files after the epilogue (null: reports are not collected).</summary>
    public IReportUploader? Reports { get; init; }

    /// <summary>
    /// The job sandbox (null: jobs run as the runner's user, for trusted jobs only). With it, a shell job's bash, its
    /// debug and attach shells, and every <c>kaizen</c> call and tool install run in sandboxes that show the job
    /// nothing but its own workspace (see <see cref="Sandbox.JobSandbox"/>), and a container job's <c>kaizen</c> calls
    /// run in one on the host.
    /// </summary>
    public Sandbox.JobSandbox? Sandbox { get; init; }

    /// <summary>
    /// How many sandboxed shells wait ready for the next jobs, like warm containers (0: none; each job starts its own).
    /// A runner sets its slot count: each idle slot can have one for the project it may run next.
    /// </summary>
    public int WarmShells
    {
        get => _warmCapacity;
        init
        {
            _warmCapacity = value;
            _warm = new WarmShellPool(value);
        }
    }

    /// <summary>How many jobs started in a shell made ahead of time.</summary>
    public long WarmShellHits => _warm.Hits;

    private int _warmCapacity;
    private WarmShellPool _warm = new(0);
    private long _warmSequence;

    /// <summary>Runs jobs that name an image in containers (null: this runner has no Docker, such jobs fail).</summary>
    public Docker.DockerEngine? Docker { get; init; }

    /// <summary>Where a terminal can join job <paramref name="jobId"/> while it runs here (null: it does not, or its shell is not in its workspace yet).</summary>
    public Debug.AttachPoint? AttachPointOf(long jobId) => _attachPoints.GetValueOrDefault(jobId);

    /// <summary>Whether job <paramref name="jobId"/> is being run here now (setting up, running or cleaning up).</summary>
    public bool IsRunning(long jobId) => _runningJobs.ContainsKey(jobId);

    public async Task<JobResult> RunAsync(JobAssignment job, IJobOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(output);
        if (job.Debug is not null)
        {
            throw new ArgumentException("A debug session runs with DebugAsync.", nameof(job));
        }

        _runningJobs[job.JobId] = 0;
        try
        {
            return await RunCoreAsync(job, output, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _runningJobs.TryRemove(job.JobId, out _);
        }
    }

    /// <summary>
    /// A debug session of a finished job (<see cref="JobAssignment.Debug"/>): the job's set-up as for a run, in a
    /// workspace of the session's own, reported to <paramref name="terminal"/> instead of the job (setup commands only
    /// when asked for); then, instead of the commands, an interactive shell in that environment until the session
    /// ends; then the run's cleanup.
    /// </summary>
    public Task<JobResult> DebugAsync(JobAssignment job, Debug.TerminalSession terminal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(terminal);
        return job.Debug is not null
            ? RunCoreAsync(job, new Debug.TerminalJobOutput(terminal, job), cancellationToken)
            : throw new ArgumentException("Not a debug session.", nameof(job));
    }

    private async Task<JobResult> RunCoreAsync(JobAssignment job, IJobOutput output, CancellationToken cancellationToken)
    {
        // Secret values are registered before the first byte of output, checkout included: everything the job and
        // the runner write about it, and the error it ends with, passes through the masker.
        // The job's token (for `kaizen artifact`) reaches the shell as KAIZEN_JOB_TOKEN and is masked like any secret.
        IReadOnlyList<JobSecret> secrets = job.JobToken is { Length: > 0 } jobToken
            ? [.. job.Secrets ?? [], new JobSecret(KaizenFunctions.JobTokenVariable, jobToken)]
            : job.Secrets ?? [];
        var masking = secrets.Count > 0 ? new MaskingJobOutput(output, JobSecrets.Masker(secrets)) : null;
        JobResult result;
        try
        {
            result = await RunMaskedAsync(job with { Secrets = secrets }, secrets, masking ?? output, output as Debug.TerminalJobOutput, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (masking is not null && ex is not OperationCanceledException)
        {
            // A bug: the caller reports its message in the job's log, so it is masked too (the original stays inner).
            throw new InvalidOperationException(masking.Masker.MaskText(ex.Message), ex);
        }

        if (masking is not null)
        {
            await masking.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            result = result with { Error = masking.Masker.MaskText(result.Error) };
        }

        return result;
    }

    /// <summary>Ends the shells waiting for jobs.</summary>
    public ValueTask DisposeAsync() => _warm.DisposeAsync();

    private async Task<JobResult> RunMaskedAsync(
        JobAssignment job, IReadOnlyList<JobSecret> secrets, IJobOutput output, Debug.TerminalJobOutput? debugOutput, CancellationToken cancellationToken)
    {
        var run = new Run(job, output, _time, cancellationToken) { Library = _functions.LibraryPath };
        var warm = await TakeWarmShellAsync(job).ConfigureAwait(false);
        string? workspace = null;
        IShellSession? session = null;
        List<string> secretFiles = [];
        Docker.DockerJob? docker = null;
        Task<string?>? preparing = null;
        Debug.AttachPoint? attachPoint = null;
        Sandbox.JobFolders? folders = null;
        KaizenForwarder? forwarder = null;
        try
        {
            var workspacePath = warm?.Workspace
                ?? (job.Debug is { } debug ? _checkout.DebugWorkspacePath(debug.SessionId) : _checkout.WorkspacePath(job.JobId));
            var planned = warm?.Folders ?? (Sandbox is { } jobSandbox && job.Image is not { Length: > 0 } ? jobSandbox.FoldersPath(FolderName(job)) : null);
            var hostPath = planned is null ? null : (Func<string, (string?, string?)>)(path => global::Kaizen.Runner.Execution.Sandbox.JobSandbox.HostPath(planned, path));
            if (JobSecrets.Check(secrets, workspacePath, out var files, hostPath) is { } secretError)
            {
                run.Fail(secretError);
                await run.NoteAsync(secretError).ConfigureAwait(false);
                await run.SkipRemainingAsync().ConfigureAwait(false);
                return new JobResult(JobOutcome.Failed, secretError);
            }

            // The shell starts while git checks out (both take milliseconds; together they are most of the time
            // from claim to first command), in the work root, and moves into the workspace once it is there.
            var environment = JobEnvironment(job, workspacePath);
            IExecutor executor = _executor;
            ForwardingSandbox? forwarding = null;
            if (Sandbox is { } sandbox)
            {
                (folders, forwarding) = PrepareSandbox(sandbox, job, workspacePath, environment, warm?.Folders);
                if (job.Image is not { Length: > 0 })
                {
                    forwarder = KaizenForwarder.Start(warm?.Control ?? ControlPath(job), environment, forwarding);
                    environment["KAIZEN_CONTROL_DIR"] = forwarder.Directory;
                    executor = warm?.Executor ?? ShellExecutor.ForJob(sandbox, SandboxMounts(job, workspacePath, folders, forwarder.Directory));
                }
            }
            else
            {
                _functions.AddTo(environment, job.ProjectSlug);
                if (job.Image is not { Length: > 0 })
                {
                    // Trusted jobs' calls take the same path: the runner's C#, and tool installs in a process of their own.
                    forwarder = KaizenForwarder.Start(ControlPath(job), environment);
                    environment["KAIZEN_CONTROL_DIR"] = forwarder.Directory;
                }
            }

            if (job.Image is { Length: > 0 })
            {
                if (Docker is null)
                {
                    var error = $"This job runs in the image {job.Image}, but this runner has no Docker executor.";
                    run.Fail(error);
                    await run.NoteAsync(error).ConfigureAwait(false);
                    await run.SkipRemainingAsync().ConfigureAwait(false);
                    return new JobResult(JobOutcome.Failed, error);
                }

                // Images, network and services get ready while git checks out; the container itself needs the workspace.
                docker = Docker.ForJob(job, _functions, forwarding);
                executor = docker;
                preparing = docker.PrepareAsync(() => _time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
            }

            // A sandbox shows the project's git mirror (the workspace's objects are there): until its first clone there
            // is none to show, and the shell waits for the checkout.
            var early = docker is null && (forwarder is null || job.GitUrl.Length == 0 || Directory.Exists(_checkout.MirrorPath(job.GitUrl)));
            var startedWarm = warm is not null;
            var starting = warm is not null ? Task.FromResult<IShellSession?>(warm.Session)
                : early ? StartSessionAsync(executor, WorkRoot, environment, run, cancellationToken)
                : Task.FromResult<IShellSession?>(null);

            // A shell made ahead of time is in the workspace folder already: it gets the job's variables while git
            // brings the workspace to the job's commit.
            var entering = warm is null ? null : EnterAsync(warm.Session, environment, workspacePath, cancellationToken);
            warm = null; // the job's now: its session and folders end with it
            CheckoutResult checkout;
            try
            {
                // A shell made ahead of time has its workspace checked out already, at its project's last commit here.
                checkout = await (startedWarm ? _checkout.UpdateAsync : (CheckoutCall)_checkout.CheckoutAsync)(
                    workspacePath, job.GitUrl, job.CommitSha, job.Branch, data => output.WriteAsync(null, data, cancellationToken), cancellationToken)
                    .ConfigureAwait(false);
            }
            finally
            {
                session = await starting.ConfigureAwait(false);
            }

            var checkedOutAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
            if (!startedWarm && checkout.Succeeded && WarmShellFor(job) is { } next)
            {
                // A job that could not take one (the project's first here) still has one made for the project's next.
                _warm.Prepare(next.Key, next.Start);
            }

            workspace = checkout.Workspace ?? workspacePath;
            await run.FlushAsync().ConfigureAwait(false);
            if (docker is not null && await PreparedAsync(docker, preparing!, checkedOutAt, run).ConfigureAwait(false) is { } dockerError)
            {
                run.Fail(dockerError);
                await run.SkipRemainingAsync().ConfigureAwait(false);
                return new JobResult(JobOutcome.Failed, dockerError);
            }

            if (!checkout.Succeeded)
            {
                await run.NoteAsync($"Checkout failed: {checkout.Error}").ConfigureAwait(false);
                await run.SkipRemainingAsync().ConfigureAwait(false);
                return new JobResult(JobOutcome.Failed, checkout.Error);
            }

            // After checkout (which makes the workspace afresh), before the first command.
            if (JobSecrets.Write(files, workspace, secretFiles) is { } writeError)
            {
                run.Fail(writeError);
                await run.NoteAsync(writeError).ConfigureAwait(false);
                await run.SkipRemainingAsync().ConfigureAwait(false);
                return new JobResult(JobOutcome.Failed, writeError);
            }

            if (!early)
            {
                session = await StartSessionAsync(executor, workspace, environment, run, cancellationToken).ConfigureAwait(false);
            }

            if (session is null || !await (entering ?? EnterAsync(session, null, workspace, cancellationToken)).ConfigureAwait(false))
            {
                run.Fail(run.Error ?? $"The shell could not enter the workspace {workspace}.");
                await run.SkipRemainingAsync().ConfigureAwait(false);
                return new JobResult(JobOutcome.Failed, run.Error);
            }

            if (debugOutput is null && executor is Debug.ITerminalHost host)
            {
                attachPoint = new Debug.AttachPoint(job, workspace, environment, host, cancellationToken);
                _attachPoints[job.JobId] = attachPoint;
            }

            // A debug session runs the setup commands when asked to, and never the job's main and epilogue commands.
            var commands = job.Debug is null ? run.Commands.Where(c => c.Phase != CommandPhase.Epilogue)
                : job.Debug.RunSetup ? run.Commands.Where(c => c.Phase == CommandPhase.Setup) : [];
            foreach (var command in commands)
            {
                if (run.WasReported(command))
                {
                    continue;
                }

                if (run.Failed)
                {
                    run.Skip(command);
                    continue;
                }

                var result = await run.ExecuteAsync(session, command).ConfigureAwait(false);
                if (result.ExitCode != 0)
                {
                    run.Fail($"Command {command.Index} failed with exit code {result.ExitCode}.");
                }
                else if (result.SessionEnded && run.Commands.Any(c => c.Phase != CommandPhase.Epilogue && c.Index > command.Index))
                {
                    run.Fail($"The shell exited during command {command.Index}; the commands after it need that shell.");
                }
            }

            if (debugOutput is not null)
            {
                await run.FlushAsync().ConfigureAwait(false);
                return await Debug.DebugShell.AfterSetupAsync(
                    job, debugOutput, session, executor, _functions, workspace, environment, run.Error, cancellationToken).ConfigureAwait(false);
            }

            var epilogue = run.Commands.Where(c => c.Phase == CommandPhase.Epilogue).ToList();
            if (epilogue.Count > 0)
            {
                if (!session.IsAlive)
                {
                    await session.DisposeAsync().ConfigureAwait(false);
                    session = await StartSessionAsync(executor, workspace, environment, run, cancellationToken).ConfigureAwait(false);
                }

                if (session is not null)
                {
                    // Like the job's exit status for an `always` epilogue; output discarded, it is ours, not the job's.
                    await session.RunAsync(
                        $"export KAIZEN_JOB_RESULT={(run.Failed ? "failed" : "passed")} SEMAPHORE_JOB_RESULT={(run.Failed ? "failed" : "passed")}", static _ => ValueTask.CompletedTask, cancellationToken)
                        .ConfigureAwait(false);
                }

                // Epilogue failures are visible per command but do not change the job's outcome.
                foreach (var command in epilogue)
                {
                    if (session is null)
                    {
                        run.Skip(command);
                        continue;
                    }

                    var result = await run.ExecuteAsync(session, command).ConfigureAwait(false);
                    if (result.SessionEnded && !session.IsAlive && command != epilogue[^1])
                    {
                        await session.DisposeAsync().ConfigureAwait(false);
                        session = await StartSessionAsync(executor, workspace, environment, run, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            // After the epilogue (which may write or convert reports), whether the job passed or failed.
            if (Reports is not null && job.Reports is { Count: > 0 })
            {
                var mask = output is MaskingJobOutput masking ? masking.Masker.MaskText : (Func<string, string?>?)null;
                await JobReports.UploadAsync(job, workspace, Reports, run.NoteAsync, mask, cancellationToken).ConfigureAwait(false);
            }

            return new JobResult(run.Failed ? JobOutcome.Failed : JobOutcome.Passed, run.Error);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await run.FlushAsync().ConfigureAwait(false);
            run.CancelCurrent();
            run.SkipRemaining();
            return new JobResult(JobOutcome.Canceled, run.Error);
        }
        finally
        {
            if (warm is not null)
            {
                // Failed before the shell was the job's (a secret file that cannot be placed): nothing ran in it.
                await warm.DisposeAsync().ConfigureAwait(false);
            }

            if (attachPoint is not null)
            {
                _attachPoints.TryRemove(job.JobId, out _);
                await attachPoint.EndAsync().ConfigureAwait(false);
            }

            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }

            if (docker is not null)
            {
                await EndDockerAsync(docker, preparing, run, output).ConfigureAwait(false);
            }

            if (forwarder is not null)
            {
                await forwarder.DisposeAsync().ConfigureAwait(false);
            }

            JobSecrets.Delete(secretFiles);
            if (workspace is not null)
            {
                TryDeleteWorkspace(workspace);
            }

            global::Kaizen.Runner.Execution.Sandbox.JobSandbox.Delete(folders);
        }
    }

    /// <summary>Moves <paramref name="session"/> into the workspace, giving it <paramref name="environment"/> first when
    /// it was started before the job (a warm shell). False when the shell could not.</summary>
    private static async Task<bool> EnterAsync(
        IShellSession session, IReadOnlyDictionary<string, string>? environment, string workspace, CancellationToken cancellationToken)
    {
        var line = (environment is null ? "" : WarmShellPool.ExportLine(environment)) + $"cd -- {ShellQuote(workspace)} && unset OLDPWD";
        return (await session.RunAsync(line, static _ => ValueTask.CompletedTask, cancellationToken).ConfigureAwait(false)).ExitCode == 0;
    }

    private delegate Task<CheckoutResult> CheckoutCall(
        string workspace, string gitUrl, string commitSha, string branch, Func<ReadOnlyMemory<byte>, ValueTask> onOutput, CancellationToken cancellationToken);

    /// <summary>The name of a job's (or debug session's) own folders: control, home and /tmp.</summary>
    private static string FolderName(JobAssignment job) =>
        job.Debug is { } debug ? $"debug-{debug.SessionId}" : job.JobId.ToString(CultureInfo.InvariantCulture);

    private string ControlPath(JobAssignment job) => Path.Combine(WorkRoot, "control", FolderName(job));

    /// <summary>
    /// The job's own folders, and what its <c>kaizen</c> calls are given: the project's cache and tools folders, and
    /// the job's token, which leaves the job's variables (the job asks the runner; it never holds the token itself).
    /// The workspace exists from here on (empty, or checked out ahead of time with a warm shell): the sandbox shows that very folder, and checkout fills it.
    /// </summary>
    private (Sandbox.JobFolders Folders, ForwardingSandbox Forwarding) PrepareSandbox(
        Sandbox.JobSandbox sandbox, JobAssignment job, string workspace, Dictionary<string, string> environment, Sandbox.JobFolders? warm)
    {
        _functions.EnsureWritten();
        var folders = warm ?? sandbox.FoldersFor(FolderName(job));
        if (warm is null)
        {
            Checkout.GitCheckout.EmptyWorkspace(workspace);
        }

        // A fork's build installs into a folder of its own, thrown away with the job: what it installs never serves
        // the project's own builds.
        var tools = Directory.CreateDirectory(ToolsFor(job, folders)).FullName;
        var cache = Directory.CreateDirectory(_functions.CacheDirectoryFor(job.ProjectSlug)).FullName;
        environment.Remove(KaizenFunctions.JobTokenVariable, out var token);
        environment["KAIZEN_TOOLS_DIR"] = tools;
        return (folders, new ForwardingSandbox(sandbox, folders, workspace, cache, tools, _functions.PrivateVariables(job.ProjectSlug, token)));
    }

    private string ToolsFor(JobAssignment job, Sandbox.JobFolders folders) =>
        job.FromFork ? Path.Combine(folders.Root, "tools") : _functions.ToolsDirectoryFor(job.ProjectSlug);

    /// <summary>
    /// The shell made ahead of time for <paramref name="job"/>'s project, if one waits (a new one starts for the next
    /// job either way). Only a sandboxed shell job of the project itself (not a fork's, whose tools are its own) whose
    /// variables an <c>export</c> can give, and whose project's mirror exists (the sandbox shows it), can use one.
    /// </summary>
    private async Task<WarmShell?> TakeWarmShellAsync(JobAssignment job)
    {
        if (WarmShellFor(job) is not { } warm)
        {
            return null;
        }

        // The project's first job here clones its mirror, which the shell shows: the next job's shell starts after that.
        if (warm.Mirror.Length > 0 && !Directory.Exists(warm.Mirror))
        {
            return null;
        }

        return await _warm.TakeAsync(warm.Key, warm.Start).ConfigureAwait(false);
    }

    /// <summary>What a shell made ahead of time for <paramref name="job"/>'s project shows and how to start one (null:
    /// the job cannot use one).</summary>
    private (string Key, string Mirror, Func<Task<WarmShell?>> Start)? WarmShellFor(JobAssignment job)
    {
        if (_warmCapacity == 0 || Sandbox is not { } sandbox || job.Image is { Length: > 0 } || job.Debug is not null || job.FromFork
            || !WarmShellPool.CanExport(job.Environment.Keys.Concat((job.Secrets ?? []).Select(s => s.Name))))
        {
            return null;
        }

        var mirror = job.GitUrl.Length == 0 ? "" : _checkout.MirrorPath(job.GitUrl);
        var tools = _functions.ToolsDirectoryFor(job.ProjectSlug);
        return (WarmShellPool.KeyOf(mirror, tools), mirror, () => StartWarmShellAsync(sandbox, mirror, tools, job));
    }

    /// <summary>Starts a shell for a job that does not exist yet: everything a job of the project gets that does not
    /// depend on the job itself, and its workspace checked out at <paramref name="last"/>'s commit (the next job is
    /// likely another of the same build, or of a commit close to it). Null when it cannot start (the job then starts its own).</summary>
    private async Task<WarmShell?> StartWarmShellAsync(Sandbox.JobSandbox sandbox, string mirror, string tools, JobAssignment last)
    {
        var name = "warm-" + Interlocked.Increment(ref _warmSequence).ToString(CultureInfo.InvariantCulture);
        IShellSession? session = null;
        Sandbox.JobFolders? folders = null;
        var workspace = Path.Combine(WorkRoot, "jobs", name);
        var control = Path.Combine(WorkRoot, "control", name);
        try
        {
            _functions.EnsureWritten();
            folders = sandbox.FoldersFor(name);
            GitCheckout.EmptyWorkspace(workspace);
            GitCheckout.EmptyWorkspace(control);
            Directory.CreateDirectory(tools);
            List<string> shown = [_functions.LibraryPath, tools];
            if (mirror.Length > 0)
            {
                shown.Add(mirror);
            }

            var checkout = _checkout.CheckoutAsync(workspace, last.GitUrl, last.CommitSha, last.Branch, static _ => ValueTask.CompletedTask, CancellationToken.None);
            var executor = ShellExecutor.ForJob(sandbox, new Sandbox.SandboxMounts(folders, workspace, shown, [workspace, control]));
            var environment = new Dictionary<string, string> { ["KAIZEN_CONTROL_DIR"] = control, ["KAIZEN_TOOLS_DIR"] = tools };
            session = await executor.StartSessionAsync(workspace, environment, CancellationToken.None).ConfigureAwait(false);
            var sourced = await session.RunAsync(_functions.SourceCommand, static _ => ValueTask.CompletedTask, CancellationToken.None).ConfigureAwait(false);
            // A failed checkout leaves the workspace for the job's own (UpdateAsync then checks out afresh).
            await checkout.ConfigureAwait(false);
            if (sourced.ExitCode == 0)
            {
                return new WarmShell(WarmShellPool.KeyOf(mirror, tools), name, folders, workspace, control, executor, session);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }

        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        TryDeleteWorkspace(workspace);
        TryDeleteWorkspace(control);
        global::Kaizen.Runner.Execution.Sandbox.JobSandbox.Delete(folders);
        return null;
    }

    /// <summary>What a shell job's sandbox shows: its workspace and control folder writable; the <c>kaizen</c> library,
    /// the project's tools and git mirror read-only.</summary>
    private Sandbox.SandboxMounts SandboxMounts(JobAssignment job, string workspace, Sandbox.JobFolders folders, string control)
    {
        List<string> shown = [_functions.LibraryPath, ToolsFor(job, folders)];
        if (job.GitUrl.Length > 0)
        {
            shown.Add(_checkout.MirrorPath(job.GitUrl));
        }

        return new Sandbox.SandboxMounts(folders, workspace, shown, [workspace, control]);
    }

    /// <summary>The job's variables with the runner's own on top: those describe facts a job must not be able to misstate.
    /// Secrets come between the two: environment secrets by value, file secrets as their file's full path.</summary>
    internal static Dictionary<string, string> JobEnvironment(JobAssignment job, string workspace)
    {
        var environment = new Dictionary<string, string>(job.Environment, StringComparer.Ordinal);
        foreach (var (name, value) in JobSecrets.Variables(job.Secrets ?? [], workspace))
        {
            environment[name] = value;
        }

        var runner = new Dictionary<string, string>
        {
            ["CI"] = "true",
            ["KAIZEN"] = "true",
            ["KAIZEN_JOB_ID"] = job.JobId.ToString(CultureInfo.InvariantCulture),
            ["KAIZEN_JOB_NAME"] = job.JobName,
            ["KAIZEN_BUILD_ID"] = job.BuildId.ToString(CultureInfo.InvariantCulture),
            ["KAIZEN_BRANCH"] = job.Branch,
            ["KAIZEN_COMMIT_SHA"] = job.CommitSha,
            ["KAIZEN_PROJECT"] = job.ProjectSlug,
            ["KAIZEN_WORKSPACE"] = workspace,
        };
        foreach (var (name, value) in runner)
        {
            environment[name] = value;
        }

        SemaphoreVariables.AddTo(environment, job.Branch, job.CommitSha, job.BuildId, job.JobId, job.JobName, job.ProjectSlug, workspace);
        return environment;
    }

    /// <summary>
    /// Waits for the images and services and reports each preparation step as the command the portal planned for it
    /// (<see cref="PrepareSteps"/>); a step without one (a job planned without them) is a note in the job's log.
    /// Returns why the job cannot run.
    /// </summary>
    /// <remarks>
    /// The steps run while git checks out, so a step is timed from <paramref name="checkedOutAt"/> at the earliest: the
    /// timeline then adds up to the job's time ("Prepare job" is the checkout), and a step shows what the job waited
    /// for it. Its output says how long the pull itself took.
    /// </remarks>
    private static async Task<string?> PreparedAsync(Docker.DockerJob docker, Task<string?> preparing, long checkedOutAt, Run run)
    {
        string? error;
        try
        {
            error = await preparing.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is global::Docker.DotNet.DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
            error = $"Docker: {ex.Message}";
        }

        var reported = false;
        foreach (var step in docker.Steps)
        {
            var lines = step.Error is null ? step.Output : [.. step.Output, step.Error];
            if (run.Commands.FirstOrDefault(c => PrepareSteps.Is(c) && c.Text == step.Text && !run.WasReported(c)) is { } command)
            {
                var (startedAt, duration) = step.StartedAt >= checkedOutAt
                    ? (step.StartedAt, (long)step.Duration.TotalMilliseconds)
                    : (checkedOutAt, Math.Max(0, step.FinishedAt - checkedOutAt));
                await run.ReportAsync(command, startedAt, Math.Max(step.FinishedAt, checkedOutAt), duration, step.Error is null ? 0 : 1, lines)
                    .ConfigureAwait(false);
            }
            else
            {
                foreach (var line in lines)
                {
                    await run.NoteAsync(line).ConfigureAwait(false);
                }
            }

            reported |= step.Error is not null;
        }

        // A failure outside the steps (none recorded it) still reaches the log.
        if (error is not null && !reported)
        {
            await run.NoteAsync(error).ConfigureAwait(false);
        }

        return error;
    }

    /// <summary>Services' logs into the job's log, then every container and the network go, whatever the outcome.</summary>
    private async Task EndDockerAsync(Docker.DockerJob docker, Task<string?>? preparing, Run run, IJobOutput output)
    {
        try
        {
            if (preparing is not null)
            {
                await preparing.ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // Reported by PreparedAsync, or the job was canceled meanwhile; cleanup follows either way.
        }

        await run.FlushAsync().ConfigureAwait(false);
        await docker.WriteServiceLogsAsync(data => output.WriteAsync(null, data, CancellationToken.None)).ConfigureAwait(false);
        await run.FlushAsync().ConfigureAwait(false);
        await docker.DisposeAsync().ConfigureAwait(false);
        if (Docker is { } engine)
        {
            _ = Task.Run(() => engine.EvictAsync());
        }
    }

    private async Task<IShellSession?> StartSessionAsync(
        IExecutor executor, string workspace, IReadOnlyDictionary<string, string> environment, Run run, CancellationToken cancellationToken)
    {
        IShellSession? session = null;
        try
        {
            _functions.EnsureWritten();
            session = await executor.StartSessionAsync(workspace, environment, cancellationToken).ConfigureAwait(false);

            // Every session, the epilogue's fresh one too, has the `kaizen` function before the job's first command.
            var sourced = await session.RunAsync(_functions.SourceCommand, static _ => ValueTask.CompletedTask, cancellationToken).ConfigureAwait(false);
            if (sourced.ExitCode != 0)
            {
                throw new InvalidOperationException($"the shell could not source {_functions.LibraryPath} (exit code {sourced.ExitCode})");
            }

            return session;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }

            run.Fail($"Could not start the {executor.Name} executor: {ex.Message}");
            await run.NoteAsync(run.Error!).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Single-quotes a value for bash.</summary>
    internal static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''") + "'";

    private static void TryDeleteWorkspace(string workspace)
    {
        try
        {
            GitCheckout.DeleteWorkspace(workspace);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next job with this id replaces it anyway.
        }
    }

    /// <summary>The bookkeeping of one job run: which commands were reported, the first error, the command in progress.</summary>
    private sealed class Run(JobAssignment job, IJobOutput output, TimeProvider time, CancellationToken cancellationToken)
    {
        private readonly HashSet<int> _reported = [];
        private (JobCommand Command, long Started)? _current;
        private ScriptExecution? _script;

        /// <summary>The <c>kaizen</c> functions, sourced into shared scripts too.</summary>
        public string? Library { get; init; }

        public IReadOnlyList<JobCommand> Commands { get; } =
            [.. job.Commands.OrderBy(c => c.Phase).ThenBy(c => c.Index)];

        public bool Failed { get; private set; }

        public string? Error { get; private set; }

        public void Fail(string error)
        {
            Error ??= error;
            Failed = true;
        }

        public async Task<CommandResult> ExecuteAsync(IShellSession session, JobCommand command)
        {
            output.CommandStarted(command.Index, Now());
            _current = (command, Stopwatch.GetTimestamp());
            var index = command.Index;
            CommandResult result;
            if (command.Script is { } script)
            {
                _script = new ScriptExecution(script, output, FlushAsync, Now, cancellationToken);
                result = await _script.RunAsync(session, index, Library).ConfigureAwait(false);
                _script = null;
            }
            else
            {
                result = await session.RunAsync(command.Text, data => output.WriteAsync(index, data, cancellationToken), cancellationToken)
                    .ConfigureAwait(false);
            }

            await FlushAsync().ConfigureAwait(false);
            _current = null;
            _reported.Add(index);
            output.CommandFinished(index, result.ExitCode, (long)result.Duration.TotalMilliseconds, Now());
            return result;
        }

        public bool WasReported(JobCommand command) => _reported.Contains(command.Index);

        /// <summary>Reports a command the runner performed itself (not in the shell) as it happened: started, its output, finished.</summary>
        public async Task ReportAsync(JobCommand command, long startedAt, long finishedAt, long durationMs, int exitCode, IReadOnlyList<string> lines)
        {
            _reported.Add(command.Index);
            output.CommandStarted(command.Index, startedAt);
            foreach (var line in lines)
            {
                await output.WriteAsync(command.Index, Encoding.UTF8.GetBytes(line + "\n"), CancellationToken.None).ConfigureAwait(false);
            }

            await FlushAsync().ConfigureAwait(false);
            output.CommandFinished(command.Index, exitCode, durationMs, finishedAt);
        }

        public void Skip(JobCommand command)
        {
            if (_reported.Add(command.Index))
            {
                output.CommandSkipped(command.Index, Now());

                // A script's steps are commands of their own: skipped with it.
                foreach (var step in command.Script?.Steps ?? [])
                {
                    if (_reported.Add(step.Index))
                    {
                        output.CommandSkipped(step.Index, Now());
                    }
                }
            }
        }

        public async Task SkipRemainingAsync()
        {
            await FlushAsync().ConfigureAwait(false);
            SkipRemaining();
        }

        /// <summary>Sends output the masker holds back (the end of a command or of the checkout) before the next event.</summary>
        public ValueTask FlushAsync() =>
            output is MaskingJobOutput masking ? masking.FlushAsync(CancellationToken.None) : ValueTask.CompletedTask;

        public void SkipRemaining()
        {
            foreach (var command in Commands)
            {
                Skip(command);
            }
        }

        /// <summary>The command that was running when the job was canceled ends with <see cref="CanceledExitCode"/>.</summary>
        public void CancelCurrent()
        {
            if (_current is { } current && _reported.Add(current.Command.Index))
            {
                var duration = (long)Stopwatch.GetElapsedTime(current.Started).TotalMilliseconds;
                output.CommandFinished(current.Command.Index, CanceledExitCode, duration, Now());
            }

            _script?.Cancel(CanceledExitCode);
            _script = null;
            _current = null;
        }

        /// <summary>A runner message in the job-level log.</summary>
        public async Task NoteAsync(string text) =>
            await output.WriteAsync(null, Encoding.UTF8.GetBytes($"[kaizen] {text}\n"), CancellationToken.None).ConfigureAwait(false);

        private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();
    }
}

