using Kaizen.Portal.Runners;
using Kaizen.Runner.Agent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Hosting;

/// <summary>
/// The runner inside the portal process: the same <see cref="RunnerAgent"/> separate runners use, talking to this
/// portal over loopback HTTP, so a newcomer sees builds run with one command. Off with Kaizen:Runners:Embedded:Enabled=false.
/// </summary>
public sealed class EmbeddedRunner(
    IServer server, IHostApplicationLifetime lifetime, RunnerRegistration registration, IOptions<KaizenOptions> options,
    ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled()))
        {
            try { await started.Task; }
            catch (OperationCanceledException) { return; }
        }

        var address = LoopbackAddress(server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []);
        var logger = loggers.CreateLogger<EmbeddedRunner>();
        if (address is null)
        {
            logger.LogError("The embedded runner found no http address to reach this portal; no jobs will run here.");
            return;
        }

        var kaizen = options.Value;
        var workDirectory = Path.Combine(kaizen.ResolveDataDirectory(), "runner");
        // The runner keeps its token in {workDirectory}/runner.json across restarts, so it stays one runner; when the
        // database no longer knows it, it registers again with this process's embedded registration token.
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(100),
        };
        var agent = new RunnerAgent(new RunnerOptions
        {
            PortalUrl = address,
            RegistrationToken = registration.EmbeddedToken,
            Name = $"embedded ({Environment.MachineName})",
            Slots = kaizen.Runners.Embedded.Slots,
            Labels = kaizen.Runners.Embedded.LabelsOrDefault,
            WorkDirectory = workDirectory,
            HeartbeatInterval = TimeSpan.FromSeconds(kaizen.Runners.HeartbeatSeconds),
            DisableDocker = !kaizen.Runners.Embedded.Docker,
            NoSandbox = !kaizen.Runners.Embedded.Sandbox,
            SandboxShares = kaizen.Runners.Embedded.SandboxShares,
            // Jobs never see the portal's data (database, key ring, artifacts) or its files, wherever they are.
            HiddenPaths = [kaizen.ResolveDataDirectory(), AppContext.BaseDirectory, Environment.CurrentDirectory],
            SshPort = kaizen.Runners.Embedded.SshPort,
            SshHost = kaizen.Runners.Embedded.SshHost is { Length: > 0 } sshHost ? sshHost : Environment.MachineName,
            Docker = new Kaizen.Runner.Execution.Docker.DockerOptions
            {
                PullPolicy = kaizen.Runners.Embedded.PullPolicy.ToLowerInvariant() switch
                {
                    "always" => Kaizen.Runner.Execution.Docker.PullPolicy.Always,
                    "never" => Kaizen.Runner.Execution.Docker.PullPolicy.Never,
                    _ => Kaizen.Runner.Execution.Docker.PullPolicy.IfMissing,
                },
                PrePull = kaizen.Runners.Embedded.PrePull,
                ImageBudgetMegabytes = kaizen.Runners.Embedded.ImageBudgetMegabytes,
                RegistryMirror = kaizen.Runners.Embedded.RegistryMirror,
            },
        }, http, loggers);
        logger.LogInformation("Embedded runner with {Slots} slots uses {Address}", kaizen.Runners.Embedded.Slots, address);
        // Stop with the portal's first shutdown signal, before the server stops answering, so the runner does not
        // spend the shutdown retrying claims against a closed port.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        try
        {
            await agent.RunAsync(stop.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "The embedded runner stopped");
        }
    }

    /// <summary>An http:// address of this server as seen from the same machine (wildcards become 127.0.0.1).</summary>
    public static Uri? LoopbackAddress(IEnumerable<string> addresses)
    {
        foreach (var raw in addresses.OrderBy(a => a.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 1 : 0))
        {
            var fixedUp = raw.Replace("://+:", "://127.0.0.1:").Replace("://*:", "://127.0.0.1:")
                .Replace("://0.0.0.0:", "://127.0.0.1:").Replace("://[::]:", "://127.0.0.1:");
            if (Uri.TryCreate(fixedUp, UriKind.Absolute, out var uri)) return uri;
        }
        return null;
    }
}
