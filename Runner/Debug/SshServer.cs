using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Kaizen.Runner.Execution;
using Microsoft.Extensions.Logging;

namespace Kaizen.Runner.Debug;

/// <summary>
/// The runner's own sshd (OpenSSH, <c>/usr/sbin/sshd</c>) for SSH into debug sessions, configured in <c>{work}/ssh/</c>:
/// a host key made once, public keys only, and every key forced through <see cref="EnterScript"/>, which lets a key into
/// the session named on the command line (<c>ssh -t … ID</c>) when that session lists it, and opens a new shell there.
/// <c>authorized_keys</c> holds exactly the keys of the sessions open now (<see cref="OpenAsync"/>).
/// </summary>
public sealed partial class SshServer : IAsyncDisposable
{
    public const string Sshd = "/usr/sbin/sshd";

    private const string InstallHint = "(apt-get install openssh-server)";

    private readonly string _folder;
    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly Dictionary<long, IReadOnlyList<string>> _open = [];
    private readonly Lock _lock = new();
    private readonly Task _errors;
    private string? _lastError;

    private SshServer(string folder, int port, string host, Process process, ILogger logger)
    {
        _folder = folder;
        Port = port;
        Host = host;
        _process = process;
        _logger = logger;
        _errors = Task.Run(LogErrorsAsync);
    }

    public int Port { get; }

    /// <summary>The host name people reach this runner by, as shown in the command.</summary>
    public string Host { get; }

    /// <summary>The account SSH logs in to: the runner's own.</summary>
    public static string User => Environment.UserName;

    private string SessionsFolder => Path.Combine(_folder, "sessions");

    private string AuthorizedKeys => Path.Combine(_folder, "authorized_keys");

    private string EnterScript => Path.Combine(_folder, "enter");

    /// <summary>The command that reaches session <paramref name="sessionId"/>.</summary>
    public string CommandFor(long sessionId) => $"ssh -t -p {Port} {User}@{Host} {sessionId}";

    /// <summary>
    /// Starts sshd on <paramref name="port"/> with its files in <c>{work}/ssh</c>; null (after one log line saying why)
    /// when it is missing or does not start: the runner then goes on without SSH.
    /// </summary>
    public static async Task<SshServer?> TryStartAsync(string work, int port, string host, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(work);
        ArgumentNullException.ThrowIfNull(logger);
        var folder = Path.Combine(Path.GetFullPath(work), "ssh");
        try
        {
            if (!File.Exists(Sshd))
            {
                throw new SshUnavailableException($"{Sshd} is not installed {InstallHint}");
            }

            // Sessions of an earlier run of this runner are over.
            if (Directory.Exists(Path.Combine(folder, "sessions")))
            {
                Directory.Delete(Path.Combine(folder, "sessions"), recursive: true);
            }

            Directory.CreateDirectory(Path.Combine(folder, "sessions"));
            var hostKey = Path.Combine(folder, "host_ed25519_key");
            if (!File.Exists(hostKey))
            {
                var (keygen, _, error) = await ProcessRunner.CaptureAsync(
                    new ProcessRequest("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "kaizen-runner", "-f", hostKey]), cancellationToken)
                    .ConfigureAwait(false);
                if (!keygen.Succeeded)
                {
                    throw new SshUnavailableException($"ssh-keygen could not make a host key: {keygen.StartError ?? error.Trim()} {InstallHint}");
                }
            }

            // sshd run as root wants its privilege separation folder.
            if (Environment.IsPrivilegedProcess)
            {
                Directory.CreateDirectory("/run/sshd");
            }

            File.Delete(Path.Combine(folder, "sshd.pid"));
            var server = new SshServer(folder, port, host, Launch(folder, port, hostKey), logger);
            try
            {
                server.WriteEnterScript();
                server.WriteAuthorizedKeys();
                await server.WaitListeningAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            logger.LogInformation("SSH for debug sessions on port {Port} ({User}@{Host})", port, User, host);
            return server;
        }
        catch (Exception ex) when (ex is SshUnavailableException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            logger.LogWarning("SSH for debug sessions is off: {Problem}", ex.Message);
            return null;
        }
    }

    /// <summary>
    /// Lets <paramref name="keys"/> (OpenSSH public key lines) into session <paramref name="sessionId"/>: a new shell from
    /// <paramref name="host"/> in its environment. Dispose the result when the session ends: the keys stop working and
    /// the shells they opened are killed. Null without a usable key, or when the files cannot be written (logged).
    /// </summary>
    public async Task<SshEntry?> OpenAsync(
        long sessionId, IReadOnlyList<string>? keys, ITerminalHost host, string workspace, IReadOnlyDictionary<string, string> environment,
        string rcFile, string tag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        var allowed = (keys ?? []).Select(KeyOf).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (allowed.Count == 0)
        {
            return null;
        }

        var folder = Path.Combine(SessionsFolder, sessionId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var sshTag = $"{tag}-ssh";
        try
        {
            var script = await host.EntryScriptAsync(workspace, environment, rcFile, sshTag, cancellationToken).ConfigureAwait(false);
            Directory.CreateDirectory(folder);
            WritePrivate(Path.Combine(folder, "shell"), script, executable: true);
            WritePrivate(Path.Combine(folder, "keys"), string.Join('\n', allowed) + "\n", executable: false);
            lock (_lock)
            {
                _open[sessionId] = allowed;
                WriteAuthorizedKeys();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // SSH is an extra: the session goes on in the browser without it.
            _logger.LogWarning("Debug session {SessionId}: no SSH ({Error})", sessionId, ex.Message);
            Close(sessionId, folder);
            return null;
        }

        return new SshEntry(CommandFor(sessionId), async () =>
        {
            Close(sessionId, folder);
            await host.KillTaggedAsync(sshTag).ConfigureAwait(false);
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await ProcessTree.KillGroupAsync(_process).ConfigureAwait(false);
        }

        _process.Dispose();
    }

    /// <summary>The <c>type base64</c> part of an OpenSSH public key line (options and comment dropped); null when it is not one.</summary>
    public static string? KeyOf(string line)
    {
        var parts = (line ?? "").Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i + 1 < parts.Length; i++)
        {
            if (KeyType().IsMatch(parts[i]) && Base64().IsMatch(parts[i + 1]))
            {
                return $"{parts[i]} {parts[i + 1]}";
            }
        }

        return null;
    }

    private void Close(long sessionId, string folder)
    {
        lock (_lock)
        {
            if (_open.Remove(sessionId))
            {
                WriteAuthorizedKeys();
            }
        }

        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not remove {Folder}: {Error}", folder, ex.Message);
        }
    }

    /// <summary>One line per distinct key of the open sessions, each forced through the enter script (called under the lock
    /// or before the server is shared).</summary>
    private void WriteAuthorizedKeys()
    {
        var text = new StringBuilder();
        foreach (var key in _open.Values.SelectMany(k => k).Distinct(StringComparer.Ordinal))
        {
            text.Append("command=\"").Append(EnterScript).Append("\",no-port-forwarding,no-agent-forwarding,no-X11-forwarding ").Append(key).Append('\n');
        }

        // Replaced whole, so sshd never reads half a file.
        var next = AuthorizedKeys + ".next";
        WritePrivate(next, text.ToString(), executable: false);
        File.Move(next, AuthorizedKeys, overwrite: true);
    }

    private void WriteEnterScript()
    {
        var q = JobExecutor.ShellQuote;
        var script = $$"""
            #!/bin/bash
            # kaizen: the forced command of every key in authorized_keys. Enters the debug session named by the ssh
            # command (the only open one of this key when none is named), if that session allows the key sshd accepted.
            sessions={{q(SessionsFolder)}}
            id=${SSH_ORIGINAL_COMMAND//[[:space:]]/}
            key=
            if [[ -n ${SSH_USER_AUTH:-} && -r $SSH_USER_AUTH ]]; then
              while read -r method type blob _; do
                [[ $method == publickey ]] && key="$type $blob"
              done < "$SSH_USER_AUTH"
            fi
            if [[ -z $key ]]; then
              echo 'kaizen: sshd did not say which key logged in; refused.' >&2
              exit 1
            fi
            if [[ -z $id ]]; then
              open=()
              for keys in "$sessions"/*/keys; do
                [[ -f $keys ]] && grep -qxF -- "$key" "$keys" && open+=("$(basename "$(dirname "$keys")")")
              done
              if (( ${#open[@]} != 1 )); then
                echo "kaizen: this key may enter ${#open[@]} open debug sessions; name one: ssh -t ... <session id>" >&2
                exit 1
              fi
              id=${open[0]}
            fi
            if [[ ! $id =~ ^[0-9]+$ ]] || [[ ! -f $sessions/$id/keys ]] || ! grep -qxF -- "$key" "$sessions/$id/keys"; then
              echo "kaizen: debug session '$id' is not open on this runner, or your key may not enter it; refused." >&2
              exit 1
            fi
            exec "$sessions/$id/shell"

            """;
        WritePrivate(EnterScript, script, executable: true);
    }

    private static Process Launch(string folder, int port, string hostKey)
    {
        var config = Path.Combine(folder, "sshd_config");
        File.WriteAllText(config, $"""
            # Written by the kaizen runner at each start: SSH into debug sessions only.
            Port {port}
            ListenAddress 0.0.0.0
            ListenAddress ::
            HostKey {hostKey}
            PidFile {Path.Combine(folder, "sshd.pid")}
            AuthorizedKeysFile {Path.Combine(folder, "authorized_keys")}
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            PermitRootLogin forced-commands-only
            AllowUsers {User}
            ExposeAuthInfo yes
            StrictModes no
            AllowTcpForwarding no
            X11Forwarding no
            AllowAgentForwarding no
            PermitTTY yes
            PrintMotd no
            PermitUserEnvironment no

            """);
        var start = new ProcessStartInfo { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        ProcessTree.UseNewProcessGroup(start, Sshd, ["-D", "-e", "-f", config]);
        var process = Process.Start(start) ?? throw new SshUnavailableException($"{Sshd} did not start");
        process.StandardInput.Close();
        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        return process;
    }

    /// <summary>Until sshd has bound its port (it writes its pid file then); fails when it exits first (the port is taken,
    /// the config is refused) or takes too long.</summary>
    private async Task WaitListeningAsync(CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(_folder, "sshd.pid");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                await Task.WhenAny(_errors, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
                throw new SshUnavailableException($"sshd exited at start with status {_process.ExitCode}: {_lastError ?? "no reason given"}");
            }

            if (File.Exists(pidFile) && (await File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false)).Trim() == $"{_process.Id}")
            {
                return;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new SshUnavailableException($"sshd did not start listening on port {Port}");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>sshd's stderr (<c>-e</c>) goes to the runner's log: its start, its refusals, the logins it accepted.</summary>
    private async Task LogErrorsAsync()
    {
        while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            _lastError = line;
            _logger.LogInformation("sshd: {Line}", line);
        }
    }

    private static void WritePrivate(string path, string text, bool executable)
    {
        File.WriteAllText(path, "");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | (executable ? UnixFileMode.UserExecute : 0));
        }

        File.WriteAllText(path, text);
    }

    [GeneratedRegex(@"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$")]
    private static partial Regex KeyType();

    [GeneratedRegex("^[A-Za-z0-9+/]+={0,3}$")]
    private static partial Regex Base64();

    private sealed class SshUnavailableException(string message) : Exception(message);
}

/// <summary>A debug session reachable over SSH with <see cref="Command"/>, until disposed.</summary>
public sealed class SshEntry(string command, Func<Task> close) : IAsyncDisposable
{
    private int _closed;

    public string Command => command;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            await close().ConfigureAwait(false);
        }
    }
}

/// <summary>Who may reach session <see cref="SessionId"/> over SSH through <see cref="Server"/>: its users' public keys.</summary>
public sealed record SshAccess(SshServer Server, long SessionId, IReadOnlyList<string>? Keys)
{
    /// <summary>See <see cref="SshServer.OpenAsync"/>.</summary>
    public Task<SshEntry?> OpenAsync(ITerminalHost host, string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, string tag,
        CancellationToken cancellationToken) =>
        Server.OpenAsync(SessionId, Keys, host, workspace, environment, rcFile, tag, cancellationToken);
}
