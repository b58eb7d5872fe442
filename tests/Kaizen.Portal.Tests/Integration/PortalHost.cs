using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Hosting;
using Kaizen.Runner.Agent;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// The real portal on a loopback port with its own data folder, an admin API token, and optionally its embedded
/// runner; extra runners can be started beside it. Everything talks over real HTTP.
/// </summary>
public sealed class PortalHost : IAsyncDisposable
{
    public const string AdminToken = "kzt_admin_test_token";
    public const string AdminPassword = "admin-password";

    private readonly List<(CancellationTokenSource Stop, Task Run, HttpClient Http)> _runners = [];
    private readonly TempDirectory? _ownedData;
    private readonly TempDirectory _exchange;

    private PortalHost(WebApplication app, Uri baseUrl, string dataDirectory, TempDirectory? ownedData, TempDirectory exchange)
    {
        App = app;
        BaseUrl = baseUrl;
        DataDirectory = dataDirectory;
        _ownedData = ownedData;
        _exchange = exchange;
        Api = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(120) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public WebApplication App { get; }
    public Uri BaseUrl { get; }
    public string DataDirectory { get; }

    /// <summary>
    /// A folder the test and its jobs share (marks a job leaves, files a test drops to let a job go on): shown in every
    /// job's sandbox, as an operator shares a folder (<c>SandboxShares</c>). Nothing else of the host is.
    /// </summary>
    public string Exchange => _exchange.Path;
    public HttpClient Api { get; }
    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <param name="embeddedSlots">Slots of the embedded runner; 0 turns it off.</param>
    /// <param name="dataDirectory">Reuse a data folder (to restart a portal); a fresh one otherwise.</param>
    /// <param name="port">A fixed port (to restart a portal at the same address); any free port otherwise.</param>
    /// <param name="embeddedSandbox">The sandbox the embedded runner reports. Tests' runners stand for sandboxed ones by
    /// default (they run public projects' jobs); tests of what an unsandboxed runner may not run say <c>none</c>.</param>
    /// <param name="embeddedLabels">The embedded runner's labels; by default <c>protected</c>, so it takes deploys to
    /// guarded servers as the delivery tests expect.</param>
    public static async Task<PortalHost> StartAsync(int embeddedSlots = 2, string? dataDirectory = null, int port = 0,
        int leaseSeconds = 30, int heartbeatSeconds = 1, IDictionary<string, string>? settings = null,
        string embeddedSandbox = RunnerSandbox.Bubblewrap, IReadOnlyList<string>? embeddedLabels = null)
    {
        var owned = dataDirectory is null ? new TempDirectory() : null;
        var data = dataDirectory ?? owned!.Path;
        var exchange = new TempDirectory();
        var args = new List<string>
        {
            $"--urls=http://127.0.0.1:{port}",
            $"--Kaizen:DataDirectory={data}",
            $"--Kaizen:Bootstrap:AdminToken={AdminToken}",
            $"--Kaizen:Bootstrap:AdminPassword={AdminPassword}",
            $"--Kaizen:Runners:RegistrationToken={RegistrationToken}",
            $"--Kaizen:Runners:LeaseSeconds={leaseSeconds}",
            $"--Kaizen:Runners:HeartbeatSeconds={heartbeatSeconds}",
            $"--Kaizen:Runners:Embedded:Enabled={embeddedSlots > 0}",
            $"--Kaizen:Runners:Embedded:Slots={Math.Max(1, embeddedSlots)}",
            $"--Kaizen:Runners:Embedded:SandboxShares:0={exchange.Path}",
            $"--Kaizen:Runners:Embedded:Sandbox={embeddedSandbox != RunnerSandbox.None}",
            // Tests start the builds they expect; a test of polling turns it on with its settings.
            "--Kaizen:Git:PollSeconds=0",
        };
        args.AddRange((embeddedLabels ?? [Runners.RunnerPools.Protected]).Select((label, i) => $"--Kaizen:Runners:Embedded:Labels:{i}={label}"));
        args.AddRange((settings ?? new Dictionary<string, string>()).Select(kv => $"--{kv.Key}={kv.Value}"));
        var app = PortalApp.Create(args.ToArray(), b =>
        {
            b.Logging.ClearProviders();
            b.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        });
        await app.PrepareAsync();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new PortalHost(app, new Uri(address), data, owned, exchange);
    }

    public const string RegistrationToken = "kzt_registration";

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts a separate runner (same library as kaizen-runner) against this portal.</summary>
    /// <param name="sandbox"><see cref="RunnerSandbox.None"/>: jobs run as the runner's user, holding their own job token
    /// (a trusted runner, which the portal sends no public or fork jobs); otherwise in the real sandbox.</param>
    public RunnerAgent StartRunner(string name, int slots = 1, string? workDirectory = null, Uri? portalUrl = null,
        IReadOnlyList<string>? labels = null, string sandbox = RunnerSandbox.Bubblewrap)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(100) };
        var agent = new RunnerAgent(new RunnerOptions
        {
            PortalUrl = portalUrl ?? BaseUrl,
            RegistrationToken = RegistrationToken,
            Name = name,
            Slots = slots,
            WorkDirectory = workDirectory ?? Path.Combine(DataDirectory, "runners", name),
            HeartbeatInterval = TimeSpan.FromMilliseconds(500),
            SandboxShares = [Exchange],
            NoSandbox = sandbox == RunnerSandbox.None,
            Labels = labels ?? [],
        }, http, LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning)));
        var stop = new CancellationTokenSource();
        _runners.Add((stop, Task.Run(() => agent.RunAsync(stop.Token)), http));
        return agent;
    }

    /// <summary>Build settings with one job named "test" running <paramref name="commands"/>.</summary>
    public static object OneJob(params string[] commands) => new
    {
        setup = Array.Empty<string>(),
        jobs = new[] { new { name = "test", commands } },
        epilogue = Array.Empty<string>(),
    };

    /// <summary>Creates a project from a repository and saves its build settings; returns its slug. Public or private
    /// as <paramref name="isPublic"/> says, else as the portal decides for a new project.</summary>
    public async Task<string> CreateProjectAsync(string name, string gitUrl, object settings, bool? isPublic = null)
    {
        var created = await Api.PostAsJsonAsync("/api/v1/projects",
            isPublic is { } open ? new { name, gitUrl, @public = open } : (object)new { name, gitUrl });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var slug = (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;
        var saved = await Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", settings);
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        return slug;
    }

    public async Task<long> StartBuildAsync(string slug, string? branch = null)
    {
        var response = await Api.PostAsJsonAsync($"/api/v1/projects/{slug}/builds", new { branch });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreatedResponse>())!.Id;
    }

    public async Task<BuildResponse> GetBuildAsync(long id) =>
        (await Api.GetFromJsonAsync<BuildResponse>($"/api/v1/builds/{id}"))!;

    /// <summary>Polls the build until <paramref name="until"/> holds (default: finished); fails the test on time-out.</summary>
    public async Task<BuildResponse> WaitForBuildAsync(long id, Func<BuildResponse, bool>? until = null, int timeoutSeconds = 60)
    {
        until ??= b => Status.IsFinished(b.Status);
        return await PollAsync(() => GetBuildAsync(id), until,
            build => $"Build {id} did not reach the expected state in {timeoutSeconds} s; it is {build.Status}: " +
                     string.Join("; ", build.Jobs.Select(j => $"{j.Name}={j.Status} {j.Error}")),
            timeoutSeconds, intervalMilliseconds: 50);
    }

    /// <summary>
    /// Reads with <paramref name="read"/> until <paramref name="until"/> holds for what it read, and returns that; once
    /// <paramref name="timeoutSeconds"/> have passed, fails the test with <paramref name="describe"/> of the last read.
    /// </summary>
    public static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> until, Func<T, string> describe,
        int timeoutSeconds = 60, int intervalMilliseconds = 100)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var value = await read();
            if (until(value)) return value;
            if (DateTime.UtcNow > deadline) Assert.Fail(describe(value));
            await Task.Delay(intervalMilliseconds);
        }
    }

    public Task<string> LogAsync(long jobId) => Api.GetStringAsync($"/api/v1/jobs/{jobId}/log");

    /// <summary>A build's status with the logs of its jobs that did not pass, for assertion messages.</summary>
    public async Task<string> DescribeAsync(BuildResponse build)
    {
        var parts = new List<string> { $"build {build.Id} is {build.Status}" };
        foreach (var job in build.Jobs.Where(j => j.Status != Status.Passed))
            parts.Add($"--- {job.Name}: {job.Status} {job.Error}\n{await LogAsync(job.Id)}");
        return string.Join('\n', parts);
    }

    public async Task StopRunnersAsync()
    {
        foreach (var (stop, run, http) in _runners)
        {
            await stop.CancelAsync();
            try { await run.WaitAsync(TimeSpan.FromSeconds(20)); }
            catch (OperationCanceledException) { }
            http.Dispose();
        }
        _runners.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await StopRunnersAsync();
        Api.Dispose();
        try
        {
            await App.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        }
        finally
        {
            await App.DisposeAsync();
            _ownedData?.Dispose();
            _exchange.Dispose();
        }
    }
}
