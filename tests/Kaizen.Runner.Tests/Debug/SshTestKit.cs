using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>
/// The real OpenSSH tools for SSH tests: users' keys from ssh-keygen and the ssh client. Skipped without
/// <see cref="SshServer.Sshd"/>, except when KAIZEN_REQUIRE_TOOLCHAINS=1 (CI), where its absence fails the test.
/// </summary>
public static class SshTestKit
{
    public static void RequireSshd()
    {
        if (File.Exists(SshServer.Sshd) && File.Exists("/usr/bin/ssh") && File.Exists("/usr/bin/ssh-keygen"))
        {
            return;
        }

        const string Message = "OpenSSH is not installed (apt-get install openssh-server openssh-client)";
        if (Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_TOOLCHAINS") == "1")
        {
            Assert.Fail($"OpenSSH required (KAIZEN_REQUIRE_TOOLCHAINS=1): {Message}");
        }

        Skip.If(true, Message);
    }

    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>Makes a user's key pair in <paramref name="folder"/>: the private key's path and the public key's line.</summary>
    public static async Task<(string PrivateKey, string PublicKey)> MakeKeyAsync(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        var (code, output) = await DockerTestImages.RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", $"{name}@laptop", "-f", path);
        Assert.True(code == 0, $"ssh-keygen failed: {output}");
        return (path, (await File.ReadAllTextAsync(path + ".pub")).Trim());
    }

    /// <summary><c>ssh -tt</c> as the session page says, with <paramref name="input"/> typed and stdin then left open
    /// (the shell's <c>exit</c> ends it, or the server hangs up).</summary>
    public static SshLogin Login(string key, int port, string? sessionId, string input) => new(key, port, sessionId, input);
}

/// <summary>A running <c>ssh</c> client and everything it printed.</summary>
public sealed class SshLogin : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Task _reading;

    public SshLogin(string key, int port, string? sessionId, string input)
    {
        var start = new ProcessStartInfo("/usr/bin/ssh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
        {
            "-tt", "-i", key, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", $"{SshServer.User}@127.0.0.1",
        })
        {
            start.ArgumentList.Add(argument);
        }

        if (sessionId is not null)
        {
            start.ArgumentList.Add(sessionId);
        }

        _process = Process.Start(start)!;
        _process.StandardInput.Write(input);
        _process.StandardInput.Flush();
        _reading = Task.WhenAll(ReadAsync(_process.StandardOutput.BaseStream), ReadAsync(_process.StandardError.BaseStream));
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Waits for the client to end; its exit status.</summary>
    public async Task<int> ExitAsync()
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TerminalScreen.Patience);
            await _reading.WaitAsync(TerminalScreen.Patience);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"ssh did not end. It printed:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits until the client has printed <paramref name="text"/>.</summary>
    public async Task WaitForAsync(string text)
    {
        var deadline = DateTime.UtcNow + TerminalScreen.Patience;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                await _reading.WaitAsync(TerminalScreen.Patience);
                Assert.True(Output.Contains(text, StringComparison.Ordinal), $"ssh ended without printing '{text}'. It printed:\n{Output}");
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"ssh did not print '{text}'. It printed:\n{Output}");
            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private async Task ReadAsync(Stream stream)
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            lock (_output)
            {
                _output.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
    }
}

/// <summary>Keeps what the runner logs (sshd's lines among them) for failure messages.</summary>
public sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}");
}

/// <summary>Every category's logger is the same <see cref="ListLogger"/>.</summary>
public sealed class SingleLoggerFactory(ListLogger logger) : Microsoft.Extensions.Logging.ILoggerFactory
{
    public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
    {
    }

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => logger;

    public void Dispose()
    {
    }
}
