using System.Net;
using System.Net.Http.Json;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Agent;

/// <summary>The portal returned a status the caller has to act on (401: re-register, or stop when <see cref="Revoked"/>;
/// 403: the job is not this runner's claim; 409: resend; 410: job gone).</summary>
public sealed class PortalStatusException(HttpStatusCode status, string message, bool revoked = false) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>An admin revoked this runner: registering again is not the answer.</summary>
    public bool Revoked { get; } = revoked;
}

/// <summary>Typed calls of the runner protocol. Transport errors surface as exceptions; callers decide on retries.
/// Calls about a job carry the lease token its claim returned (kept here from <see cref="ClaimAsync"/> until
/// <see cref="Forget"/>), so every caller, the report uploader included, sends it without knowing of it.</summary>
public sealed class PortalClient(HttpClient http, Uri portalUrl)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, string> _leases = new();

    public string? Token { get; set; }

    /// <summary>The job is over for this runner: its lease is no longer sent.</summary>
    public void Forget(long jobId) => _leases.TryRemove(jobId, out _);

    public async Task<RegisterResponse> RegisterAsync(RegisterRequest request, CancellationToken ct) =>
        (await ReadAsync<RegisterResponse>(await SendAsync(RunnerRoutes.Register, request, ct), ct))!;

    /// <summary>Long-polls for a job; null when none came within the wait.</summary>
    public async Task<JobAssignment?> ClaimAsync(int waitSeconds, CancellationToken ct, IReadOnlyList<string>? executors = null,
        string? sandbox = null)
    {
        using var response = await SendAsync(RunnerRoutes.Claim, new ClaimRequest(waitSeconds, executors, sandbox), ct);
        var job = response.StatusCode == HttpStatusCode.NoContent ? null : await ReadAsync<JobAssignment>(response, ct);
        if (job is { LeaseToken: { Length: > 0 } lease }) _leases[job.JobId] = lease;
        return job;
    }

    /// <summary>Renews the leases of <paramref name="jobIds"/> (each with its claim's lease token).</summary>
    public async Task<HeartbeatResponse> HeartbeatAsync(IReadOnlyList<long> jobIds, CancellationToken ct)
    {
        var leases = jobIds.Where(_leases.ContainsKey).Select(id => new JobLease(id, _leases[id])).ToList();
        return (await ReadAsync<HeartbeatResponse>(await SendAsync(RunnerRoutes.Heartbeat, new HeartbeatRequest(jobIds, leases), ct), ct))!;
    }

    public async Task StreamAsync(long jobId, long seq, StreamBatch batch, CancellationToken ct)
    {
        using var response = await SendAsync(RunnerRoutes.Stream(jobId, seq), batch, ct, jobId);
        await EnsureAsync(response, ct);
    }

    public async Task CompleteAsync(long jobId, CompleteRequest request, CancellationToken ct)
    {
        using var response = await SendAsync(RunnerRoutes.Complete(jobId), request, ct, jobId);
        await EnsureAsync(response, ct);
    }

    /// <summary>Sends one report file (or, when it is over the portal's limit, only its size) for a running job.</summary>
    public async Task<ReportUploadResponse> UploadReportAsync(long jobId, ReportSpec spec, string relativePath, Stream? content,
        long sizeBytes, CancellationToken ct)
    {
        var query = $"?kind={Uri.EscapeDataString(spec.Kind)}&path={Uri.EscapeDataString(relativePath)}&size={sizeBytes}";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(portalUrl, RunnerRoutes.Report(jobId) + query));
        request.Content = content is null ? new ByteArrayContent([]) : new StreamContent(content);
        request.Content.Headers.ContentType = new("application/xml");
        if (Token is not null) request.Headers.Authorization = new("Bearer", Token);
        AddLease(request, jobId);
        return (await ReadAsync<ReportUploadResponse>(await http.SendAsync(request, ct), ct))!;
    }

    private async Task<HttpResponseMessage> SendAsync<T>(string route, T body, CancellationToken ct, long? jobId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(portalUrl, route))
        {
            Content = JsonContent.Create(body, options: RunnerJson.Options),
        };
        if (Token is not null) request.Headers.Authorization = new("Bearer", Token);
        if (jobId is { } id) AddLease(request, id);
        return await http.SendAsync(request, ct);
    }

    private void AddLease(HttpRequestMessage request, long jobId)
    {
        if (_leases.TryGetValue(jobId, out var lease)) request.Headers.Add(RunnerRoutes.LeaseHeader, lease);
    }

    private static async Task<T?> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        using (response)
        {
            await EnsureAsync(response, ct);
            return await response.Content.ReadFromJsonAsync<T>(RunnerJson.Options, ct);
        }
    }

    private static async Task EnsureAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var text = await response.Content.ReadAsStringAsync(ct);
        throw new PortalStatusException(response.StatusCode,
            $"The portal answered {(int)response.StatusCode} {response.ReasonPhrase}: {(text.Length > 500 ? text[..500] : text)}",
            response.StatusCode == HttpStatusCode.Unauthorized && response.Headers.Contains(RunnerRoutes.RevokedHeader));
    }
}
