using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Kaizen.Runner.Checkout;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.Logging;

namespace Kaizen.Runner.Agent;

/// <summary>
/// A runner: registers once (credentials kept in {WorkDirectory}/runner.json), then each slot long-polls the portal
/// for a job and runs it, while one loop sends heartbeats for the running jobs and stops the ones the portal cancels.
/// The portal's embedded runner is this same class talking to the portal over loopback.
/// </summary>
public sealed class RunnerAgent(RunnerOptions options, HttpClient http, ILoggerFactory loggers, TimeProvider? time = null)
{
    private readonly ILogger _logger = loggers.CreateLogger<RunnerAgent>();
    private readonly PortalClient _client = new(http, options.PortalUrl);
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _running = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _registering = new(1, 1);
    private readonly CancellationTokenSource _revoked = new();
    private string? _revokedReason;
    private long _runnerId;
    private IReadOnlyList<string> _executors = ["shell"];

    /// <summary>Jobs running now (for status pages and tests).</summary>
    public IReadOnlyCollection<long> RunningJobs => _running.Keys.ToList();

    /// <summary>The job sandbox jobs run in (null: none; see <see cref="RunnerOptions.NoSandbox"/>).</summary>
    public Execution.Sandbox.JobSandbox? Sandbox { get; private set; }

    /// <summary>What the runner tells the portal about its sandbox: <c>bubblewrap</c> or <c>none</c>.</summary>
    public string SandboxKind => Sandbox is null ? Execution.Sandbox.JobSandbox.NoneKind : Execution.Sandbox.JobSandbox.Kind;

    public async Task RunAsync(CancellationToken stopping)
    {
        // A revoke stops every loop: the runner must not keep asking with a token the portal refuses.
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stopping, _revoked.Token);
        try
        {
            await RunUntilStoppedAsync(running.Token);
        }
        catch (Exception) when (_revokedReason is not null)
        {
        }
        if (_revokedReason is not null) throw new RunnerRevokedException(_revokedReason);
    }

    private async Task RunUntilStoppedAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        var work = Path.GetFullPath(options.WorkDirectory);
        // Nothing a run that did not stop cleanly left (its jobs' processes and folders) survives this start.
        Leftovers.Reap(work, _logger);
        Sandbox = CreateSandbox(work);
        await EnsureRegisteredAsync(forceNew: false, ct);
        var functions = new KaizenFunctions(work, options.CacheDirectory, options.ToolsDirectory, options.CacheMaxMegabytes)
        {
            PortalUrl = options.PortalUrl,
        };
        using var docker = await StartDockerAsync(work, ct);
        // Each idle slot may hold a sandboxed shell started ahead of time for the project it is likely to run next.
        await using var executor = new JobExecutor(work, new ShellExecutor(), new GitCheckout(work), _time, functions)
        {
            Reports = new PortalReportUploader(_client),
            Docker = docker,
            Sandbox = Sandbox,
            WarmShells = Sandbox is null ? 0 : options.Slots,
        };
        await using var ssh = options.SshPort is { } sshPort
            ? await SshServer.TryStartAsync(work, sshPort, options.SshHost, _logger, ct)
            : null;

        // Terminals go through the same HTTP client as every other portal call.
        var debug = new DebugSessions(executor, functions,
            sessionId => new TerminalConnection(http, options.PortalUrl, () => _client.Token, sessionId, _logger), _logger, _time)
        {
            Ssh = ssh,
        };
        var loops = Enumerable.Range(0, options.Slots).Select(_ => SlotLoopAsync(executor, debug, ct)).ToList();
        loops.Add(HeartbeatLoopAsync(debug, ct));
        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>The job sandbox, or null with the reason in the log: jobs then run as the runner's user, and the portal
    /// keeps public projects' and forks' jobs from this runner.</summary>
    private Execution.Sandbox.JobSandbox? CreateSandbox(string work)
    {
        if (options.NoSandbox)
        {
            _logger.LogWarning(
                "Job sandbox off (no-sandbox): jobs run as this runner's user and can read what it can read. Use this for trusted, private projects only; the portal sends this runner no jobs of public projects or forks.");
            return null;
        }

        var (sandbox, problem) = Execution.Sandbox.JobSandbox.Create(work, options.HiddenPaths, options.SandboxShares);
        if (sandbox is null)
        {
            _logger.LogWarning(
                "No job sandbox: {Problem}. Jobs run as this runner's user; the portal sends this runner no jobs of public projects or forks. Install bubblewrap, or start with --no-sandbox to say this is intended.",
                problem);
        }
        else
        {
            _logger.LogInformation("Jobs run in a bubblewrap sandbox: own workspace, own processes, clean environment, user {User}.", Execution.Sandbox.JobSandbox.UserName);
        }

        return sandbox;
    }

    /// <summary>The executors this runner offers in its claims (for status pages and tests).</summary>
    public IReadOnlyList<string> Executors => _executors;

    /// <summary>
    /// Docker when a daemon answers: leftovers of a previous run of this runner (labelled with its id) are removed first,
    /// and the configured images are pre-pulled in the background. Without one, the runner offers the shell only.
    /// </summary>
    private async Task<Execution.Docker.DockerEngine?> StartDockerAsync(string work, CancellationToken ct)
    {
        if (options.DisableDocker) return null;
        // The runner's id with its work folder's: two portals' runners with the same id on one machine stay apart, and a
        // runner that restarts after a crash (same id, same folder) finds its leftovers.
        var label = $"{_runnerId}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(work)))[..8]}";
        var (engine, problem) = await Execution.Docker.DockerEngine.TryConnectAsync(options.Docker, label, work, _logger, ct);
        if (engine is null)
        {
            _logger.LogInformation("No Docker executor: {Problem}", problem);
            return null;
        }
        try
        {
            await engine.ReapLeftoversAsync(ct);
        }
        catch (Exception ex) when (ex is Docker.DotNet.DockerApiException or HttpRequestException or IOException)
        {
            _logger.LogWarning("Could not remove Docker leftovers: {Error}", ex.Message);
        }
        _ = engine.PrePullAsync(ct);
        _executors = ["shell", "docker"];
        _logger.LogInformation("Docker executor available (pull policy {Policy})", options.Docker.PullPolicy);
        return engine;
    }

    private string CredentialsPath => Path.Combine(options.WorkDirectory, "runner.json");

    private async Task EnsureRegisteredAsync(bool forceNew, CancellationToken ct)
    {
        await _registering.WaitAsync(ct);
        try
        {
            if (!forceNew && _client.Token is not null) return;
            if (!forceNew && File.Exists(CredentialsPath))
            {
                var saved = JsonSerializer.Deserialize<RegisterResponse>(await File.ReadAllTextAsync(CredentialsPath, ct), RunnerJson.Options);
                if (saved?.Token is { Length: > 0 })
                {
                    _client.Token = saved.Token;
                    _runnerId = saved.RunnerId;
                    return;
                }
            }
            if (string.IsNullOrEmpty(options.RegistrationToken))
                throw new InvalidOperationException(
                    $"The runner is not registered and has no registration token: pass --registration-token-file or set KAIZEN_REGISTRATION_TOKEN (the portal's Kaizen:Runners:RegistrationToken).");
            var request = new RegisterRequest(options.RegistrationToken, options.Name, options.Slots, RunnerOptions.Version, _executors,
                options.Labels, SandboxKind);
            var registered = await WithRetryAsync(c => _client.RegisterAsync(request, c), "register", ct);
            _client.Token = registered.Token;
            _runnerId = registered.RunnerId;
            await SaveCredentialsAsync(registered, ct);
            _logger.LogInformation("Registered with {Portal} as runner {RunnerId} ({Name}, {Slots} slots)",
                options.PortalUrl, registered.RunnerId, options.Name, options.Slots);
        }
        finally
        {
            _registering.Release();
        }
    }

    /// <summary>Writes runner.json readable by its owner only, from the first byte (not chmod-ed after the fact, which
    /// would leave the token readable for a moment).</summary>
    private async Task SaveCredentialsAsync(RegisterResponse registered, CancellationToken ct)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            // An older file keeps its mode when overwritten: narrow it before the new token goes in.
            if (File.Exists(CredentialsPath)) File.SetUnixFileMode(CredentialsPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        await using var file = new FileStream(CredentialsPath, options);
        await JsonSerializer.SerializeAsync(file, registered, RunnerJson.Options, ct);
    }

    private async Task SlotLoopAsync(JobExecutor executor, DebugSessions debug, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var job = await WithRetryAsync(c => _client.ClaimAsync(25, c, _executors, SandboxKind), "claim", ct);
                // A debug session holds the slot while it lasts and reports nothing to the job (no stream, no complete).
                if (job is { Debug: not null }) await debug.RunAsync(job, ct);
                else if (job is not null) await RunJobAsync(executor, job, ct);
            }
            catch (PortalStatusException ex)
            {
                _logger.LogError("The portal refused a claim: {Error}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
            }
        }
    }

    private async Task RunJobAsync(JobExecutor executor, JobAssignment job, CancellationToken stopping)
    {
        // A job over its time limit is stopped as a cancel is, then reported failed with the limit as its reason.
        var limit = job.TimeLimitSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan;
        using var overLimit = new CancellationTokenSource(limit, _time);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping, overLimit.Token);
        _running[job.JobId] = cancel;
        var stream = new JobStream(_client, job.JobId, options.MaxLogBytes, () => TryCancel(cancel), _logger, stopping);
        JobResult result;
        try
        {
            _logger.LogInformation("Running job {JobId} ({Job}) of build {BuildId}", job.JobId, job.JobName, job.BuildId);
            result = await executor.RunAsync(job, stream, cancel.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogError(ex, "Job {JobId} failed inside the runner", job.JobId);
            await stream.NoteAsync($"\n[kaizen] The runner failed: {ex.Message}\n", CancellationToken.None);
            result = new JobResult(JobOutcome.Failed, $"runner error: {ex.Message}");
        }
        catch (OperationCanceledException)
        {
            result = new JobResult(JobOutcome.Canceled, stopping.IsCancellationRequested ? "runner stopped" : null);
        }
        finally
        {
            _running.TryRemove(job.JobId, out _);
        }
        if (overLimit.IsCancellationRequested && !stopping.IsCancellationRequested && result.Outcome != JobOutcome.Passed)
        {
            var reason = TimeLimitReached(limit);
            await stream.NoteAsync($"\n[kaizen] {char.ToUpperInvariant(reason[0])}{reason[1..]}: the job was stopped.\n", CancellationToken.None);
            result = new JobResult(JobOutcome.Failed, reason);
        }

        var lastSeq = await stream.CompleteAsync();
        if (stream.Gone) return;
        var outcome = stopping.IsCancellationRequested && result.Outcome == JobOutcome.Canceled ? JobOutcome.Failed : result.Outcome;
        var complete = new CompleteRequest(outcome, lastSeq, result.Error);
        try
        {
            // Finishing must reach the portal even if this runner is stopping, or the job waits for its lease to expire.
            using var finishing = new CancellationTokenSource(TimeSpan.FromMinutes(stopping.IsCancellationRequested ? 0.2 : 10));
            await WithRetryAsync(async c => { await _client.CompleteAsync(job.JobId, complete, c); return true; }, "complete", finishing.Token);
        }
        catch (PortalStatusException ex) when (ex.Status == HttpStatusCode.Gone)
        {
        }
        catch (PortalStatusException ex)
        {
            _logger.LogError("The portal refused the end of job {JobId}: {Error}", job.JobId, ex.Message);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Could not report the end of job {JobId}; the portal will fail it when its lease expires", job.JobId);
        }
        finally
        {
            _client.Forget(job.JobId);
        }
        _logger.LogInformation("Job {JobId} finished: {Outcome}", job.JobId, outcome);
    }

    private async Task HeartbeatLoopAsync(DebugSessions debug, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval, _time);
        var heartbeatFailures = 0;
        while (await timer.WaitForNextTickAsync(ct))
        {
            var ids = _running.Keys.ToList();
            if (ids.Count == 0) continue;
            try
            {
                var reply = await _client.HeartbeatAsync(ids, ct);
                foreach (var id in reply.Cancel.Concat(reply.Unknown))
                {
                    if (_running.TryGetValue(id, out var cts))
                    {
                        _logger.LogInformation("Stopping job {JobId}: the portal {Reason}", id,
                            reply.Cancel.Contains(id) ? "canceled it" : "no longer holds it");
                        TryCancel(cts);
                    }
                }

                // Each is handed out once; a shell next to a running job takes no slot.
                foreach (var attach in reply.Attach ?? [])
                {
                    _ = Task.Run(() => debug.AttachAsync(attach, ct), CancellationToken.None);
                }
            }
            catch (PortalStatusException ex) when (ex.Revoked)
            {
                _logger.LogError("This runner was revoked: {Error}", ex.Message);
                _revokedReason = ex.Message;
                await _revoked.CancelAsync();
                return;
            }
            // A portal that cannot write (507: its disk is full) or is restarting keeps the jobs running here; it does not
            // fail their leases while its own writes fail, and the next heartbeat that gets through renews them.
            catch (Exception ex) when (ex is HttpRequestException or PortalStatusException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                if (++heartbeatFailures == 1) _logger.LogWarning("Heartbeat failed, jobs keep running: {Error}", ex.Message);
                else _logger.LogDebug("Heartbeat failed again ({Failures}): {Error}", heartbeatFailures, ex.Message);
                continue;
            }
            if (heartbeatFailures > 0) _logger.LogInformation("Heartbeats reach the portal again (after {Failures} failed)", heartbeatFailures);
            heartbeatFailures = 0;
        }
    }

    /// <summary>"time limit of 10 min reached": the words the portal and the log use (the portal's own TimeLimits say the same).</summary>
    internal static string TimeLimitReached(TimeSpan limit) =>
        "time limit of " + (limit.TotalSeconds % 60 != 0 ? $"{(long)limit.TotalSeconds} s"
            : limit.TotalMinutes % 60 != 0 || limit.TotalHours < 2 ? $"{(long)limit.TotalMinutes} min"
            : $"{(long)limit.TotalHours} h") + " reached";

    private static void TryCancel(CancellationTokenSource cts)
    {
        try { cts.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>Retries transport failures and portal restarts with backoff; re-registers when the portal forgot us.</summary>
    private async Task<T> WithRetryAsync<T>(Func<CancellationToken, Task<T>> call, string what, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                return await call(ct);
            }
            catch (PortalStatusException ex) when (ex.Revoked)
            {
                _logger.LogError("This runner was revoked: {Error}", ex.Message);
                _revokedReason = ex.Message;
                await _revoked.CancelAsync();
                throw new RunnerRevokedException(ex.Message);
            }
            catch (PortalStatusException ex) when (ex.Status == HttpStatusCode.Unauthorized && what != "register")
            {
                _logger.LogWarning("The portal does not know this runner's token; registering again");
                await EnsureRegisteredAsync(forceNew: true, ct);
                continue;
            }
            catch (PortalStatusException ex) when ((int)ex.Status < 500 && ex.Status != HttpStatusCode.TooManyRequests)
            {
                throw;
            }
            catch (Exception ex) when (ex is HttpRequestException or PortalStatusException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                _logger.LogWarning("Could not {What} ({Error}); retrying in {Delay}", what, ex.Message, delay);
            }
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
    }
}

/// <summary>An admin revoked this runner on the portal; it stops, and runs again only once registered anew (remove
/// runner.json and start it with a registration token).</summary>
public sealed class RunnerRevokedException(string message) : InvalidOperationException(message);
