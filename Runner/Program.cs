using Kaizen.Runner.Agent;
using Microsoft.Extensions.Logging;

// kaizen-runner: a separate runner process. See README.md, "Runners".
const string Usage = """
    Usage: kaizen-runner --portal <url> [--registration-token-file <path>] [--name <name>] [--slots <n>]
                         [--work <directory>] [--label <label>]...
                         [--no-docker] [--pull-policy if-missing|always|never] [--pre-pull <image>]...
                         [--image-budget-mb <n>] [--registry-mirror <host:port>] [--service-ready-timeout <seconds>]
                         [--ssh-port <port>] [--ssh-host <name>]
                         [--no-sandbox] [--sandbox-share <dir>[:ro]]...

      --portal              The portal's base URL, e.g. http://ci.example.com:5000
      --registration-token-file  A file holding the portal's Kaizen:Runners:RegistrationToken (needed the
                            first time only; the runner keeps its own token in <work>/runner.json, mode 600,
                            afterwards). Or set KAIZEN_REGISTRATION_TOKEN.
      --registration-token  The token itself; works, but other processes on the machine can read it from
                            the command line: prefer the file or the variable
      --name                Shown on the portal's Runners page (default: the machine name)
      --slots               How many jobs run at once (default: 1)
      --work                Workspaces and caches (default: ./kaizen-work)
      --label               A label jobs can ask for (repeatable)
      --no-docker           Do not offer the Docker executor (it is offered when a daemon answers at start)
      --pull-policy         When job and service images are pulled (default: if-missing)
      --pre-pull            An image to pull at start, in the background (repeatable)
      --image-budget-mb     Evict the least recently used images over this size (default: 0, never)
      --registry-mirror     A pull-through mirror for Docker Hub images, e.g. mirror.internal:5000
      --service-ready-timeout  How long a job waits for each service to be ready (default: 60)
      --static-bash         The static bash mounted into containers (default: /bin/bash-static)
      --ssh-port            Offer SSH into debug sessions on this port (default: off): the runner runs its own
                            OpenSSH sshd (apt-get install openssh-server) and lets in the keys in users' profiles
      --ssh-host            The host name people reach this runner by, shown in the ssh command
                            (default: the machine name)
      --no-sandbox          Run jobs as this runner's user instead of in a bubblewrap sandbox; for trusted,
                            private projects only (the portal then sends no jobs of public projects or forks)
      --sandbox-share       A host folder every job sees at the same path, writable by every job, or read-only
                            with :ro (repeatable)
    """;

string? portal = null, token = null, tokenFile = null, name = null, work = null, sshHost = null;
int? sshPort = null;
var slots = 1;
var labels = new List<string>();
var prePull = new List<string>();
var docker = new Kaizen.Runner.Execution.Docker.DockerOptions();
var noDocker = false;
var noSandbox = false;
var shares = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    try
    {
        switch (args[i])
        {
            case "--portal": portal = Next(); break;
            case "--registration-token":
                token = Next();
                Console.Error.WriteLine("Warning: --registration-token is visible to other processes on this machine (ps, /proc); " +
                                        "use --registration-token-file or KAIZEN_REGISTRATION_TOKEN instead.");
                break;
            case "--registration-token-file": tokenFile = Next(); break;
            case "--name": name = Next(); break;
            case "--slots": slots = int.Parse(Next()); break;
            case "--work": work = Next(); break;
            case "--label": labels.Add(Next()); break;
            case "--no-docker": noDocker = true; break;
            case "--no-sandbox": noSandbox = true; break;
            case "--sandbox-share": shares.Add(Next()); break;
            case "--pull-policy":
                docker = docker with { PullPolicy = Next() switch
                {
                    "if-missing" => Kaizen.Runner.Execution.Docker.PullPolicy.IfMissing,
                    "always" => Kaizen.Runner.Execution.Docker.PullPolicy.Always,
                    "never" => Kaizen.Runner.Execution.Docker.PullPolicy.Never,
                    var other => throw new ArgumentException($"--pull-policy is if-missing, always or never, not '{other}'."),
                } };
                break;
            case "--pre-pull": prePull.Add(Next()); break;
            case "--image-budget-mb": docker = docker with { ImageBudgetMegabytes = long.Parse(Next()) }; break;
            case "--registry-mirror": docker = docker with { RegistryMirror = Next() }; break;
            case "--service-ready-timeout": docker = docker with { ServiceReadyTimeout = TimeSpan.FromSeconds(int.Parse(Next())) }; break;
            case "--static-bash": docker = docker with { StaticBash = Next() }; break;
            case "--ssh-port":
                sshPort = int.Parse(Next()) is var port and > 0 and < 65536 ? port : throw new ArgumentException("--ssh-port is a port number (1-65535).");
                break;
            case "--ssh-host": sshHost = Next(); break;
            case "-h" or "--help": Console.WriteLine(Usage); return 0;
            default: throw new ArgumentException($"Unknown option '{args[i]}'.");
        }
    }
    catch (Exception ex) when (ex is ArgumentException or FormatException)
    {
        Console.Error.WriteLine(ex.Message);
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
if (portal is null || !Uri.TryCreate(portal, UriKind.Absolute, out var portalUrl) || slots < 1)
{
    Console.Error.WriteLine(portal is null ? "--portal is required." : $"'{portal}' is not a valid portal URL or --slots is below 1.");
    Console.Error.WriteLine(Usage);
    return 2;
}

string? registrationToken;
try
{
    registrationToken = RegistrationToken.Resolve(token, tokenFile, Environment.GetEnvironmentVariable(RegistrationToken.Variable));
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(100) };
var options = new RunnerOptions
{
    PortalUrl = portalUrl,
    RegistrationToken = registrationToken,
    Name = name ?? Environment.MachineName,
    Slots = slots,
    WorkDirectory = work ?? "kaizen-work",
    Labels = labels,
    Docker = docker with { PrePull = prePull },
    DisableDocker = noDocker,
    NoSandbox = noSandbox,
    SandboxShares = shares,
    SshPort = sshPort,
    SshHost = sshHost ?? Environment.MachineName,
};
try
{
    await new RunnerAgent(options, http, loggers).RunAsync(stop.Token);
    return 0;
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}
