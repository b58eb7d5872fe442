using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.Logging;

namespace Kaizen.Runner.Execution.Docker;

/// <summary>
/// A runner's link to the Docker daemon: the image cache (pull policy, registry mirror, pre-pull, last use and
/// eviction over a disk budget), the labels that mark what this runner created, and the reaping of leftovers a crashed
/// run left behind. One per runner; each job gets a <see cref="DockerJob"/> from <see cref="ForJob"/>.
/// </summary>
public sealed class DockerEngine : IDisposable
{
    /// <summary>Label on every container, network and volume a runner creates: its runner id.</summary>
    public const string RunnerLabel = "kaizen.runner";

    /// <summary>Label with the job id.</summary>
    public const string JobLabel = "kaizen.job";

    private readonly ConcurrentDictionary<string, long> _lastUse = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _inUse = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _pulling = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _evicting = new(1, 1);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _warm = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _warming = new(StringComparer.Ordinal);
    private int _disposed;
    private readonly string _lastUsePath;
    private readonly ILogger? _logger;

    private DockerEngine(DockerClient client, DockerOptions options, string runnerId, string workRoot, ILogger? logger)
    {
        Client = client;
        Options = options;
        RunnerId = runnerId;
        WorkRoot = Path.GetFullPath(workRoot);
        _logger = logger;
        _lastUsePath = Path.Combine(WorkRoot, "docker-images.json");
        try
        {
            foreach (var (image, at) in JsonSerializer.Deserialize<Dictionary<string, long>>(File.ReadAllText(_lastUsePath)) ?? [])
            {
                _lastUse[image] = at;
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
        }
    }

    internal DockerClient Client { get; }

    public DockerOptions Options { get; }

    /// <summary>The value of <see cref="RunnerLabel"/> on what this runner creates.</summary>
    public string RunnerId { get; }

    public string WorkRoot { get; }

    /// <summary>
    /// Connects to the daemon; null (with the reason) when it does not answer within a few seconds or the static bash
    /// that containers need is missing: the runner then offers only the shell executor.
    /// </summary>
    public static async Task<(DockerEngine? Engine, string? Problem)> TryConnectAsync(
        DockerOptions options, string runnerId, string workRoot, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(options.StaticBash))
        {
            return (null, $"no static bash at {options.StaticBash} to run job shells in containers (Debian: apt-get install bash-static)");
        }

        var endpoint = options.Endpoint
            ?? (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host ? new Uri(host) : new Uri("unix:///var/run/docker.sock"));
        if (endpoint.IsUnc || (endpoint.Scheme == "unix" && !File.Exists(endpoint.LocalPath)))
        {
            return (null, $"no Docker daemon at {endpoint}");
        }

        var client = new DockerClientConfiguration(endpoint, defaultTimeout: TimeSpan.FromMinutes(30)).CreateClient();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await client.System.PingAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or DockerApiException or OperationCanceledException or IOException or TimeoutException
            or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            client.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            return (null, $"the Docker daemon at {endpoint} does not answer ({ex.Message})");
        }

        return (new DockerEngine(client, options, runnerId, workRoot, logger), null);
    }

    /// <summary>The executor of one job; dispose it when the job ends.</summary>
    public DockerJob ForJob(JobAssignment job, KaizenFunctions functions, ForwardingSandbox? forwarding = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new DockerJob(this, job, functions, forwarding);
    }

    /// <summary>Removes containers, networks and volumes labelled with this runner's id (what a crash left behind).</summary>
    public async Task<int> ReapLeftoversAsync(CancellationToken cancellationToken = default)
    {
        var label = new Dictionary<string, IDictionary<string, bool>>
        {
            ["label"] = new Dictionary<string, bool> { [$"{RunnerLabel}={RunnerId}"] = true },
        };
        var removed = 0;
        foreach (var container in await Client.Containers.ListContainersAsync(
            new ContainersListParameters { All = true, Filters = label }, cancellationToken).ConfigureAwait(false))
        {
            removed += await TryAsync(() => Client.Containers.RemoveContainerAsync(
                container.ID, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, cancellationToken)) ? 1 : 0;
        }

        foreach (var network in await Client.Networks.ListNetworksAsync(new NetworksListParameters { Filters = label }, cancellationToken).ConfigureAwait(false))
        {
            removed += await TryAsync(() => Client.Networks.DeleteNetworkAsync(network.ID, cancellationToken)) ? 1 : 0;
        }

        var volumes = await Client.Volumes.ListAsync(new VolumesListParameters { Filters = label }, cancellationToken).ConfigureAwait(false);
        foreach (var volume in volumes.Volumes ?? [])
        {
            removed += await TryAsync(() => Client.Volumes.RemoveAsync(volume.Name, true, cancellationToken)) ? 1 : 0;
        }

        if (removed > 0)
        {
            _logger?.LogInformation("Removed {Count} Docker leftovers of an earlier run of this runner", removed);
        }

        return removed;
    }

    /// <summary>Pulls <see cref="DockerOptions.PrePull"/> in the background (errors are logged, never thrown).</summary>
    public Task PrePullAsync(CancellationToken cancellationToken) => Task.Run(async () =>
    {
        foreach (var image in Options.PrePull)
        {
            var (error, note) = await EnsureImageAsync(image, PullPolicy.IfMissing, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                _logger?.LogWarning("Pre-pull: {Error}", error);
            }
            else
            {
                _logger?.LogInformation("Pre-pull: {Note}", note);
            }
        }
    }, cancellationToken);

    /// <summary>
    /// Makes <paramref name="image"/> present under <paramref name="policy"/>; returns an error, or a note for the job's
    /// log that says whether (and how long) it pulled.
    /// </summary>
    public async Task<(string? Error, string Note)> EnsureImageAsync(string image, PullPolicy policy, CancellationToken cancellationToken)
    {
        var gate = _pulling.GetOrAdd(image, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Touch(image);
            if (policy != PullPolicy.Always && await ExistsAsync(image, cancellationToken).ConfigureAwait(false))
            {
                return (null, $"image {image} present, no pull");
            }

            if (policy == PullPolicy.Never)
            {
                return ($"The image {image} is not on this runner and its pull policy is 'never'.", "");
            }

            var stopwatch = Stopwatch.StartNew();
            var (repository, tag) = Split(image);
            var source = Options.RegistryMirror is { Length: > 0 } mirror && !HasRegistry(repository)
                ? $"{mirror.TrimEnd('/')}/{(repository.Contains('/') ? repository : "library/" + repository)}"
                : repository;
            try
            {
                await Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = source, Tag = tag },
                    null, new Progress<JSONMessage>(), cancellationToken).ConfigureAwait(false);
                if (source != repository)
                {
                    await Client.Images.TagImageAsync($"{source}:{tag}", new ImageTagParameters { RepositoryName = repository, Tag = tag, Force = true },
                        cancellationToken).ConfigureAwait(false);
                }
            }
            catch (DockerApiException ex)
            {
                return ($"Could not pull the image {image}{(source != repository ? $" through the mirror {Options.RegistryMirror}" : "")}: {ex.ResponseBody?.Trim()}", "");
            }

            // The daemon reports some failures only in the progress stream; the image being there is what counts.
            if (!await ExistsAsync(image, cancellationToken).ConfigureAwait(false))
            {
                return ($"Could not pull the image {image}{(source != repository ? $" through the mirror {Options.RegistryMirror}" : "")}.", "");
            }

            var through = source != repository ? $" through the mirror {Options.RegistryMirror}" : "";
            return (null, $"pulled image {image}{through} in {Seconds(stopwatch.Elapsed)}");
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Marks the start (+1) or end (-1) of a job's use of an image; images in use are never evicted.</summary>
    internal void Use(string image, int delta)
    {
        _inUse.AddOrUpdate(image, Math.Max(delta, 0), (_, n) => Math.Max(n + delta, 0));
        Touch(image);
    }

    /// <summary>
    /// Removes the least recently used images this runner used, not in use by any container, while their total size is
    /// over <see cref="DockerOptions.ImageBudgetMegabytes"/>; returns the images removed.
    /// </summary>
    public async Task<IReadOnlyList<string>> EvictAsync(CancellationToken cancellationToken = default)
    {
        var removed = new List<string>();
        if (Options.ImageBudgetMegabytes <= 0 || !await _evicting.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return removed;
        }

        try
        {
            var sizes = new Dictionary<string, (string Id, long Size)>(StringComparer.Ordinal);
            foreach (var image in _lastUse.Keys)
            {
                try
                {
                    var inspect = await Client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false);
                    sizes[image] = (inspect.ID, inspect.Size);
                }
                catch (DockerImageNotFoundException)
                {
                    _lastUse.TryRemove(image, out _);
                }
                catch (DockerApiException)
                {
                }
            }

            // The daemon itself refuses to remove an image a container still uses (unless another tag keeps it): a
            // refused removal is skipped.
            var total = sizes.Values.DistinctBy(s => s.Id).Sum(s => s.Size);
            var budget = Options.ImageBudgetMegabytes * 1024 * 1024;
            foreach (var (image, _) in _lastUse.OrderBy(p => p.Value).ToList())
            {
                if (total <= budget)
                {
                    break;
                }

                if (!sizes.TryGetValue(image, out var entry) || _inUse.GetValueOrDefault(image) > 0)
                {
                    continue;
                }

                // A warm container is only a head start: it goes with its image.
                if (_warm.TryRemove(image, out var warm))
                {
                    foreach (var id in warm)
                    {
                        await TryAsync(() => Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, CancellationToken.None)).ConfigureAwait(false);
                    }
                }

                if (await TryAsync(() => Client.Images.DeleteImageAsync(image, new ImageDeleteParameters { Force = false }, cancellationToken)))
                {
                    removed.Add(image);
                    _lastUse.TryRemove(image, out _);
                    if (!sizes.Where(s => s.Key != image).Any(s => s.Value.Id == entry.Id))
                    {
                        total -= entry.Size;
                    }

                    sizes.Remove(image);
                    _logger?.LogInformation("Evicted the image {Image} ({Size} MB) to stay under {Budget} MB", image, entry.Size >> 20, Options.ImageBudgetMegabytes);
                }
            }

            Save();
            return removed;
        }
        finally
        {
            _evicting.Release();
        }
    }

    /// <summary>The runner's workspaces' folder (each job's is a folder in it), mounted into warm containers.</summary>
    public string JobsRoot => Path.Combine(WorkRoot, "jobs");

    /// <summary>A started, unused container of <paramref name="image"/> if one is waiting (see <see cref="Replenish"/>).</summary>
    internal async Task<string?> TakeWarmAsync(string image, CancellationToken cancellationToken)
    {
        if (!_warm.TryGetValue(image, out var queue))
        {
            return null;
        }

        while (queue.TryDequeue(out var id))
        {
            try
            {
                if ((await Client.Containers.InspectContainerAsync(id, cancellationToken).ConfigureAwait(false)).State.Running)
                {
                    return id;
                }
            }
            catch (DockerApiException)
            {
            }

            await TryAsync(() => Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, CancellationToken.None)).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>
    /// Starts, in the background, one container of <paramref name="image"/> for the next job on it: idle, labelled with
    /// this runner's id (so a crash leaves nothing a restart does not reap), with the static bash, the jobs, control
    /// and tools folders and the <c>kaizen</c> library mounted at their host paths.
    /// </summary>
    internal void Replenish(string image, KaizenFunctions functions)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            return;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_warming.TryAdd(image, started.Task))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var control = Path.Combine(WorkRoot, "control");
                Directory.CreateDirectory(JobsRoot);
                Directory.CreateDirectory(control);
                Directory.CreateDirectory(functions.ToolsDirectory);
                var library = Path.GetDirectoryName(functions.LibraryPath)!;
                var created = await Client.Containers.CreateContainerAsync(new CreateContainerParameters
                {
                    Name = $"kaizen-warm-{Guid.NewGuid().ToString("N")[..12]}",
                    Image = image,
                    Labels = new Dictionary<string, string> { [RunnerLabel] = RunnerId, ["kaizen.warm"] = "1" },
                    Entrypoint = [DockerOptions.ContainerBash],
                    Cmd = ["--noprofile", "--norc", "-c", "exec {fd}<> <(:); while :; do read -r -t 3600 -u $fd; done"],
                    HostConfig = new HostConfig
                    {
                        Binds =
                        [
                            $"{Options.StaticBash}:{DockerOptions.ContainerBash}:ro",
                            $"{JobsRoot}:{JobsRoot}",
                            $"{control}:{control}",
                            $"{library}:{library}:ro",
                            $"{functions.ToolsDirectory}:{functions.ToolsDirectory}",
                        ],
                        NetworkMode = "bridge",
                    },
                }).ConfigureAwait(false);
                await Client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters()).ConfigureAwait(false);
                if (Volatile.Read(ref _disposed) == 1)
                {
                    await TryAsync(() => Client.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true }, CancellationToken.None)).ConfigureAwait(false);
                    return;
                }

                _warm.GetOrAdd(image, _ => new ConcurrentQueue<string>()).Enqueue(created.ID);
            }
            catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException)
            {
                _logger?.LogWarning("Could not start a warm container of {Image}: {Error}", image, ex.Message);
            }
            finally
            {
                _warming.TryRemove(image, out _);
                started.TrySetResult();
            }
        });
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Warm containers go with the runner (best effort: a crash leaves them to the next start's reaping).
        try
        {
            Task.WaitAll([.. _warming.Values], TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
        }

        var warm = _warm.Values.SelectMany(q => q).ToList();
        try
        {
            Task.WaitAll([.. warm.Select(id => TryAsync(() => Client.Containers.RemoveContainerAsync(
                id, new ContainerRemoveParameters { Force = true }, CancellationToken.None)))], TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }

        Client.Dispose();
    }

    internal static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds < 1
        ? $"{elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms"
        : $"{elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s";

    /// <summary>repository and tag of an image reference (a digest stays on the repository side with an empty tag).</summary>
    internal static (string Repository, string Tag) Split(string image)
    {
        if (image.Contains('@'))
        {
            return (image, "");
        }

        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    /// <summary>Whether the first component names a registry (a host: with a dot or a port, or localhost).</summary>
    internal static bool HasRegistry(string repository)
    {
        var slash = repository.IndexOf('/');
        if (slash < 0)
        {
            return false;
        }

        var first = repository[..slash];
        return first.Contains('.') || first.Contains(':') || first == "localhost";
    }

    private async Task<bool> ExistsAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            await Client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false;
        }
    }

    private void Touch(string image)
    {
        _lastUse[image] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Save();
    }

    private void Save()
    {
        try
        {
            var temp = $"{_lastUsePath}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(_lastUse.ToDictionary()));
            File.Move(temp, _lastUsePath, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    internal static async Task<bool> TryAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            return true;
        }
        catch (DockerApiException)
        {
            return false;
        }
    }
}
