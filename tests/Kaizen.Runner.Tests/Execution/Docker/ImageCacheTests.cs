using System.Diagnostics;
using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Docker;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution.Docker;

/// <summary>
/// Pulls through a pull-through mirror (Debian's docker-registry with proxy.remoteurl) of an "upstream" registry, both on
/// loopback, the second job on an image not pulling, and eviction over the image budget.
/// </summary>
public sealed class ImageCacheTests : IAsyncLifetime
{
    private const string Registry = "/usr/bin/docker-registry";
    private readonly TempDirectory _work = new();
    private readonly string _runnerId = "test-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _image = "kaizen-test/mirrored:" + Guid.NewGuid().ToString("N")[..10];
    private readonly List<Process> _registries = [];
    private readonly List<string> _tags = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var registry in _registries)
        {
            registry.Kill(entireProcessTree: true);
            await registry.WaitForExitAsync();
            registry.Dispose();
        }

        foreach (var tag in _tags)
        {
            await DockerTestImages.RunAsync("docker", "rmi", "-f", tag);
        }

        _work.Dispose();
    }

    private static void RequireRegistry()
    {
        if (File.Exists(Registry))
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_DOCKER") == "1")
        {
            Assert.Fail($"{Registry} is missing (KAIZEN_REQUIRE_DOCKER=1): apt-get install docker-registry");
        }

        Skip.If(true, $"{Registry} is missing: apt-get install docker-registry");
    }

    /// <summary>Starts docker-registry on a free loopback port (a proxy of <paramref name="upstream"/> when given).</summary>
    private async Task<string> StartRegistryAsync(string name, string? upstream = null)
    {
        var port = FreePort();
        var root = Directory.CreateDirectory(Path.Combine(_work.Path, name)).FullName;
        var config = Path.Combine(root, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {root}/data
            http:
              addr: 127.0.0.1:{port}
            {(upstream is null ? "" : $"proxy:\n  remoteurl: http://{upstream}")}
            """);
        var process = Process.Start(new ProcessStartInfo(Registry)
        {
            ArgumentList = { "serve", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
        _registries.Add(process);
        using var http = new HttpClient();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/v2/")).IsSuccessStatusCode)
                {
                    return $"127.0.0.1:{port}";
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"docker-registry {name} did not start on port {port}");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private JobAssignment Job(long id) => new(
        id, 1, "acme", "test", "", "main", "", [new JobCommand(0, CommandPhase.Main, "echo ran in $KAIZEN_JOB_ID")],
        new Dictionary<string, string>(), 60, Image: _image);

    [SkippableFact]
    public async Task An_image_is_pulled_once_through_the_mirror_and_the_next_job_does_not_pull()
    {
        await DockerTestImages.RequireAsync();
        RequireRegistry();
        var upstream = await StartRegistryAsync("upstream");
        var mirror = await StartRegistryAsync("mirror", upstream);
        var upstreamTag = $"{upstream}/{_image}";
        _tags.AddRange([upstreamTag, _image, $"{mirror}/{_image}"]);
        Assert.Equal(0, (await DockerTestImages.RunAsync("docker", "tag", DockerTestImages.Busybox, upstreamTag)).ExitCode);
        var push = await DockerTestImages.RunAsync("docker", "push", upstreamTag);
        Assert.True(push.ExitCode == 0, push.Output);
        await DockerTestImages.RunAsync("docker", "rmi", upstreamTag);
        var (engine, problem) = await DockerEngine.TryConnectAsync(new DockerOptions { RegistryMirror = mirror }, _runnerId, _work.Path);
        Assert.True(engine is not null, problem);
        using (engine)
        {
            var executor = new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path)) { Docker = engine };
            var first = new MemoryJobOutput();
            var second = new MemoryJobOutput();

            var one = await executor.RunAsync(Job(1), first, CancellationToken.None);
            var two = await executor.RunAsync(Job(2), second, CancellationToken.None);

            Assert.True(one.Outcome == JobOutcome.Passed, one.Error + first.Log(null));
            Assert.Equal("ran in 1\n", first.Log(0));
            Assert.Matches($"\\[kaizen\\] pulled image {_image} through the mirror {mirror} in [0-9.]+ m?s\n", first.Log(null));
            Assert.Equal(JobOutcome.Passed, two.Outcome);
            Assert.Contains($"[kaizen] image {_image} present, no pull\n", second.Log(null));
            // The daemon got it from the mirror (the upstream's tag was removed before the job).
            Assert.Equal(0, (await DockerTestImages.RunAsync("docker", "image", "inspect", $"{mirror}/{_image}")).ExitCode);
        }

        // Over a budget of 1 MB, the image (no longer in use) is evicted; in use, it would stay.
        var (small, _) = await DockerEngine.TryConnectAsync(new DockerOptions { ImageBudgetMegabytes = 1 }, _runnerId, _work.Path);
        using (small)
        {
            await small!.EnsureImageAsync(_image, PullPolicy.Never, CancellationToken.None);
            small.Use(_image, +1);
            Assert.Empty(await small.EvictAsync());
            small.Use(_image, -1);

            // A warm container of the image does not keep it: it goes first.
            small.Replenish(_image, new KaizenFunctions(_work.Path));
            for (var i = 0; i < 100 && (await DockerTestImages.RunAsync("docker", "ps", "-q", "--filter", $"label=kaizen.runner={_runnerId}")).Output.Trim().Length == 0; i++)
            {
                await Task.Delay(100);
            }

            Assert.NotEmpty((await DockerTestImages.RunAsync("docker", "ps", "-q", "--filter", $"label=kaizen.runner={_runnerId}")).Output.Trim());
            Assert.Contains(_image, await small.EvictAsync());
            Assert.Empty((await DockerTestImages.RunAsync("docker", "ps", "-aq", "--filter", $"label=kaizen.runner={_runnerId}")).Output.Trim());
        }

        Assert.NotEqual(0, (await DockerTestImages.RunAsync("docker", "image", "inspect", _image)).ExitCode);
    }
}
