using System.Net;
using System.Net.Http.Json;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Agent;

/// <summary>The portal returned a status the caller has to act on (401: re-register; 409: resend; 410: job gone).</summary>
public sealed class PortalStatusException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>Typed calls of the runner protocol. Transport errors surface as exceptions; callers decide on retries.</summary>
public sealed class PortalClient(HttpClient http, Uri portalUrl)
{
    public string? Token { get; set; }

    public async Task<RegisterResponse> RegisterAsync(RegisterRequest request, CancellationToken ct) =>
        (await ReadAsync<RegisterResponse>(await SendAsync(RunnerRoutes.Register, request, ct), ct))!;

    /// <summary>Long-polls for a job; null when none came within the wait.</summary>
    public async Task<JobAssignment?> ClaimAsync(int waitSeconds, CancellationToken ct, IReadOnlyList<string>? executors = null)
    {
        using var response = await SendAsync(RunnerRoutes.Claim, new ClaimRequest(waitSeconds, executors), ct);
        return response.StatusCode == HttpStatusCode.NoContent ? null : await ReadAsync<JobAssignment>(response, ct);
    }

    public async Task<HeartbeatResponse> HeartbeatAsync(IReadOnlyList<long> jobIds, CancellationToken ct) =>
        (await ReadAsync<HeartbeatResponse>(await SendAsync(RunnerRoutes.Heartbeat, new HeartbeatRequest(jobIds), ct), ct))!;

    public async Task StreamAsync(long jobId, long seq, StreamBatch batch, CancellationToken ct)
    {
        using var response = await SendAsync(RunnerRoutes.Stream(jobId, seq), batch, ct);
        await EnsureAsync(response, ct);
    }

    public async Task CompleteAsync(long jobId, CompleteRequest request, CancellationToken ct)
    {
        using var response = await SendAsync(RunnerRoutes.Complete(jobId), request, ct);
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
        return (await ReadAsync<ReportUploadResponse>(await http.SendAsync(request, ct), ct))!;
    }

    private async Task<HttpResponseMessage> SendAsync<T>(string route, T body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(portalUrl, route))
        {
            Content = JsonContent.Create(body, options: RunnerJson.Options),
        };
        if (Token is not null) request.Headers.Authorization = new("Bearer", Token);
        return await http.SendAsync(request, ct);
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
            $"The portal answered {(int)response.StatusCode} {response.ReasonPhrase}: {(text.Length > 500 ? text[..500] : text)}");
    }
}
