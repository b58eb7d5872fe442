using System.Diagnostics;
using System.Globalization;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Kaizen.Runner.Protocol;
using ServiceSpec = Kaizen.Runner.Protocol.ServiceSpec;

namespace Kaizen.Runner.Execution.Docker;

/// <summary>
/// The Docker executor of one job. <see cref="PrepareAsync"/> (while git checks out) pulls what is missing, makes the
/// job's network <c>kaizen-job-ID</c> and starts its services, waiting until each is ready; the first
/// <see cref="StartSessionAsync"/> creates the job's container from its image, with the workspace, the tools folder,
/// the <c>kaizen</c> library and the control folder mounted at their host paths and a
/// static bash at /kaizen/bin/bash, and every session is a <c>docker exec</c> of that bash (same protocol as on the
/// host). Everything is labelled with the runner's and the job's ids and removed by <see cref="DisposeAsync"/>.
/// </summary>
public sealed class DockerJob : IExecutor, Debug.ITerminalHost, IAsyncDisposable
{
    private readonly DockerEngine _engine;
    private readonly JobAssignment _job;
    private readonly KaizenFunctions _functions;
    private readonly List<(ServiceSpec Spec, string Id)> _services = [];
    private readonly List<string> _images = [];
    private readonly SemaphoreSlim _creating = new(1, 1);
    private string? _network;
    private string? _containerId;
    private List<string> _env = [];
    private KaizenForwarder? _forwarder;
    private int _disposed;

    private readonly ForwardingSandbox? _forwarding;

    internal DockerJob(DockerEngine engine, JobAssignment job, KaizenFunctions functions, ForwardingSandbox? forwarding = null)
    {
        _engine = engine;
        _job = job;
        _functions = functions;
        _forwarding = forwarding;
    }

    public string Name => "docker";

    /// <summary>What preparing did, step by step (<see cref="PrepareSteps"/>), for the caller to report after checkout.</summary>
    public List<PreparedStep> Steps { get; } = [];

    private string JobId => _job.JobId.ToString(CultureInfo.InvariantCulture);

    private DockerClient Client => _engine.Client;

    private Dictionary<string, string> Labels => new()
    {
        [DockerEngine.RunnerLabel] = _engine.RunnerId,
        [DockerEngine.JobLabel] = JobId,
    };

    /// <summary>Images, network and services, each a timed step in <see cref="Steps"/>; returns why the job cannot run, or null.
    /// <paramref name="now"/> gives the Unix milliseconds the steps are reported with.</summary>
    public async Task<string?> PrepareAsync(Func<long> now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(now);
        var policy = _engine.Options.PullPolicy;
        foreach (var image in new[] { _job.Image! }.Concat((_job.Services ?? []).Select(s => s.Image)).Distinct(StringComparer.Ordinal))
        {
            var error = await StepAsync(PrepareSteps.Image(image), now, async output =>
            {
                var (error, note) = await _engine.EnsureImageAsync(image, policy, cancellationToken).ConfigureAwait(false);
                if (error is null)
                {
                    _engine.Use(image, +1);
                    _images.Add(image);
                    output.Add(note);
                }

                return error;
            }).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
        }

        if (_job.Services is not { Count: > 0 } services)
        {
            return null;
        }

        return await StepAsync(PrepareSteps.Services(services), now, output => StartServicesAsync(services, output, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Runs one preparation step, timed, and records it; Docker's own failures end the step with their message.</summary>
    private async Task<string?> StepAsync(string text, Func<long> now, Func<List<string>, Task<string?>> step)
    {
        var startedAt = now();
        var stopwatch = Stopwatch.StartNew();
        var output = new List<string>();
        string? error;
        try
        {
            error = await step(output).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
            error = $"Docker: {ex.Message}";
        }

        Steps.Add(new PreparedStep(text, startedAt, stopwatch.Elapsed, now(), output, error));
        return error;
    }

    private async Task<string?> StartServicesAsync(IReadOnlyList<ServiceSpec> services, List<string> output, CancellationToken cancellationToken)
    {
        var network = await Client.Networks.CreateNetworkAsync(new NetworksCreateParameters
        {
            Name = $"kaizen-job-{JobId}-{Guid.NewGuid().ToString("N")[..6]}",
            Labels = Labels,
            CheckDuplicate = true,
        }, cancellationToken).ConfigureAwait(false);
        _network = network.ID;
        foreach (var service in services)
        {
            var started = Stopwatch.StartNew();
            var created = await Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = $"kaizen-job-{JobId}-{service.Alias}-{Guid.NewGuid().ToString("N")[..6]}",
                Image = service.Image,
                Env = (service.Env ?? new Dictionary<string, string>()).Select(p => $"{p.Key}={p.Value}").ToList(),
                Labels = Labels,
                HostConfig = Confined(new HostConfig
                {
                    Binds = [$"{_engine.Options.StaticBash}:{DockerOptions.ContainerBash}:ro"],
                    NetworkMode = _network,
                }),
                NetworkingConfig = new NetworkingConfig
                {
                    EndpointsConfig = new Dictionary<string, EndpointSettings> { [_network] = new() { Aliases = [service.Alias] } },
                },
            }, cancellationToken).ConfigureAwait(false);
            _services.Add((service, created.ID));
            await Client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellationToken).ConfigureAwait(false);
            if (await WaitReadyAsync(service, created.ID, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                return problem;
            }

            output.Add(service.Ready is null
                ? $"service {service.Alias} ({service.Image}) started in {DockerEngine.Seconds(started.Elapsed)}"
                : $"service {service.Alias} ({service.Image}) ready in {DockerEngine.Seconds(started.Elapsed)}");
        }

        return null;
    }

    public async Task<IShellSession> StartSessionAsync(string workspace, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var containerId = await EnsureContainerAsync(workspace, environment, cancellationToken).ConfigureAwait(false);
        var host = await ContainerShellHost.StartAsync(Client, containerId, workspace, _env, KillAsync, cancellationToken).ConfigureAwait(false);
        return BashSession.Over(host);
    }

    /// <summary>The job's control folder, mounted in its container at the same path.</summary>
    public string? RcDirectory => _forwarder?.Directory;

    /// <summary>An interactive bash with a TTY in the job's container (created now if no session has created it yet),
    /// next to the job's own shell; for debug sessions and attaching to a running job.</summary>
    public async Task<Debug.ITerminal> StartTerminalAsync(
        string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, Debug.TerminalSize size, string tag,
        CancellationToken cancellationToken)
    {
        var containerId = await EnsureContainerAsync(workspace, environment, cancellationToken).ConfigureAwait(false);
        return await Debug.ContainerTerminal.StartAsync(Client, containerId, workspace, _env, rcFile, size, tag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A <c>docker exec -it</c> into the job's container with the environment of its other execs.</summary>
    public async Task<string> EntryScriptAsync(
        string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, string tag, CancellationToken cancellationToken)
    {
        var containerId = await EnsureContainerAsync(workspace, environment, cancellationToken).ConfigureAwait(false);
        return Debug.EntryScripts.Container(containerId, workspace, _env, DockerOptions.ContainerBash, rcFile, tag, Client.Configuration.EndpointBaseUri);
    }

    /// <summary>The tagged shells in the job's container, and the docker CLIs on the host that entered it.</summary>
    public async Task KillTaggedAsync(string tag)
    {
        if (_containerId is { } id)
        {
            await Debug.ContainerTerminal.KillTaggedAsync(Client, id, tag).ConfigureAwait(false);
        }

        await Debug.TaggedProcesses.KillAsync(tag).ConfigureAwait(false);
    }

    /// <summary>Each service's output, for the job's log (after the job's commands).</summary>
    public async Task WriteServiceLogsAsync(Func<ReadOnlyMemory<byte>, ValueTask> write)
    {
        foreach (var (spec, id) in _services)
        {
            await write(Encoding.UTF8.GetBytes($"[kaizen] service {spec.Alias} ({spec.Image}) log:\n")).ConfigureAwait(false);
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var logs = await Client.Containers.GetContainerLogsAsync(id, tty: false,
                    new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Follow = false }, timeout.Token).ConfigureAwait(false);
                var buffer = new byte[16 * 1024];
                var endedWithNewline = true;
                while (true)
                {
                    var read = await logs.ReadOutputAsync(buffer, 0, buffer.Length, timeout.Token).ConfigureAwait(false);
                    if (read.EOF)
                    {
                        break;
                    }

                    if (read.Count > 0)
                    {
                        await write(buffer.AsMemory(0, read.Count)).ConfigureAwait(false);
                        endedWithNewline = buffer[read.Count - 1] == (byte)'\n';
                    }
                }

                if (!endedWithNewline)
                {
                    await write("\n"u8.ToArray()).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is DockerApiException or IOException or OperationCanceledException)
            {
                await write(Encoding.UTF8.GetBytes($"[kaizen] (its log could not be read: {ex.Message})\n")).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Removes the job's containers and network (also after a cancel or a failure).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_forwarder is not null)
        {
            await _forwarder.DisposeAsync().ConfigureAwait(false);
        }

        var containers = _services.Select(s => s.Id).ToList();
        if (_containerId is not null)
        {
            containers.Add(_containerId);
        }

        await Task.WhenAll(containers.Select(id => DockerEngine.TryAsync(() => Client.Containers.RemoveContainerAsync(
            id, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, CancellationToken.None)))).ConfigureAwait(false);
        if (_network is not null)
        {
            await DockerEngine.TryAsync(() => Client.Networks.DeleteNetworkAsync(_network, CancellationToken.None)).ConfigureAwait(false);
        }

        foreach (var image in _images)
        {
            _engine.Use(image, -1);
        }

        _creating.Dispose();
    }

    private async Task<string> EnsureContainerAsync(string workspace, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        await _creating.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_containerId is not null)
            {
                return _containerId;
            }

            // A debug session of a job gets a control folder of its own: two sessions of one job may run at once.
            var control = Path.Combine(_engine.WorkRoot, "control", _job.Debug is { } debug ? $"debug-{debug.SessionId}" : JobId);
            _forwarder = KaizenForwarder.Start(control, environment, _forwarding);
            var tools = Directory.CreateDirectory(
                environment.TryGetValue("KAIZEN_TOOLS_DIR", out var projectTools) ? projectTools : _functions.ToolsDirectoryFor(_job.ProjectSlug)).FullName;
            var env = environment.Where(p => p.Key != "PATH").Select(p => $"{p.Key}={p.Value}").ToList();
            env.Add($"KAIZEN_CONTROL_DIR={control}");
            _env = env;

            // A warm container (started after an earlier job on this image) saves the create and start, most of a
            // container job's start; it mounts the runner's jobs and control folders, so this job's are there too.
            // With the job sandbox on, jobs are untrusted and a container shows its own job's folders only: no warm
            // containers then. The environment comes with each exec. File secrets outside the workspace need a
            // container of their own.
            var outside = (_job.Secrets ?? []).Any(s => s.FilePath is { } p && Path.IsPathRooted(p)
                && !p.StartsWith(Path.TrimEndingDirectorySeparator(workspace) + "/", StringComparison.Ordinal));
            if (!outside && _forwarding is null && workspace.StartsWith(_engine.JobsRoot + "/", StringComparison.Ordinal)
                && await _engine.TakeWarmAsync(_job.Image!, cancellationToken).ConfigureAwait(false) is { } warm)
            {
                _containerId = warm;
                if (_network is not null)
                {
                    await Client.Networks.ConnectNetworkAsync(_network, new NetworkConnectParameters { Container = warm }, cancellationToken).ConfigureAwait(false);
                }

                _engine.Replenish(_job.Image!, _functions);
                return warm;
            }

            var binds = new List<string>
            {
                $"{_engine.Options.StaticBash}:{DockerOptions.ContainerBash}:ro",
                $"{workspace}:{workspace}",
                $"{_functions.LibraryPath}:{_functions.LibraryPath}:ro",
                // The project's tools only; read-only when jobs are untrusted (the runner installs them, see KaizenForwarder).
                _forwarding is null ? $"{tools}:{tools}" : $"{tools}:{tools}:ro",
                $"{control}:{control}",
            };

            // File secrets outside the workspace are mounted one by one, read-only.
            foreach (var secret in _job.Secrets ?? [])
            {
                if (secret.FilePath is { } path && Path.IsPathRooted(path) && File.Exists(path)
                    && !path.StartsWith(Path.TrimEndingDirectorySeparator(workspace) + "/", StringComparison.Ordinal))
                {
                    binds.Add($"{path}:{path}:ro");
                }
            }

            var created = await Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = $"kaizen-job-{JobId}-{Guid.NewGuid().ToString("N")[..6]}",
                Image = _job.Image,
                Env = env,
                Labels = Labels,
                WorkingDir = workspace,
                Entrypoint = [DockerOptions.ContainerBash],
                // Idles until removed: bash waits on a FIFO nobody writes to (no `sleep` needed in the image).
                Cmd = ["--noprofile", "--norc", "-c", "while :; do read -r -t 3600 <>\"$0/idle\"; done", control],
                HostConfig = Confined(new HostConfig
                {
                    Binds = binds,
                    NetworkMode = _network ?? "bridge",
                }),
            }, cancellationToken).ConfigureAwait(false);
            _containerId = created.ID;
            await Client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellationToken).ConfigureAwait(false);
            if (_forwarding is null)
            {
                _engine.Replenish(_job.Image!, _functions);
            }

            return _containerId;
        }
        finally
        {
            _creating.Release();
        }
    }

    /// <summary>
    /// The capabilities an untrusted job's containers keep: what installing packages as the image's root needs (owning
    /// and reading files, switching users, signals, low ports). Docker's defaults beyond these (raw sockets, device
    /// nodes, chroot, file capabilities, audit) go.
    /// </summary>
    internal static readonly IList<string> KeptCapabilities = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE"];

    /// <summary>Most processes one of an untrusted job's containers may have (a fork bomb stops there, not at the host's limit).</summary>
    internal const long ProcessLimit = 4096;

    /// <summary>
    /// With the job sandbox on (untrusted jobs), a job's containers and its services run with the capabilities of
    /// <see cref="KeptCapabilities"/> only, cannot gain privileges through setuid programs, and have a process limit.
    /// </summary>
    private HostConfig Confined(HostConfig config)
    {
        if (_forwarding is not null)
        {
            config.CapDrop = ["ALL"];
            config.CapAdd = KeptCapabilities;
            config.SecurityOpt = ["no-new-privileges"];
            config.PidsLimit = ProcessLimit;
        }

        return config;
    }

    private Task KillAsync() => _containerId is { } id
        ? DockerEngine.TryAsync(() => Client.Containers.KillContainerAsync(id, new ContainerKillParameters { Signal = "KILL" }, CancellationToken.None))
        : Task.CompletedTask;

    private async Task<string?> WaitReadyAsync(ServiceSpec service, string id, CancellationToken cancellationToken)
    {
        var timeout = _engine.Options.ServiceReadyTimeout;
        var deadline = Stopwatch.StartNew();
        var probe = service.Ready is null ? null
            : int.TryParse(service.Ready, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                ? $"exec 3<>/dev/tcp/127.0.0.1/{port}"
                : service.Ready;
        var last = "";
        while (true)
        {
            var state = (await Client.Containers.InspectContainerAsync(id, cancellationToken).ConfigureAwait(false)).State;
            if (!state.Running)
            {
                return $"The service '{service.Alias}' ({service.Image}) exited with code {state.ExitCode} before it was ready (its log follows the job's).";
            }

            if (probe is null)
            {
                return null;
            }

            var exec = await Client.Exec.ExecCreateContainerAsync(id, new ContainerExecCreateParameters
            {
                AttachStdout = true,
                AttachStderr = true,
                Cmd = [DockerOptions.ContainerBash, "--noprofile", "--norc", "-c", probe],
            }, cancellationToken).ConfigureAwait(false);
            using (var stream = await Client.Exec.StartAndAttachContainerExecAsync(exec.ID, tty: false, cancellationToken).ConfigureAwait(false))
            {
                var (stdout, stderr) = await stream.ReadOutputToEndAsync(cancellationToken).ConfigureAwait(false);
                last = (stdout + stderr).Trim();
            }

            ContainerExecInspectResponse inspect;
            do
            {
                inspect = await Client.Exec.InspectContainerExecAsync(exec.ID, cancellationToken).ConfigureAwait(false);
            }
            while (inspect.Running);
            if (inspect.ExitCode == 0)
            {
                return null;
            }

            if (deadline.Elapsed > timeout)
            {
                var what = probe == service.Ready ? $"'{service.Ready}' did not succeed" : $"port {service.Ready} did not accept connections";
                return $"The service '{service.Alias}' ({service.Image}) did not become ready within {DockerEngine.Seconds(timeout)}: {what}" +
                    (last.Length > 0 ? $" ({(last.Length > 300 ? last[..300] : last)})." : ".");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>One preparation step as it happened: its <see cref="PrepareSteps"/> text, when it started and ended (Unix
/// milliseconds), how long it took, what it has to say, and why it failed (null: it succeeded).</summary>
public sealed record PreparedStep(string Text, long StartedAt, TimeSpan Duration, long FinishedAt, IReadOnlyList<string> Output, string? Error);
