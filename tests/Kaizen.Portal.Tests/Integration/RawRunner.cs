using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// A "runner" that speaks the runner protocol over raw HTTP, one call at a time, so a test decides exactly what the
/// portal sees: repeated batches, batches out of order, or nothing at all (a runner that died).
/// </summary>
public sealed class RawRunner : IDisposable
{
    private readonly HttpClient _http;

    private RawRunner(HttpClient http, long id)
    {
        _http = http;
        Id = id;
    }

    public long Id { get; }

    /// <summary>Registers with the portal's registration token and keeps the runner token for every later call.</summary>
    public static async Task<RawRunner> RegisterAsync(PortalHost portal, string name)
    {
        var http = new HttpClient { BaseAddress = portal.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        var response = await RegisterAsync(http, PortalHost.RegistrationToken, name);
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
        return (await response.Content.ReadFromJsonAsync<JobAssignment>(RunnerJson.Options))!;
    }

    public Task<HttpResponseMessage> HeartbeatAsync(params long[] jobIds) =>
        _http.PostAsJsonAsync(RunnerRoutes.Heartbeat, new HeartbeatRequest(jobIds), RunnerJson.Options);

    /// <summary>Sends one stream batch holding <paramref name="text"/> as job-level output.</summary>
    public Task<HttpResponseMessage> StreamAsync(long jobId, long seq, string text, params CommandEvent[] events) =>
        _http.PostAsJsonAsync(RunnerRoutes.Stream(jobId, seq),
            new StreamBatch([new LogChunk(null, Encoding.UTF8.GetBytes(text))], events), RunnerJson.Options);

    public Task<HttpResponseMessage> CompleteAsync(long jobId, JobOutcome outcome, long lastSeq, string? error = null) =>
        _http.PostAsJsonAsync(RunnerRoutes.Complete(jobId), new CompleteRequest(outcome, lastSeq, error), RunnerJson.Options);

    public void Dispose() => _http.Dispose();
}
