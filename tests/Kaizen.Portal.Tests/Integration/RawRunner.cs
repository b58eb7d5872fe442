using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// A "runner" that speaks the runner protocol over raw HTTP, one call at a time, so a test decides exactly what the
/// portal sees: repeated batches, batches out of order, nothing at all (a runner that died), or calls without the
/// claim's lease token. It keeps the lease of each job it claimed with <see cref="ClaimJobAsync"/> and sends it like the
/// real runner does, unless a test says otherwise.
/// </summary>
public sealed class RawRunner : IDisposable
{
    private readonly HttpClient _http;
    private readonly Dictionary<long, string> _leases = [];

    private RawRunner(HttpClient http, long id)
    {
        _http = http;
        Id = id;
    }

    public long Id { get; }

    /// <summary>Registers with the portal's registration token and keeps the runner token for every later call.</summary>
    /// <param name="sandbox">What the runner says confines its jobs (a sandbox by default, as the test runners stand for
    /// sandboxed ones).</param>
    public static async Task<RawRunner> RegisterAsync(PortalHost portal, string name, int slots = 1, IReadOnlyList<string>? labels = null,
        string sandbox = RunnerSandbox.Bubblewrap)
    {
        var http = new HttpClient { BaseAddress = portal.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        var response = await http.PostAsJsonAsync(RunnerRoutes.Register,
            new RegisterRequest(PortalHost.RegistrationToken, name, slots, "test", ["shell"], labels ?? [], sandbox), RunnerJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var registered = (await response.Content.ReadFromJsonAsync<RegisterResponse>(RunnerJson.Options))!;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", registered.Token);
        return new RawRunner(http, registered.RunnerId);
    }

    public static Task<HttpResponseMessage> RegisterAsync(HttpClient http, string registrationToken, string name) =>
        http.PostAsJsonAsync(RunnerRoutes.Register,
            new RegisterRequest(registrationToken, name, 1, "test", ["shell"], []), RunnerJson.Options);

    public Task<HttpResponseMessage> ClaimAsync(int waitSeconds = 0) =>
        _http.PostAsJsonAsync(RunnerRoutes.Claim, new ClaimRequest(waitSeconds), RunnerJson.Options);

    /// <summary>Claims the next job, waiting up to <paramref name="waitSeconds"/>; fails the test when none comes.</summary>
    public async Task<JobAssignment> ClaimJobAsync(int waitSeconds = 10)
    {
        using var response = await ClaimAsync(waitSeconds);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var job = (await response.Content.ReadFromJsonAsync<JobAssignment>(RunnerJson.Options))!;
        if (job.LeaseToken is { } lease) _leases[job.JobId] = lease;
        return job;
    }

    /// <summary>The lease token this runner holds for <paramref name="jobId"/> (null: it did not claim it here).</summary>
    public string? LeaseOf(long jobId) => _leases.GetValueOrDefault(jobId);

    public Task<HttpResponseMessage> HeartbeatAsync(params long[] jobIds) =>
        _http.PostAsJsonAsync(RunnerRoutes.Heartbeat,
            new HeartbeatRequest(jobIds, jobIds.Where(_leases.ContainsKey).Select(id => new JobLease(id, _leases[id])).ToList()), RunnerJson.Options);

    /// <summary>Sends one stream batch holding <paramref name="text"/> as job-level output, with the job's lease if held.</summary>
    public Task<HttpResponseMessage> StreamAsync(long jobId, long seq, string text, params CommandEvent[] events) =>
        StreamWithLeaseAsync(jobId, seq, text, LeaseOf(jobId), events);

    /// <summary>Sends one stream batch with <paramref name="lease"/> as the lease header (none when null).</summary>
    public Task<HttpResponseMessage> StreamWithLeaseAsync(long jobId, long seq, string text, string? lease, params CommandEvent[] events) =>
        SendAsync(RunnerRoutes.Stream(jobId, seq), new StreamBatch([new LogChunk(null, Encoding.UTF8.GetBytes(text))], events), lease);

    public Task<HttpResponseMessage> CompleteAsync(long jobId, JobOutcome outcome, long lastSeq, string? error = null) =>
        CompleteWithLeaseAsync(jobId, outcome, lastSeq, LeaseOf(jobId), error);

    public Task<HttpResponseMessage> CompleteWithLeaseAsync(long jobId, JobOutcome outcome, long lastSeq, string? lease, string? error = null) =>
        SendAsync(RunnerRoutes.Complete(jobId), new CompleteRequest(outcome, lastSeq, error), lease);

    /// <summary>Uploads a JUnit report file's text for the job, with <paramref name="lease"/> as the lease header.</summary>
    public Task<HttpResponseMessage> UploadReportWithLeaseAsync(long jobId, string xml, string? lease)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, RunnerRoutes.Report(jobId) + "?kind=junit&path=forged.xml")
        {
            Content = new StringContent(xml, Encoding.UTF8, "application/xml"),
        };
        if (lease is not null) request.Headers.Add(RunnerRoutes.LeaseHeader, lease);
        return _http.SendAsync(request);
    }

    private Task<HttpResponseMessage> SendAsync<T>(string route, T body, string? lease)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = JsonContent.Create(body, options: RunnerJson.Options) };
        if (lease is not null) request.Headers.Add(RunnerRoutes.LeaseHeader, lease);
        return _http.SendAsync(request);
    }

    public void Dispose() => _http.Dispose();
}
