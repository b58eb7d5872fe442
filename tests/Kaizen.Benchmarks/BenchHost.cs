using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kaizen.Benchmarks;

/// <summary>
/// The real portal in this process (as the integration tests start it) on a loopback port, with a temp data folder,
/// an admin API token and its embedded runner, plus a real git repository with one commit. Everything is deleted on dispose.
/// </summary>
public sealed class BenchHost : IAsyncDisposable
{
    private const string AdminToken = "kzt_benchmark_admin_token";

    private readonly WebApplication _app;

    private BenchHost(WebApplication app, Uri baseUrl, string root, bool sandbox)
    {
        _app = app;
        Root = root;
        Sandbox = sandbox;
        Api = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = baseUrl,
            Timeout = TimeSpan.FromMinutes(5),
        };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    /// <summary>Temp folder holding the data directory, the repository and scratch files.</summary>
    public string Root { get; }

    /// <summary>Whether the embedded runner was asked to run jobs in its sandbox (it runs them without one when
    /// bubblewrap cannot make one here).</summary>
    public bool Sandbox { get; }

    /// <summary>How rows name this host's runs.</summary>
    public string Mode => Sandbox ? "sandbox on" : "sandbox off";

    /// <summary>A folder jobs and the benchmark both see: shared with the sandbox, which shows jobs nothing else of the host.</summary>
    public string Scratch => Path.Combine(Root, "scratch");

    public HttpClient Api { get; }

    /// <summary>The portal's services, for what the API does not show (whether a debug session's runner is still connected).</summary>
    public IServiceProvider Services => _app.Services;

    public string RepositoryPath => Path.Combine(Root, "repo");

    /// <param name="sandbox">Run jobs in the embedded runner's bubblewrap sandbox (the product's default), or as this process's user.</param>
    /// <param name="settings">More portal settings (<c>--Kaizen:Section:Name=value</c>), after the benchmark's own.</param>
    public static async Task<BenchHost> StartAsync(int slots, bool sandbox = true, IEnumerable<string>? settings = null)
    {
        var root = Directory.CreateTempSubdirectory("kaizen-bench-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "scratch"));
        await CreateRepositoryAsync(Path.Combine(root, "repo"));
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            $"--Kaizen:DataDirectory={Path.Combine(root, "data")}",
            $"--Kaizen:Bootstrap:AdminToken={AdminToken}",
            "--Kaizen:Bootstrap:AdminPassword=benchmark-password",
            "--Kaizen:Runners:Embedded:Enabled=true",
            "--Kaizen:Git:PollSeconds=0",
            $"--Kaizen:Runners:Embedded:Slots={slots}",
            $"--Kaizen:Runners:Embedded:Sandbox={(sandbox ? "true" : "false")}",
            $"--Kaizen:Runners:Embedded:SandboxShares:0={Path.Combine(root, "scratch")}",
            "--Logging:LogLevel:Default=Warning",
            .. settings ?? [],
        ];
        var app = PortalApp.Create(args, b =>
        {
            b.Logging.ClearProviders();
            b.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        });
        await app.PrepareAsync();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BenchHost(app, new Uri(address), root, sandbox);
    }

    private static async Task CreateRepositoryAsync(string path)
    {
        Directory.CreateDirectory(path);
        await File.WriteAllTextAsync(Path.Combine(path, "README.txt"), "A repository for the Kaizen benchmark.\n");
        var identity = new Dictionary<string, string>
        {
            ["GIT_AUTHOR_NAME"] = "Kaizen Benchmark",
            ["GIT_AUTHOR_EMAIL"] = "bench@kaizen.invalid",
            ["GIT_COMMITTER_NAME"] = "Kaizen Benchmark",
            ["GIT_COMMITTER_EMAIL"] = "bench@kaizen.invalid",
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        };
        await GitAsync(path, identity, "init", "-q", "-b", "main");
        await GitAsync(path, identity, "add", "-A");
        await GitAsync(path, identity, "commit", "-q", "-m", "Benchmark repository");
    }

    private static async Task GitAsync(string directory, IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-C");
        info.ArgumentList.Add(directory);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in env) info.Environment[k] = v;
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {await stderr}");
    }

    /// <summary>The host name a job of this portal sees ($HOSTNAME, no process): <c>kaizen-job</c> inside the sandbox.</summary>
    public async Task<string> JobHostNameAsync()
    {
        var file = Path.Combine(Scratch, "hostname");
        File.Delete(file);
        var slug = await CreateProjectAsync($"Sandbox probe {Mode}", [new JobSettings("probe", [$"printf '%s' \"$HOSTNAME\" > '{file}'"])]);
        await WaitFinishedAsync(await StartBuildAsync(slug), TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(1));
        return File.Exists(file) ? (await File.ReadAllTextAsync(file)).Trim() : "(the job could not write to the shared scratch folder)";
    }

    /// <summary>Creates a project from the benchmark repository with these jobs; returns its slug.</summary>
    public async Task<string> CreateProjectAsync(string name, IReadOnlyList<JobSettings> jobs)
    {
        var created = await Api.PostAsJsonAsync("/api/v1/projects", new { name, gitUrl = RepositoryPath });
        await EnsureAsync(created);
        var slug = (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;
        var saved = await Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings",
            new { setup = Array.Empty<string>(), jobs, epilogue = Array.Empty<string>() });
        await EnsureAsync(saved);
        return slug;
    }

    public async Task<long> StartBuildAsync(string slug)
    {
        using var response = await Api.PostAsJsonAsync($"/api/v1/projects/{slug}/builds", new { branch = (string?)null });
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<CreatedResponse>())!.Id;
    }

    public async Task<BuildResponse> GetBuildAsync(long id) =>
        (await Api.GetFromJsonAsync<BuildResponse>($"/api/v1/builds/{id}"))!;

    /// <summary>Polls until the build has finished; throws if it did not pass.</summary>
    public async Task<BuildResponse> WaitFinishedAsync(long id, TimeSpan poll, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var build = await GetBuildAsync(id);
            if (Status.IsFinished(build.Status))
            {
                if (build.Status != Status.Passed)
                    throw new InvalidOperationException($"Build {id} ended {build.Status}: " +
                        string.Join("; ", build.Jobs.Where(j => j.Status != Status.Passed).Take(3).Select(j => $"{j.Name}={j.Status} {j.Error}")));
                return build;
            }
            if (deadline.Elapsed > timeout) throw new TimeoutException($"Build {id} did not finish within {timeout.TotalSeconds:0} s ({build.Status}).");
            await Task.Delay(poll);
        }
    }

    private static async Task EnsureAsync(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode) return;
        throw new InvalidOperationException(
            $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: " +
            await response.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        try
        {
            await _app.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        }
        finally
        {
            await _app.DisposeAsync();
            try { Directory.Delete(Root, recursive: true); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
    }
}
