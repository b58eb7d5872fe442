using System.Diagnostics;
using System.Net.Http.Json;
using Kaizen.Portal.Runners;
using Kaizen.Runner.Agent;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>The kaizen-runner console host as people start it: where it reads the registration token from.</summary>
public sealed class ConsoleRunnerTests
{
    [Theory]
    [InlineData("file")]
    [InlineData("environment")]
    public async Task The_console_runner_registers_with_a_token_from_a_file_or_the_environment_without_a_warning(string source)
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var work = Path.Combine(portal.DataDirectory, "console-runner");
        var tokenFile = Path.Combine(portal.DataDirectory, "registration-token");
        await File.WriteAllTextAsync(tokenFile, PortalHost.RegistrationToken + "\n");
        var args = new List<string> { "--portal", portal.BaseUrl.ToString(), "--work", work, "--name", $"from-{source}", "--no-docker" };
        var environment = new Dictionary<string, string>();
        if (source == "file") args.AddRange(["--registration-token-file", tokenFile]);
        else environment[RegistrationToken.Variable] = PortalHost.RegistrationToken;

        var (registered, stderr) = await RunUntilRegisteredAsync(portal, args, environment, $"from-{source}", work);

        Assert.True(registered, $"The runner did not register; it wrote:\n{stderr}");
        Assert.DoesNotContain("visible to other processes", stderr);
        var credentials = Path.Combine(work, "runner.json");
        Assert.True(File.Exists(credentials));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credentials));
        Assert.DoesNotContain(PortalHost.RegistrationToken, await File.ReadAllTextAsync(credentials));
    }

    [Fact]
    public async Task A_registration_token_on_the_command_line_still_works_but_warns_that_other_processes_can_read_it()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var args = new List<string>
        {
            "--portal", portal.BaseUrl.ToString(), "--work", Path.Combine(portal.DataDirectory, "console-runner"), "--name", "from-argument",
            "--no-docker", "--registration-token", PortalHost.RegistrationToken,
        };

        var (registered, stderr) = await RunUntilRegisteredAsync(portal, args, new Dictionary<string, string>(), "from-argument");

        Assert.True(registered, $"The runner did not register; it wrote:\n{stderr}");
        Assert.Contains("--registration-token is visible to other processes", stderr);
    }

    [Fact]
    public void A_token_file_wins_over_the_environment_and_the_environment_over_the_argument()
    {
        using var folder = new Kaizen.Runner.Tests.Support.TempDirectory();
        var file = Path.Combine(folder.Path, "token");
        File.WriteAllText(file, " from-file \n");

        Assert.Equal("from-file", RegistrationToken.Resolve("from-argument", file, "from-environment"));
        Assert.Equal("from-environment", RegistrationToken.Resolve("from-argument", null, "from-environment"));
        Assert.Equal("from-argument", RegistrationToken.Resolve("from-argument", null, null));
        Assert.Null(RegistrationToken.Resolve(null, null, " "));
        File.WriteAllText(file, "\n");
        Assert.Throws<ArgumentException>(() => RegistrationToken.Resolve(null, file, null));
    }

    /// <summary>kaizen-runner.dll in the Runner project's own build output (same configuration and framework as these
    /// tests): its deps.json lists what the console host loads, which the copy beside the tests does not carry.</summary>
    internal static string RunnerBuild()
    {
        var tests = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (tests.Name, tests.Parent!.Name);
        var root = tests;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Portal.sln"))) root = root.Parent;
        Assert.NotNull(root);
        var dll = Path.Combine(root.FullName, "Runner", "bin", configuration, framework, "kaizen-runner.dll");
        Assert.True(File.Exists(dll), $"kaizen-runner is not built at {dll}");
        return dll;
    }

    /// <summary>Starts kaizen-runner (the same build the tests reference) and waits until the portal lists it; stops it after.</summary>
    /// <param name="work">Also wait until the runner has saved its credentials there.</param>
    private static async Task<(bool Registered, string Stderr)> RunUntilRegisteredAsync(PortalHost portal, IEnumerable<string> args,
        IReadOnlyDictionary<string, string> environment, string name, string? work = null)
    {
        var runnerDll = RunnerBuild();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(runnerDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment.Remove(RegistrationToken.Variable);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = new Process { StartInfo = start };
        var stdout = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (stdout) stdout.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        var registered = false;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!registered && DateTime.UtcNow < deadline && !process.HasExited)
            {
                var runners = await portal.Api.GetFromJsonAsync<List<RunnerResponse>>("/api/v1/runners");
                // The runner logs its registration once its credentials are saved.
                bool saved;
                lock (stdout) saved = stdout.ToString().Contains("Registered with", StringComparison.Ordinal);
                registered = runners!.Any(r => r.Name == name) && (work is null || saved);
                if (!registered) await Task.Delay(200);
            }
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        return (registered, await stderr);
    }
}
