using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Kaizen.Portal.Builds;

namespace Kaizen.Benchmarks;

/// <summary>
/// Container job start overhead: build requested → first command running, for a job in a container from a warm image
/// (present, so no pull) against the same job on the runner's shell, one build at a time on the embedded runner. The
/// command prints bash's <c>$EPOCHREALTIME</c> (a builtin, in the container too) so the moment it ran is exact.
/// </summary>
internal static partial class DockerBenchmark
{
    public const string Image = "kaizen-bench/busybox:1";

    /// <summary>(measure, kaizen, baseline, overhead ms); null with a note when Docker is not available.</summary>
    public static async Task<(string Measure, string Kaizen, string Baseline, double ContainerMs, double ShellMs)?> RunAsync(
        BenchHost host, int builds, List<string> notes)
    {
        if (!File.Exists("/bin/bash-static") || !await ImportBusyboxAsync())
        {
            notes.Add("Container start: skipped (no Docker daemon, /bin/bash-static or /bin/busybox on this machine).");
            return null;
        }

        const string Command = "echo \"kaizen-ran-at $EPOCHREALTIME\"";
        var shell = await host.CreateProjectAsync("Start on shell", [new JobSettings("first", [Command])]);
        var container = await host.CreateProjectAsync("Start in container", [new JobSettings("first", [Command], Image: Image)]);
        Console.Error.WriteLine($"Container start: 3 warm-up builds each, then {builds} measured of each, alternating...");
        var shellMs = new List<double>();
        var containerMs = new List<double>();
        for (var i = 0; i < 3 + builds; i++)
        {
            var s = await FirstCommandRunningMsAsync(host, shell);
            var c = await FirstCommandRunningMsAsync(host, container);
            if (i < 3) continue;
            shellMs.Add(s);
            containerMs.Add(c);
        }

        var container50 = Median(containerMs);
        var shell50 = Median(shellMs);
        notes.Add($"Container start: p50 / p99 build requested → first command running, container {container50:0} / {Percentile(containerMs, 0.99):0} ms, " +
                  $"shell {shell50:0} / {Percentile(shellMs, 0.99):0} ms; the difference is mostly the `docker exec` of bash in the warm container " +
                  "(without one, a cold start adds the container's create and start).");
        return ($"Container job start overhead: build requested → first command running, warm image ({builds} builds each, sequential)",
            $"p50 {container50:0} ms in a container → overhead {container50 - shell50:0} ms",
            $"p50 {shell50:0} ms (the same job on the shell executor)",
            container50, shell50);
    }

    private static async Task<double> FirstCommandRunningMsAsync(BenchHost host, string slug)
    {
        var requested = DateTimeOffset.UtcNow;
        var id = await host.StartBuildAsync(slug);
        var build = await host.WaitFinishedAsync(id, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1));
        var job = build.Jobs.Single();
        if (build.Status != Status.Passed) throw new InvalidOperationException($"Build {id} of {slug} {build.Status}: {job.Error}");
        var log = await host.Api.GetStringAsync($"/api/v1/jobs/{job.Id}/log");
        var match = RanAt().Match(log);
        if (!match.Success) throw new InvalidOperationException($"Build {id} printed no time: {log}");
        var ranAtUs = double.Parse(match.Groups[1].Value.Replace(",", "."), NumberStyles.Float, CultureInfo.InvariantCulture) * 1e6;
        var requestedUs = (requested.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10.0;
        return (ranAtUs - requestedUs) / 1000;
    }

    /// <summary>Makes the benchmark's busybox image (docker import of a busybox-static root) unless it exists.</summary>
    private static async Task<bool> ImportBusyboxAsync()
    {
        if (await RunAsync("docker", "image", "inspect", Image) == 0) return true;
        if (!File.Exists("/bin/busybox")) return false;
        var root = Directory.CreateTempSubdirectory("kaizen-bench-root").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "bin"));
            File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"));
            foreach (var applet in new[] { "sh", "cat", "echo", "ls" })
                File.CreateSymbolicLink(Path.Combine(root, "bin", applet), "busybox");
            return await RunAsync("bash", "-c", $"tar -C '{root}' -c . | docker import -c 'ENV PATH=/bin' - {Image}") == 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<int> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(info)!;
            var drain = p.StandardError.BaseStream.CopyToAsync(Stream.Null);
            await p.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            await drain;
            await p.WaitForExitAsync();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    [GeneratedRegex(@"kaizen-ran-at ([0-9]+[.,][0-9]+)")]
    private static partial Regex RanAt();
}
