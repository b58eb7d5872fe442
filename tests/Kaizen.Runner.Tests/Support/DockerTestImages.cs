using System.Diagnostics;
using Kaizen.Runner.Execution.Docker;

namespace Kaizen.Runner.Tests.Support;

/// <summary>
/// A real Docker daemon for tests, with a busybox image made here (<c>docker import</c> of a busybox-static root: no
/// registry is reachable). A test that finds no daemon is skipped locally and fails when KAIZEN_REQUIRE_DOCKER=1.
/// </summary>
public static class DockerTestImages
{
    /// <summary>busybox with sh, wget, httpd, nc, cat, sleep and friends; no bash, curl, tar or zstd.</summary>
    public const string Busybox = "kaizen-test/busybox:1";

    /// <summary>The same root whose command serves $MESSAGE as /index.html on port 8080 (busybox httpd), after $DELAY seconds.</summary>
    public const string Httpd = "kaizen-test/httpd:1";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool _ready;

    /// <summary>Skips (or fails in CI) without Docker; makes <see cref="Busybox"/> once.</summary>
    public static async Task RequireAsync()
    {
        var (engine, problem) = await DockerEngine.TryConnectAsync(new DockerOptions(), "probe", Path.GetTempPath());
        engine?.Dispose();
        if (problem is not null)
        {
            var message = $"Docker is not available: {problem} (apt-get install docker.io bash-static busybox-static, then start dockerd)";
            if (Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_DOCKER") == "1")
            {
                Assert.Fail($"Docker required (KAIZEN_REQUIRE_DOCKER=1): {message}");
            }

            Skip.If(true, message);
        }

        await Gate.WaitAsync();
        try
        {
            if (!_ready)
            {
                await EnsureBusyboxAsync(Busybox);
                await EnsureBusyboxAsync(Httpd,
                    "CMD [\"/bin/sh\", \"-c\", \"sleep ${DELAY:-0}; echo \\\"$MESSAGE\\\" > /www/index.html; echo httpd starting; exec httpd -f -v -p 8080 -h /www\"]");
                _ready = true;
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Imports a busybox root as <paramref name="tag"/> unless it exists.</summary>
    public static async Task EnsureBusyboxAsync(string tag, string? change = null)
    {
        if ((await RunAsync("docker", "image", "inspect", tag)).ExitCode == 0)
        {
            return;
        }

        var busybox = File.Exists("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox";
        Skip.IfNot(File.Exists(busybox) || Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_DOCKER") == "1", "busybox-static is not installed");
        using var root = new TempDirectory();
        var bin = Directory.CreateDirectory(Path.Combine(root.Path, "bin")).FullName;
        File.Copy(busybox, Path.Combine(bin, "busybox"));
        foreach (var applet in new[] { "sh", "ls", "cat", "echo", "wget", "nc", "httpd", "sleep", "mkdir", "rm", "env", "test", "true", "false", "grep", "id" })
        {
            File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
        }

        Directory.CreateDirectory(Path.Combine(root.Path, "tmp"));
        Directory.CreateDirectory(Path.Combine(root.Path, "www"));
        var arguments = new List<string> { "import", "-c", "ENV PATH=/bin" };
        if (change is not null)
        {
            arguments.AddRange(["-c", change]);
        }

        var tar = await RunAsync("tar", "-C", root.Path, "-cf", Path.Combine(root.Path, "..", Path.GetFileName(root.Path) + ".tar"), ".");
        Assert.Equal(0, tar.ExitCode);
        var result = await RunAsync("docker", [.. arguments, Path.Combine(root.Path, "..", Path.GetFileName(root.Path) + ".tar"), tag]);
        File.Delete(Path.Combine(root.Path, "..", Path.GetFileName(root.Path) + ".tar"));
        Assert.True(result.ExitCode == 0, $"docker import failed: {result.Output}");
    }

    /// <summary>Runs a command (test setup only; the runner itself talks to the daemon through Docker.DotNet).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
