// Kaizen's speed against its performance targets (DESIGN.md), each next to a baseline measured in the same run.
//
//   dotnet run -c Release --project tests/Kaizen.Benchmarks                      full run (a few minutes)
//   dotnet run -c Release --project tests/Kaizen.Benchmarks -- --quick           fewer samples, smaller log
//   dotnet run -c Release --project tests/Kaizen.Benchmarks -- --out bench.md    also write the table to a file
//   dotnet run -c Release --project tests/Kaizen.Benchmarks -- --only cache      one measure (dispatch, commands,
//                                                                                 fan-out, log, cache, cache-hit, docker,
//                                                                                 debug, logs)
//   dotnet run -c Release --project tests/Kaizen.Benchmarks -- --sandbox off     dispatch and commands without the job
//                                                                                 sandbox only (default: with and without)
//   dotnet run -c Release --project tests/Kaizen.Benchmarks -- --Kaizen:Git:BranchHeadMaxAgeSeconds=5
//                                                                                 any portal setting, as on the portal's
//                                                                                 command line
//
// The real portal runs in this process with its embedded runner (8 slots) and a SQLite database in a temp folder;
// builds come from a real git repository made for the run. Runner and portal share this machine's clock.

using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Kaizen.Benchmarks;
using Kaizen.Portal.Builds;
using static Kaizen.Benchmarks.Stats;

var quick = args.Contains("--quick");
var outIndex = Array.IndexOf(args, "--out");
var outFile = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : null;
var onlyIndex = Array.IndexOf(args, "--only");
var only = onlyIndex >= 0 && onlyIndex + 1 < args.Length ? args[onlyIndex + 1] : null;
bool Measure(string name) => only is null || only == name;
if (args.Any(a => a is "-h" or "--help"))
{
    Console.WriteLine("Usage: dotnet run -c Release --project tests/Kaizen.Benchmarks [-- [--quick] [--out file.md] [--only dispatch|commands|fan-out|log|cache|cache-hit|docker|debug|logs] [--sandbox on|off] [--Kaizen:Section:Name=value]...]");
    return 0;
}
#if DEBUG
Console.Error.WriteLine("Warning: a Debug build; figures are only meaningful with -c Release.");
#endif

const int Slots = 8;
var dispatchBuilds = quick ? 50 : 200;
const int CommandCount = 1000;
const int FanOutJobs = 256;
var repeats = quick ? 1 : 3;
var logBytes = quick ? 50_000_000L : 200_000_000L;
// Dispatch and per-command overhead run on a portal whose runner sandboxes jobs (the default) and again on one that
// does not (--sandbox on|off: only one of them); the other measures run on the first portal only.
var sandboxIndex = Array.IndexOf(args, "--sandbox");
bool[] sandboxModes = (sandboxIndex >= 0 && sandboxIndex + 1 < args.Length ? args[sandboxIndex + 1] : "both") switch
{
    "on" => [true],
    "off" => [false],
    _ => [true, false],
};

var rows = new List<Row>();
var notes = new List<string>();
foreach (var sandbox in sandboxModes)
{
    var first = sandbox == sandboxModes[0];
    if (!first && !Measure("dispatch") && !Measure("commands")) break;
    Console.Error.WriteLine($"Starting the portal with an embedded runner of {Slots} slots, sandbox {(sandbox ? "on" : "off")}...");
    await using var host = await BenchHost.StartAsync(Slots, sandbox, args.Where(a => a.StartsWith("--Kaizen:", StringComparison.Ordinal)));
    var hostName = await host.JobHostNameAsync();
    notes.Add(sandbox
        ? $"Sandbox on: {BubblewrapVersion()}; jobs saw the host name '{hostName}'" +
          (hostName == "kaizen-job" ? " (inside bubblewrap)." : " — NOT inside the sandbox, so the 'sandbox on' rows measure none.")
        : $"Sandbox off: jobs ran as this process's user (host name '{hostName}').");
    if (Measure("dispatch")) rows.Add(await DispatchBenchmark.DispatchAsync(host, dispatchBuilds, notes));
    if (Measure("commands")) rows.Add(await DispatchBenchmark.CommandsAsync(host, CommandCount, repeats, notes));
    if (first) await OtherMeasuresAsync(host);
}

async Task OtherMeasuresAsync(BenchHost host)
{
    // (c) Fan-out ------------------------------------------------------------------------------------------------------
    if (Measure("fan-out"))
    {
        var jobs = Enumerable.Range(1, FanOutJobs).Select(i => new JobSettings($"job-{i:000}", ["true"])).ToList();
        var slug = await host.CreateProjectAsync("Fan-out", jobs);
        Console.Error.WriteLine($"Fan-out: {FanOutJobs} jobs over {Slots} slots, 1 warm-up + {repeats} measured...");
        var times = new List<double>();
        for (var i = 0; i < 1 + repeats; i++)
        {
            var requested = DateTimeOffset.UtcNow;
            var build = await host.WaitFinishedAsync(await host.StartBuildAsync(slug), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
            if (i > 0) times.Add((build.FinishedAt!.Value - requested).TotalSeconds);
        }

        var baseline = new List<double>();
        for (var i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, FanOutJobs), new ParallelOptions { MaxDegreeOfParallelism = Slots },
                async (_, _) => await Shell.RunAsync("bash", ["-c", "true"]));
            baseline.Add(sw.Elapsed.TotalSeconds);
        }
        var kaizen = Median(times);
        rows.Add(new Row(
            $"Fan-out: {FanOutJobs} no-op jobs over {Slots} slots, request → build finished",
            $"{kaizen:0.00} s",
            $"{Median(baseline):0.00} s ({FanOutJobs} × `bash -c true`, {Slots} at a time)",
            Ratio(kaizen, Median(baseline)), "≤ 5 s", kaizen <= 5));
    }

    // (d) Log ingest ---------------------------------------------------------------------------------------------------
    if (Measure("log"))
    {
        const string Text = "Kaizen log ingest benchmark: the quick brown fox jumps over the lazy dog 0123456789";
        string Command(long bytes) => $"yes '{Text}' | head -c {bytes}";
        var warm = await host.CreateProjectAsync("Log warm-up", [new JobSettings("log", [Command(20_000_000)])]);
        await host.WaitFinishedAsync(await host.StartBuildAsync(warm), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));

        var slug = await host.CreateProjectAsync("Log", [new JobSettings("log", [Command(logBytes)])]);
        Console.Error.WriteLine($"Log ingest: one job printing {logBytes / 1e6:0} MB...");
        var build = await host.WaitFinishedAsync(await host.StartBuildAsync(slug), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        var job = build.Jobs.Single();
        var command = job.Commands.Single();
        if (job.LogBytes < logBytes) throw new InvalidOperationException($"The portal stored {job.LogBytes} bytes of {logBytes}.");
        // The command may end while the last few MB are still on their way: count until the job has finished (all stored).
        var seconds = (job.FinishedAt!.Value - command.StartedAt!.Value).TotalSeconds;
        var kaizen = logBytes / 1e6 / seconds;

        var baseline = await TimeManyAsync(3, () => Shell.RunAsync("bash", ["-c", Command(logBytes) + " > /dev/null"]));
        var plain = logBytes / 1e6 / (Median(baseline) / 1000);
        rows.Add(new Row(
            $"Log ingest: one job printing {logBytes / 1e6:0} MB, command start → job finished (all stored)",
            $"{kaizen:0} MB/s",
            $"{plain:0} MB/s (same command > /dev/null)",
            Ratio(kaizen, plain), "≥ 50 MB/s", kaizen >= 50));
        notes.Add($"Log ingest: the command itself took {command.DurationMs} ms of {seconds * 1000:0} ms " +
                  $"({logBytes / 1e3 / Math.Max(1, command.DurationMs ?? 1):0} MB/s by command duration); MB = 10^6 bytes.");
    }

    // (e) Cache restore ------------------------------------------------------------------------------------------------
    if (Measure("cache"))
    {
        var treeBytes = quick ? 256L << 20 : 1L << 30;
        foreach (var (measure, kaizen, baseline, ratio) in await CacheBenchmark.RunAsync(host, treeBytes, quick ? 2 : 3, notes))
            rows.Add(new Row(measure, kaizen, baseline, Ratio(ratio, 1), "≤ 1.2×", ratio <= 1.2));
    }

    // (e') One small cache hit: the cost of a `kaizen cache restore` call itself --------------------------------------
    if (Measure("cache") || Measure("cache-hit"))
    {
        var small = await CacheBenchmark.SmallHitAsync(host, quick ? 20 : 50, notes);
        rows.Add(new Row(small.Measure, small.Kaizen, small.Baseline, Ratio(small.Ratio, 1), "not slower than before", null));
    }

    // (f) Container start ----------------------------------------------------------------------------------------------
    if (Measure("docker"))
    {
        if (await DockerBenchmark.RunAsync(host, quick ? 10 : 30, notes) is { } docker)
            rows.Add(new Row(docker.Measure, docker.Kaizen, docker.Baseline, Ratio(docker.ContainerMs, docker.ShellMs),
                "overhead ≤ 300 ms", docker.ContainerMs - docker.ShellMs <= 300));
    }

    // (f') Opening big logs in a browser: time to the first screen, memory per viewer ----------------------------------
    if (Measure("logs"))
    {
        foreach (var r in await LogViewBenchmark.RunAsync(host, logBytes, quick ? 250_000 : 1_000_000, notes))
            rows.Add(new Row(r.Measure, r.Kaizen, r.Baseline, r.Ratio, r.Target, r.Met));
    }

    // (g) Debug sessions -----------------------------------------------------------------------------------------------
    if (Measure("debug"))
    {
        // No target in DESIGN.md: the ratio to what a session does anyway (a job's set-up; a local PTY's echo) is the figure.
        foreach (var (measure, kaizen, baseline, kaizen50, baseline50) in await DebugBenchmark.RunAsync(host, quick ? 10 : 30, quick ? 200 : 1000, notes))
            rows.Add(new Row(measure, kaizen, baseline, Ratio(kaizen50, baseline50), "—", null));
    }
}

// Report -----------------------------------------------------------------------------------------------------------
var report = new StringBuilder();
report.AppendLine($"Kaizen benchmark{(quick ? " (--quick)" : "")}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: " +
                  $"{Environment.ProcessorCount} CPUs, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, " +
                  "SQLite, embedded runner with 8 slots.");
if (args.Where(a => a.StartsWith("--Kaizen:", StringComparison.Ordinal)).ToList() is { Count: > 0 } settings)
    report.AppendLine($"Portal settings: {string.Join(' ', settings)}.");
report.AppendLine();
report.AppendLine("| Measure | Kaizen | Baseline (same run) | Ratio | Target | Met |");
report.AppendLine("|---|---|---|---|---|---|");
foreach (var r in rows)
    report.AppendLine($"| {r.Measure} | {r.Kaizen} | {r.Baseline} | {r.Ratio} | {r.Target} | {r.Met switch { true => "yes", false => "no", null => "—" }} |");
report.AppendLine();
foreach (var n in notes) report.AppendLine(n);
Console.WriteLine(report.ToString());
if (outFile is not null) await File.WriteAllTextAsync(outFile, report.ToString());
return 0;

static string BubblewrapVersion()
{
    var bwrap = new[] { "/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap" }.FirstOrDefault(File.Exists);
    if (bwrap is null) return "bubblewrap is not installed";
    var info = new ProcessStartInfo(bwrap, "--version") { RedirectStandardOutput = true, UseShellExecute = false };
    using var p = Process.Start(info)!;
    var version = p.StandardOutput.ReadToEnd().Trim();
    p.WaitForExit();
    return $"{version} at {bwrap}";
}

/// <param name="Met">Null for a measure without a target.</param>
internal sealed record Row(string Measure, string Kaizen, string Baseline, string Ratio, string Target, bool? Met);

internal static class Shell
{
    /// <summary>Runs a process to its end (output discarded) and throws if it failed.</summary>
    public static async Task RunAsync(string file, IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var drain = p.StandardError.BaseStream.CopyToAsync(Stream.Null);
        await p.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        await drain;
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {p.ExitCode}.");
    }
}
