using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Debug;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Secrets;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.Options;
using System.Security.Claims;

namespace Kaizen.Portal.Runners;

/// <summary>The portal's side of the runner protocol (see Runner/Protocol/RunnerProtocol.cs).</summary>
public static class RunnerEndpoints
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    public static IEndpointRouteBuilder MapRunnerProtocol(this IEndpointRouteBuilder app)
    {
        app.MapPost(RunnerRoutes.Register, Register).AllowAnonymous().ExcludeFromDescription();
        var runner = app.MapGroup("").RequireAuthorization(KaizenAuth.RunnerPolicy).ExcludeFromDescription();
        runner.MapPost(RunnerRoutes.Claim, Claim);
        runner.MapPost(RunnerRoutes.Heartbeat, Heartbeat);
        runner.MapPost("/api/runner/jobs/{jobId:long}/stream/{seq:long}", Stream);
        runner.MapPost("/api/runner/jobs/{jobId:long}/complete", Complete);
        return app;
    }

    private static async Task<IResult> Register(RegisterRequest? request, RunnerRegistration registration, RunnerStore store,
        HttpContext http, CancellationToken ct)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Name))
            return Results.Problem("Send { registrationToken, name, slots, version, executors, labels }.", statusCode: 400);
        if (!registration.Accepts(request.RegistrationToken))
            return Results.Problem("The registration token is wrong (see Kaizen:Runners:RegistrationToken).", statusCode: 401);
        if (request.Slots is < 1 or > 256) return Results.Problem("slots must be between 1 and 256.", statusCode: 400);
        if (request.Name.Length > 100) return Results.Problem("A runner name is at most 100 characters.", statusCode: 400);
        if (Text.DisplayNames.Problem(request.Name, "A runner name") is { } nameProblem) return Results.Problem(nameProblem, statusCode: 400);
        var token = Tokens.New("kzr_");
        var id = await store.RegisterAsync(request with { Executors = request.Executors ?? [], Labels = request.Labels ?? [] },
            Tokens.Hash(token), ct, AddressOf(http));
        return Results.Ok(new RegisterResponse(id, token));
    }

    /// <summary>The remote address of a runner's request, as the Runners page shows it.</summary>
    private static string? AddressOf(HttpContext http) => http.Connection.RemoteIpAddress?.ToString();

    /// <summary>The answer to a revoked runner: 401, marked so the runner stops instead of registering again.</summary>
    internal static IResult Revoked(HttpContext http, string message)
    {
        http.Response.Headers[RunnerRoutes.RevokedHeader] = "true";
        return Results.Problem(message, statusCode: 401);
    }

    private static async Task<IResult> Claim(ClaimRequest? request, ClaimsPrincipal user, RunnerStore store, HttpContext http,
        DeployService deploys, JobEnvironmentProvider environments, WorkSignal signal,
        LiveUpdates live, IOptions<KaizenOptions> options, TimeProvider time, IHostApplicationLifetime lifetime, DebugDispatch debug,
        CancellationToken requestAborted)
    {
        // A held claim must not delay a portal shutdown: the runner simply asks again (of the next portal process).
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        var ct = stopping.Token;
        var wait = TimeSpan.FromSeconds(Math.Clamp(request?.WaitSeconds ?? 25, 0, MaxWait.TotalSeconds));
        var deadline = time.GetUtcNow() + wait;
        var lease = options.Value.Runners.LeaseSeconds;
        try
        {
            return await ClaimOrWaitAsync(user.RunnerId(), deadline, lease, store, deploys, environments, signal, live, time, debug, ct,
                request?.Executors, request?.Sandbox, AddressOf(http));
        }
        catch (RunnerRevokedException ex)
        {
            return Revoked(http, ex.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Results.NoContent();
        }
    }

    /// <summary>
    /// The job with the variables and secrets of its project (and of the organization; the narrowest wins). A job
    /// whose secrets cannot be decrypted is failed right away: it must never run without them.
    /// </summary>
    private static async Task<JobAssignment?> WithEnvironmentAsync(JobAssignment job, long runnerId, RunnerStore store,
        JobEnvironmentProvider environments, DeployService deploys, LiveUpdates live, CancellationToken ct)
    {
        var origin = await store.OriginAsync(job.JobId, ct);
        try
        {
            if (origin is null) throw new InvalidOperationException($"project '{job.ProjectSlug}' no longer exists");
            return await WithEnvironmentAsync(job, origin, environments, ct);
        }
        catch (Exception ex) when (ex is SecretUnreadableException or InvalidOperationException)
        {
            await store.CompleteAsync(runnerId, job.JobId, job.LeaseToken, JobOutcome.Failed, 0, $"not started: {ex.Message}", ct);
            live.Publish(LiveUpdates.Keys.Job(job.JobId), LiveUpdates.Keys.Build(job.BuildId), LiveUpdates.Keys.Dashboard);
            await deploys.JobFinishedAsync(job.JobId, job.BuildId, ct);
            return null;
        }
    }

    /// <summary>The job with the variables and secrets its origin gives it (deploys also name their server).</summary>
    /// <exception cref="SecretUnreadableException">A secret cannot be decrypted.</exception>
    internal static async Task<JobAssignment> WithEnvironmentAsync(JobAssignment job, JobOrigin origin, JobEnvironmentProvider environments,
        CancellationToken ct)
    {
        var (environment, secrets) = await environments.ForJobAsync(origin, ct);
        if (job.Environment.Count > 0)
        {
            // The build settings' variables are narrower than the project's and organization's, so they win.
            var merged = new Dictionary<string, string>(environment);
            foreach (var (name, value) in job.Environment) merged[name] = value;
            environment = merged;
        }
        if (origin.DeployId is { } deployId)
        {
            // A deploy's commands can name their target (e.g. serverless deploy --stage "$KAIZEN_SERVER").
            environment = new Dictionary<string, string>(environment)
            {
                ["KAIZEN_SERVER"] = origin.ServerName ?? "",
                ["KAIZEN_DEPLOY_ID"] = deployId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
        }
        // A fork's build is told so: the runner throws away the tools it installs (they must not serve the project).
        return job with { Environment = environment, Secrets = secrets, FromFork = origin.FromFork };
    }

    private static async Task<IResult> ClaimOrWaitAsync(long runnerId, DateTimeOffset deadline, int lease, RunnerStore store,
        DeployService deploys, JobEnvironmentProvider environments, WorkSignal signal, LiveUpdates live, TimeProvider time,
        DebugDispatch debug, CancellationToken ct, IReadOnlyList<string>? executors, string? sandbox, string? address)
    {
        while (true)
        {
            var next = signal.Next;
            // A person waits on a debug session: it goes before queued jobs.
            if (await debug.TryClaimAsync(runnerId, executors, ct) is { } session) return Results.Json(session, RunnerJson.Options);
            var job = await store.ClaimAsync(runnerId, lease, ct, executors, sandbox, address);
            if (job is not null)
            {
                live.Publish(LiveUpdates.Keys.Build(job.BuildId), LiveUpdates.Keys.Dashboard);
                var withEnvironment = await WithEnvironmentAsync(job, runnerId, store, environments, deploys, live, ct);
                if (withEnvironment is not null) return Results.Json(withEnvironment, RunnerJson.Options);
                continue;
            }
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return Results.NoContent();
            try
            {
                // Re-check now and then even without a pulse: another portal process may have queued the work.
                await next.WaitAsync(remaining < TimeSpan.FromSeconds(5) ? remaining : TimeSpan.FromSeconds(5), time, ct);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    private static async Task<IResult> Heartbeat(HeartbeatRequest? request, ClaimsPrincipal user, RunnerStore store, HttpContext http,
        IOptions<KaizenOptions> options, DebugDispatch debug, CancellationToken ct)
    {
        request ??= new HeartbeatRequest([]);
        HeartbeatResponse reply;
        try
        {
            reply = await store.HeartbeatAsync(user.RunnerId(), request, options.Value.Runners.LeaseSeconds, ct, AddressOf(http));
        }
        catch (RunnerRevokedException ex)
        {
            return Revoked(http, ex.Message);
        }
        var holds = reply.Unknown.Count < (request.JobIds ?? []).Concat((request.Leases ?? []).Select(l => l.JobId)).Distinct().Count();
        if (holds && await debug.AttachRequestsAsync(user.RunnerId(), ct) is { Count: > 0 } attach) reply = reply with { Attach = attach };
        return Results.Json(reply, RunnerJson.Options);
    }

    /// <summary>The lease token a runner sent with a call about one job.</summary>
    internal static string? LeaseOf(HttpRequest request) =>
        request.Headers.TryGetValue(RunnerRoutes.LeaseHeader, out var value) ? value.ToString() : null;

    private static async Task<IResult> Stream(long jobId, long seq, StreamBatch? batch, ClaimsPrincipal user, RunnerStore store,
        HttpRequest http, LiveUpdates live, IOptions<KaizenOptions> options, CancellationToken ct)
    {
        if (batch is null || seq < 1) return Results.Problem("Send a stream batch with a sequence number from 1.", statusCode: 400);
        var result = await store.ApplyStreamAsync(user.RunnerId(), jobId, LeaseOf(http), seq, batch, options.Value.Runners.LeaseSeconds, ct);
        switch (result)
        {
            case StreamResult.Applied:
                live.Publish(LiveUpdates.Keys.Job(jobId));
                return Results.Ok();
            case StreamResult.Duplicate:
                return Results.Ok();
            case StreamResult.Gap:
                return Results.Problem($"Batch {seq} arrived before an earlier one; send them in order.", statusCode: 409);
            case StreamResult.NotClaimed:
                return Results.Problem(RunnerStore.Describe(LeaseCheck.NotClaimed, jobId), statusCode: 403);
            case StreamResult.WrongLease:
                return Results.Problem(RunnerStore.Describe(LeaseCheck.WrongLease, jobId), statusCode: 403);
            default:
                return Results.Problem($"Job {jobId} is not running on this runner.", statusCode: 410);
        }
    }

    private static async Task<IResult> Complete(long jobId, CompleteRequest? request, ClaimsPrincipal user, RunnerStore store,
        HttpRequest http, DeployService deploys, LiveUpdates live, WorkSignal signal, ILogger<DeployService> logger, CancellationToken ct)
    {
        if (request is null) return Results.Problem("Send { outcome, lastSeq }.", statusCode: 400);
        try
        {
            var buildId = await store.CompleteAsync(user.RunnerId(), jobId, LeaseOf(http), request.Outcome, request.LastSeq, request.Error, ct);
            if (buildId is null) return Results.Problem($"Job {jobId} is not running on this runner.", statusCode: 410);
            live.Publish(LiveUpdates.Keys.Job(jobId), LiveUpdates.Keys.Build(buildId.Value), LiveUpdates.Keys.Dashboard);
            // The next block's jobs may have joined the queue.
            signal.Pulse();
            // What follows (the deploy's result, the server's next deploy, automatic deploys of a passed build) must
            // not fail the runner's call: the job is finished, and the lease reaper's sweep retries the starts.
            try
            {
                await deploys.JobFinishedAsync(jobId, buildId.Value, CancellationToken.None);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Delivery after job {JobId} failed", jobId);
            }
            return Results.Ok();
        }
        catch (StreamIncompleteException ex)
        {
            return Results.Problem(ex.Message, statusCode: 409);
        }
        catch (LeaseRefusedException ex)
        {
            return Results.Problem(ex.Message, statusCode: 403);
        }
    }
}

/// <summary>Which registration tokens the portal accepts: the configured one and the embedded runner's own.</summary>
public sealed class RunnerRegistration(IOptions<KaizenOptions> options)
{
    /// <summary>A fresh secret per portal process, known only to the embedded runner.</summary>
    public string EmbeddedToken { get; } = Tokens.New("kze_");

    public bool Accepts(string? token)
    {
        if (string.IsNullOrEmpty(token)) return false;
        var configured = options.Value.Runners.RegistrationToken;
        return FixedTimeEquals(token, EmbeddedToken) || (!string.IsNullOrEmpty(configured) && FixedTimeEquals(token, configured));
    }

    private static bool FixedTimeEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));
}

/// <summary>Fails jobs whose runner stopped sending heartbeats, and repairs build statuses left behind by a crash.</summary>
public sealed class LeaseReaper(RunnerStore store, BuildStore builds, DeployService deploys, LiveUpdates live,
    IOptions<KaizenOptions> options, ILogger<LeaseReaper> logger, Hosting.StorageHealth storage, IHostApplicationLifetime lifetime)
    : BackgroundService
{
    /// <summary>How long a runner may wait between tries while the portal is away (its backoff stops growing there),
    /// plus room for a loaded machine: a restarted portal gives running jobs this much beyond a lease.</summary>
    private const int ReturnSeconds = 10;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lease = options.Value.Runners.LeaseSeconds;
        // Leases are renewed from the moment the portal answers, not from when this service starts (other services may
        // still be starting): runners that kept working while it was down get a whole lease, plus their retry time, to
        // come back.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try { await started.Task; }
            catch (OperationCanceledException) { return; }
        }
        await store.ExtendAllLeasesAsync(lease + ReturnSeconds, stoppingToken);
        var period = TimeSpan.FromSeconds(Math.Clamp(lease / 4.0, 0.5, 5));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                // While writes fail for lack of space, runners' heartbeats fail too: their leases run out through no fault
                // of theirs. Until the storage has taken writes for a whole lease, leases are extended instead of reaped.
                if (storage.FullWithin(TimeSpan.FromSeconds(lease)))
                {
                    await store.ExtendAllLeasesAsync(lease, stoppingToken);
                    continue;
                }
                foreach (var buildId in await store.ReapExpiredLeasesAsync(stoppingToken))
                {
                    logger.LogWarning("A runner of build {BuildId} was lost; its running jobs were failed", buildId);
                    live.Publish(LiveUpdates.Keys.Build(buildId), LiveUpdates.Keys.Dashboard);
                }
                foreach (var buildId in await builds.RepairStaleAsync(stoppingToken))
                    live.Publish(LiveUpdates.Keys.Build(buildId), LiveUpdates.Keys.Dashboard);
                // Deploys whose job a lost runner held, or that a crash left queued, start here.
                await deploys.SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (Hosting.StorageFull.Is(ex))
            {
                storage.RecordFull();
                logger.LogWarning("Reaping expired job leases failed for lack of storage space; leases are kept until writes work again");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Reaping expired job leases failed");
            }
        }
    }
}
