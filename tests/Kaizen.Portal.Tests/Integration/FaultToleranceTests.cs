using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>Faults a CI server meets in real life: runners that die, a portal that restarts, and floods of output.</summary>
public sealed class FaultToleranceTests : OneCommitRepository
{
    [Fact]
    public async Task A_runner_that_goes_silent_mid_job_has_its_job_failed_as_runner_lost_with_the_log_kept()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0, leaseSeconds: 2);
        var slug = await portal.CreateProjectAsync("Lost App", _repo.Path, OneJob("make all", "make test"));
        var buildId = await portal.StartBuildAsync(slug);
        using var runner = await RawRunner.RegisterAsync(portal, "doomed");
        var job = await runner.ClaimJobAsync();
        var first = job.Commands[0].Index;
        using var streamed = await runner.StreamAsync(job.JobId, 1, "compiling step 1 of 9\n",
            new CommandEvent(first, CommandEventKind.Started, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        var silentSince = Stopwatch.StartNew();

        var build = await portal.WaitForBuildAsync(buildId, timeoutSeconds: 15);

        Assert.InRange(silentSince.Elapsed.TotalSeconds, 1, 10);
        Assert.Equal(Status.Failed, build.Status);
        var lost = Assert.Single(build.Jobs);
        Assert.Equal((Status.Failed, "runner lost"), (lost.Status, lost.Error));
        Assert.Equal([Status.Failed, Status.Skipped], lost.Commands.Select(c => c.Status));
        var log = await portal.LogAsync(job.JobId);
        Assert.StartsWith("compiling step 1 of 9\n", log);
        Assert.Contains("Runner lost", log);
        // The runner comes back too late: the portal tells it the job is no longer its own.
        using var late = await runner.StreamAsync(job.JobId, 2, "compiling step 2 of 9\n");
        using var heartbeat = await runner.HeartbeatAsync(job.JobId);
        var reply = (await heartbeat.Content.ReadFromJsonAsync<HeartbeatResponse>(RunnerJson.Options))!;
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        Assert.Equal([job.JobId], reply.Unknown);
        Assert.DoesNotContain("step 2", await portal.LogAsync(job.JobId));
    }

    [Fact]
    public async Task A_runner_that_keeps_sending_heartbeats_keeps_its_job_past_the_lease()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0, leaseSeconds: 2);
        var slug = await portal.CreateProjectAsync("Alive App", _repo.Path, OneJob("sleep 4"));
        var buildId = await portal.StartBuildAsync(slug);
        using var runner = await RawRunner.RegisterAsync(portal, "alive");
        var job = await runner.ClaimJobAsync();

        var heartbeats = Stopwatch.StartNew();
        while (heartbeats.Elapsed < TimeSpan.FromSeconds(4))
        {
            using var beat = await runner.HeartbeatAsync(job.JobId);
            Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
            await Task.Delay(400);
        }
        using var completed = await runner.CompleteAsync(job.JobId, JobOutcome.Passed, lastSeq: 0);

        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        Assert.Equal(Status.Passed, (await portal.GetBuildAsync(buildId)).Status);
    }

    [Fact]
    public async Task A_runner_process_killed_mid_job_has_its_job_failed_as_runner_lost()
    {
        var runnerDll = RunnerExecutable();
        // The separate runner sends heartbeats every 2 s, so its lease must be longer than that.
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0, leaseSeconds: 5);
        using var work = new TempDirectory();
        var slug = await portal.CreateProjectAsync("Killed App", _repo.Path, OneJob("echo about to sleep", "sleep 60"));
        var buildId = await portal.StartBuildAsync(slug);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { runnerDll, "--portal", portal.BaseUrl.ToString(), "--registration-token", PortalHost.RegistrationToken,
                "--name", "doomed-process", "--work", work.Path },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await portal.WaitForBuildAsync(buildId, b => b.Jobs[0].Commands[1].Status == Status.Running, timeoutSeconds: 30);

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            var killedAt = Stopwatch.StartNew();
            var build = await portal.WaitForBuildAsync(buildId, timeoutSeconds: 20);

            Assert.InRange(killedAt.Elapsed.TotalSeconds, 0, 12);
            Assert.Equal(Status.Failed, build.Status);
            Assert.Equal((Status.Failed, "runner lost"), (build.Jobs[0].Status, build.Jobs[0].Error));
            Assert.Equal([Status.Passed, Status.Failed], build.Jobs[0].Commands.Select(c => c.Status));
            var log = await portal.LogAsync(build.Jobs[0].Id);
            Assert.Contains("about to sleep", log);
            Assert.Contains("Runner lost", log);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task A_runner_started_again_after_being_killed_ends_what_its_jobs_left_running_and_removes_their_folders()
    {
        var runnerDll = RunnerExecutable();
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0, leaseSeconds: 5);
        using var work = new TempDirectory();
        // Unusual durations tell this test's processes apart from any other's on the machine.
        var slug = await portal.CreateProjectAsync("Orphan App", _repo.Path, OneJob("sleep 907 & sleep 908 & echo started", "sleep 909"));
        var buildId = await portal.StartBuildAsync(slug);
        using var first = StartRunnerProcess(runnerDll, portal, "killed-runner", work.Path);
        Process? second = null;
        try
        {
            var running = await portal.WaitForBuildAsync(buildId, b => b.Jobs[0].Commands[1].Status == Status.Running, timeoutSeconds: 30);
            var workspaces = Path.Combine(work.Path, "jobs");
            Assert.NotEmpty(Directory.GetDirectories(workspaces));

            // Only the runner dies (SIGKILL): its job's shell, busy with a command, and what it started live on.
            first.Kill(entireProcessTree: false);
            await first.WaitForExitAsync();
            Assert.NotEmpty(Sleepers());

            second = StartRunnerProcess(runnerDll, portal, "killed-runner", work.Path);
            var reaped = Stopwatch.StartNew();
            while ((Sleepers().Count > 0 || Directory.GetDirectories(workspaces).Length > 0) && reaped.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(200);
            }

            Assert.Empty(Sleepers());
            Assert.Empty(Directory.GetDirectories(workspaces));
            var build = await portal.WaitForBuildAsync(running.Id, timeoutSeconds: 30);
            Assert.Equal((Status.Failed, "runner lost"), (build.Jobs[0].Status, build.Jobs[0].Error));
        }
        finally
        {
            if (!first.HasExited) first.Kill(entireProcessTree: true);
            if (second is { HasExited: false }) second.Kill(entireProcessTree: true);
            second?.Dispose();
            foreach (var pid in Sleepers())
            {
                try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
            }
        }

        static List<int> Sleepers() =>
            [.. new[] { 907, 908, 909 }.SelectMany(n => BuildEndToEndTests.HostProcesses($"sleep\0{n}\0"))];
    }

    private static Process StartRunnerProcess(string runnerDll, PortalHost portal, string name, string work)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { runnerDll, "--portal", portal.BaseUrl.ToString(), "--registration-token", PortalHost.RegistrationToken,
                "--name", name, "--work", work },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [Fact]
    public async Task A_portal_restart_while_a_runner_works_lets_the_job_finish()
    {
        using var data = new TempDirectory();
        using var work = new TempDirectory();
        var port = PortalHost.FreePort();
        // A short lease that runs out while the portal is down: the restarted portal must give the runner time to return.
        const int lease = 5; // long enough that a loaded machine still renews it in time once the portal is back
        var portal = await PortalHost.StartAsync(embeddedSlots: 0, dataDirectory: data.Path, port: port, leaseSeconds: lease);
        await using var runner = OwnRunner.Start(portal.BaseUrl, "survivor", work.Path);
        try
        {
            var slug = await portal.CreateProjectAsync("Restart App", _repo.Path, OneJob("echo started; sleep 6; echo finished"));
            var buildId = await portal.StartBuildAsync(slug);
            await portal.WaitForBuildAsync(buildId, b => b.Jobs[0].Commands[0].Status == Status.Running);

            await portal.DisposeAsync();
            await Task.Delay(TimeSpan.FromSeconds(lease + 0.5));
            portal = await PortalHost.StartAsync(embeddedSlots: 0, dataDirectory: data.Path, port: port, leaseSeconds: lease);
            var build = await portal.WaitForBuildAsync(buildId, timeoutSeconds: 60);

            Assert.True(build.Status == Status.Passed, await portal.DescribeAsync(build));
            Assert.Equal(0, build.Jobs[0].Commands[0].ExitCode);
            var log = await portal.LogAsync(build.Jobs[0].Id);
            Assert.Equal(1, log.Split("started").Length - 1);
            Assert.Contains("finished", log);
        }
        finally
        {
            await runner.StopAsync();
            await portal.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_producer_piped_into_head_stops_quietly_like_in_a_terminal()
    {
        // In a terminal a writer to a closed pipe dies of SIGPIPE (exit 141); if the runner left SIGPIPE ignored,
        // yes would complain about a broken pipe and the shell loop below would never end.
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Pipe App", _repo.Path, OneJob(
            "yes | head -n 1; echo \"statuses ${PIPESTATUS[*]}\"",
            "while :; do echo loop; done | head -n 2"));

        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 20);
        var log = await portal.LogAsync(build.Jobs[0].Id);

        Assert.Equal(Status.Passed, build.Status);
        Assert.Contains("y\nstatuses 141 0\n", log);
        Assert.Contains("loop\nloop\n", log);
        Assert.DoesNotContain("Broken pipe", log);
    }

    [Fact]
    public async Task A_hundred_megabytes_of_output_passes_and_the_whole_log_streams_back()
    {
        const string line = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        const long total = 100_000_000;
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Flood App", _repo.Path, OneJob($"yes {line} | head -c {total}", "echo after the flood"));
        var clock = Stopwatch.StartNew();

        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 300);
        var ran = clock.Elapsed;
        clock.Restart();
        var (bytes, fullLines, others) = await ScanLogAsync(portal, build.Jobs[0].Id, line);
        var read = clock.Elapsed;

        Assert.Equal(Status.Passed, build.Status);
        Assert.InRange(build.Jobs[0].LogBytes, total, total + 10_000);
        Assert.InRange(bytes, total, total + 10_000);
        Assert.True(total / (line.Length + 1) == fullLines,
            $"{fullLines:N0} whole lines of the flood; the other lines are:\n{string.Join("\n", others)}");
        Assert.Contains(others, l => l.Contains("after the flood"));
        Console.WriteLine($"100 MB of output: build {ran.TotalSeconds:F1} s, log read back {read.TotalSeconds:F1} s");
    }

    /// <summary>
    /// The built kaizen-runner.dll in the Runner project's own output (the copy beside the tests lacks its logging
    /// packages, which the tests get from the ASP.NET Core shared framework instead).
    /// </summary>
    internal static string RunnerExecutable()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (output.Name, output.Parent!.Name);
        for (var dir = output; dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) continue;
            var dll = Path.Combine(dir.FullName, "Runner", "bin", configuration, framework, "kaizen-runner.dll");
            Assert.True(File.Exists(dll), $"The runner is built at {dll}");
            return dll;
        }
        Assert.Fail($"No Portal.sln above {output.FullName}");
        return "";
    }

    /// <summary>Reads a job's log as a stream: its size, how many lines equal <paramref name="line"/>, and the other lines
    /// (the first few, cut short), without holding the log in memory.</summary>
    private static async Task<(long Bytes, long FullLines, List<string> Others)> ScanLogAsync(PortalHost portal, long jobId, string line)
    {
        using var response = await portal.Api.GetAsync($"/api/v1/jobs/{jobId}/log", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var expected = Encoding.ASCII.GetBytes(line);
        var others = new List<string>();
        var current = new List<byte>();
        var buffer = new byte[1 << 16];
        long bytes = 0, fullLines = 0;
        var position = 0;
        var matches = true;
        void EndLine()
        {
            if (matches && position == expected.Length) fullLines++;
            else if (others.Count < 20) others.Add(Encoding.UTF8.GetString(current.ToArray()));
            position = 0;
            matches = true;
            current.Clear();
        }
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            bytes += n;
            for (var i = 0; i < n; i++)
            {
                var b = buffer[i];
                if (b == '\n')
                {
                    EndLine();
                    continue;
                }
                if (current.Count < 300) current.Add(b);
                if (matches && position < expected.Length && expected[position] == b) position++;
                else matches = false;
            }
        }
        if (current.Count > 0 || !matches) EndLine();
        return (bytes, fullLines, others);
    }
}
