using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>
/// One real portal per test class with its embedded runner (two slots), two members and a viewer made through the
/// users API, and a folder outside the portal's data where deploy commands leave marks for the tests to read.
/// Each test makes its own repository and project, so tests of a class never see each other's servers.
/// </summary>
public sealed class DeliveryPortal : IAsyncLifetime
{
    public const string MemberName = "mia-member";
    public const string OtherMemberName = "omar-member";
    public const string ViewerName = "vera-viewer";

    private readonly List<GitRepo> _repos = [];
    private readonly List<HttpClient> _clients = [];
    private readonly SemaphoreSlim _sharedGate = new(1, 1);
    private string? _shared;

    public PortalHost Portal { get; private set; } = null!;
    public HttpClient Admin => Portal.Api;
    public HttpClient Member { get; private set; } = null!;
    public HttpClient OtherMember { get; private set; } = null!;
    public HttpClient Viewer { get; private set; } = null!;

    /// <summary>Where deploy and build commands write what they saw (never inside the portal's data folder): the folder the
    /// portal's runner shares with its jobs' sandboxes.</summary>
    public string Marks => Portal.Exchange;

    public async Task InitializeAsync()
    {
        Portal = await PortalHost.StartAsync(embeddedSlots: 2);
        Member = Client((await CreateUserAsync(MemberName, "member")).Token);
        OtherMember = Client((await CreateUserAsync(OtherMemberName, "member")).Token);
        Viewer = Client((await CreateUserAsync(ViewerName, "viewer")).Token);
    }

    private async Task<CreatedUserResponse> CreateUserAsync(string name, string role)
    {
        using var response = await Admin.PostAsJsonAsync("/api/v1/users", new { name, role });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreatedUserResponse>())!;
    }

    private HttpClient Client(string token)
    {
        var http = new HttpClient { BaseAddress = Portal.BaseUrl, Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _clients.Add(http);
        return http;
    }

    /// <summary>A fresh repository with one commit on main.</summary>
    public async Task<GitRepo> NewRepositoryAsync()
    {
        var repo = await GitRepo.CreateAsync("main");
        _repos.Add(repo);
        await repo.CommitAsync("First", ("readme.txt", "hello\n"));
        return repo;
    }

    /// <summary>A project of <paramref name="repo"/> whose one job "test" runs <paramref name="commands"/>; returns its slug.</summary>
    public Task<string> CreateProjectAsync(GitRepo repo, params string[] commands) =>
        Portal.CreateProjectAsync("Delivery " + Guid.NewGuid().ToString("N")[..8], repo.Path,
            PortalHost.OneJob(commands.Length == 0 ? ["true"] : commands));

    /// <summary>A new repository and a project of it whose job passes.</summary>
    public async Task<string> CreateProjectAsync() => await CreateProjectAsync(await NewRepositoryAsync());

    /// <summary>One project (of a passing job) that tests share when they only need a project to exist; they must not
    /// leave servers in it.</summary>
    public async Task<string> SharedProjectAsync()
    {
        await _sharedGate.WaitAsync();
        try
        {
            return _shared ??= await CreateProjectAsync();
        }
        finally
        {
            _sharedGate.Release();
        }
    }

    /// <summary>Builds <paramref name="branch"/> and waits for the build to pass.</summary>
    public async Task<BuildResponse> PassedBuildAsync(string slug, string? branch = null)
    {
        var build = await Portal.WaitForBuildAsync(await Portal.StartBuildAsync(slug, branch));
        Assert.True(build.Status == Status.Passed, await Portal.DescribeAsync(build));
        return build;
    }

    /// <summary>Creates a server as the admin (or <paramref name="as"/>) and asserts it was created.</summary>
    public async Task CreateServerAsync(string slug, string name, string[] commands, int approvals = 0, string deployers = "members",
        string mode = "manual", string branch = "", HttpClient? @as = null)
    {
        using var response = await (@as ?? Admin).PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name, commands, trigger = new { mode, branch }, approvals, deployers,
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A new folder under <see cref="Marks"/> for one test's marks.</summary>
    public string NewMarks()
    {
        var path = Path.Combine(Marks, Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        await Portal.DisposeAsync();
        foreach (var repo in _repos) repo.Dispose();
    }
}

/// <summary>Requests, reads and waits for deploys over the API.</summary>
internal static class Deploys
{
    public static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..16];

    /// <summary>A bash command that writes the hash of <paramref name="variable"/>'s value (empty when unset) to <paramref name="file"/>.</summary>
    public static string HashOf(string variable, string file) =>
        $"printf '%s' \"${{{variable}:-}}\" | sha256sum | cut -c1-16 > {file}";

    public static Task<HttpResponseMessage> RequestAsync(HttpClient client, long buildId, string server) =>
        client.PostAsJsonAsync($"/api/v1/builds/{buildId}/deploys", new { server });

    /// <summary>Requests a deploy and asserts it was accepted.</summary>
    public static async Task<DeployResponse> RequestOkAsync(HttpClient client, long buildId, string server)
    {
        using var response = await RequestAsync(client, buildId, server);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<DeployResponse>())!;
    }

    public static Task<HttpResponseMessage> ActAsync(HttpClient client, long deployId, string action, string? comment = null) =>
        client.PostAsJsonAsync($"/api/v1/deploys/{deployId}/{action}", new { comment });

    public static async Task<DeployResponse> GetAsync(HttpClient client, long deployId) =>
        (await client.GetFromJsonAsync<DeployResponse>($"/api/v1/deploys/{deployId}"))!;

    /// <summary>Polls the deploy until <paramref name="until"/> holds (default: finished); fails the test on time-out.</summary>
    public static async Task<DeployResponse> WaitAsync(HttpClient client, long deployId, Func<DeployResponse, bool>? until = null,
        int timeoutSeconds = 60)
    {
        until ??= d => DeployStatus.IsFinished(d.Status);
        return await PortalHost.PollAsync(() => GetAsync(client, deployId), until,
            deploy => $"Deploy {deployId} did not reach the expected state in {timeoutSeconds} s; it is {deploy.Status}: {deploy.Note}",
            timeoutSeconds);
    }

    /// <summary>Polls the newest deploy of a server until <paramref name="until"/> holds; fails the test on time-out.</summary>
    public static async Task<DeployResponse> WaitForNewestAsync(HttpClient client, string slug, string server,
        Func<DeployResponse, bool> until, int timeoutSeconds = 60)
    {
        var newest = await PortalHost.PollAsync(
            async () => (await client.GetFromJsonAsync<ServerResponse>($"/api/v1/projects/{slug}/servers/{server}"))!.Deploys!.FirstOrDefault(),
            deploy => deploy is not null && until(deploy),
            deploy => $"No deploy to {server} reached the expected state in {timeoutSeconds} s; newest: {deploy?.Status ?? "none"} {deploy?.Note}",
            timeoutSeconds);
        return newest!;
    }

    /// <summary>Waits until <paramref name="path"/> exists (a deploy command reached a point); fails the test on time-out.</summary>
    public static async Task WaitForFileAsync(string path, int timeoutSeconds = 60)
    {
        await PortalHost.PollAsync(() => Task.FromResult(File.Exists(path)), exists => exists,
            _ => $"{path} did not appear in {timeoutSeconds} s.", timeoutSeconds, intervalMilliseconds: 50);
    }

    /// <summary>A bash command that waits until <paramref name="path"/> exists: lets a test decide when a deploy may go on.</summary>
    public static string WaitFor(string path) => $"while [ ! -e {path} ]; do sleep 0.1; done";

    /// <summary>The problem's message (its detail) of a failed response.</summary>
    public static async Task<string> ProblemAsync(HttpResponseMessage response) => await response.Content.ReadAsStringAsync();
}
