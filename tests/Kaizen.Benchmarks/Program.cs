// Kaizen's speed against its performance targets (DESIGN.md), each next to a baseline measured in the same run.
//
//   dotnet run -c Release --project tests/Kaizen.Benchmarks                      full run (a few minutes)
//   dotnet run -c Release --project tests/Kaizen.Benchmarks -- --quick           fewer samples, smaller log
//   dotnet run -c Release --project tests/Kaizen.Benchmarks -- --out bench.md    also write the table to a file
//   dotnet run -c Release --project tests/Kaizen.Benchmarks -- --only cache      one measure (dispatch, commands,
//                                                                                 fan-out, log, cache, docker, debug)
//
// The real portal runs in this process with its embedded runner (8 slots) and a SQLite database in a temp folder;
// builds come from a real git repository made for the run. Runner and portal share this machine's clock.

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Kaizen.Benchmarks;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;

var quick = args.Contains("--quick");
var outIndex = Array.IndexOf(args, "--out");
var outFile = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : null;
var onlyIndex = Array.IndexOf(args, "--only");
var only = onlyIndex >= 0 && onlyIndex + 1 < args.Length ? args[onlyIndex + 1] : null;
bool Measure(string name) => only is null || only == name;
if (args.Any(a => a is "-h" or "--help"))
{
    Console.WriteLine("Usage: dotnet run -c Release --project tests/Kaizen.Benchmarks [-- [--quick] [--out file.md] [--only dispatch|commands|fan-out|log|cache|docker|debug]]");
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

Console.Error.WriteLine($"Starting the portal with an embedded runner of {Slots} slots...");
await using var host = await BenchHost.StartAsync(Slots);
var rows = new List<Row>();
var notes = new List<string>();

// (a) Dispatch latency ---------------------------------------------------------------------------------------------
if (Measure("dispatch"))
{
    var mark = Path.Combine(host.Scratch, "dispatch.mark");
    // $EPOCHREALTIME is a bash builtin (microseconds, no process): the moment the first command really runs.
    var slug = await host.CreateProjectAsync("Dispatch", [new JobSettings("first", [$"printf '%s\\n' \"$EPOCHREALTIME\" > '{mark}'"])]);
    var samples = new List<DispatchSample>();
    Console.Error.WriteLine($"Dispatch: 10 warm-up builds, then {dispatchBuilds} measured, one at a time...");
    for (var i = 0; i < 10 + dispatchBuilds; i++)
    {
        var sample = await DispatchOnceAsync(host, slug, mark);
        if (i >= 10) samples.Add(sample);
    }

    var slugForGet = slug;
    var http = await TimeManyAsync(dispatchBuilds, async () =>
    {
        using var r = await host.Api.GetAsync($"/api/v1/projects/{slugForGet}/settings");
        r.EnsureSuccessStatusCode();
        await r.Content.ReadAsByteArrayAsync();
    });
    var spawn = await TimeManyAsync(dispatchBuilds, () => Shell.RunAsync("bash", ["-c", "true"]));
    var running = samples.Select(s => s.CommandRunningMs).ToList();
    var p50 = Percentile(running, 0.5);
    var baseline = Percentile(http, 0.5) + Percentile(spawn, 0.5);
    rows.Add(new Row(
        $"Dispatch: build requested → first command running, idle runner ({dispatchBuilds} builds, sequential)",
        $"p50 {p50:0.0} ms, p99 {Percentile(running, 0.99):0.0} ms",
        $"p50 {baseline:0.0} ms (HTTP GET {Percentile(http, 0.5):0.0} + `bash -c true` {Percentile(spawn, 0.5):0.0})",
        Ratio(p50, baseline), "p50 ≤ 20 ms", p50 <= 20));
    notes.Add("Dispatch, where the time goes (p50 / p99 of the time from the request to each point, ms):");
    notes.Add($"- POST /builds answered (fetch of the repository, build stored): {P(samples.Select(s => s.PostMs))}");
    notes.Add($"- job claimed by the runner (job startedAt, ms clock): {P(samples.Select(s => s.ClaimedMs))}");
    notes.Add($"- first command reported started (command startedAt, ms clock): {P(samples.Select(s => s.CommandEventMs))}");
    notes.Add($"- first command running (`$EPOCHREALTIME` written by the command): {P(running)}");
}

// (b) Per-command overhead -----------------------------------------------------------------------------------------
if (Measure("commands"))
{
    var slug = await host.CreateProjectAsync("Commands", [new JobSettings("many", Enumerable.Repeat("true", CommandCount).ToList())]);
    Console.Error.WriteLine($"Per-command overhead: a job of {CommandCount} commands, 1 warm-up + {repeats} measured...");
    var perCommand = new List<double>();
    var perCommandJob = new List<double>();
    for (var i = 0; i < 1 + repeats; i++)
    {
        var build = await host.WaitFinishedAsync(await host.StartBuildAsync(slug), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        var job = build.Jobs.Single();
        var commands = job.Commands.OrderBy(c => c.Index).ToList();
        var first = commands[0].StartedAt!.Value;
        var last = commands[^1].StartedAt!.Value.AddMilliseconds(commands[^1].DurationMs ?? 0);
        if (i == 0) continue;
        perCommand.Add((last - first).TotalMilliseconds / CommandCount);
        perCommandJob.Add((job.FinishedAt!.Value - job.StartedAt!.Value).TotalMilliseconds / CommandCount);
    }

    var script = Path.Combine(host.Scratch, "many-true.sh");
    await File.WriteAllTextAsync(script, string.Concat(Enumerable.Repeat("true\n", CommandCount)));
    await Shell.RunAsync("bash", [script]);
    var bash = await TimeManyAsync(5, () => Shell.RunAsync("bash", [script]));
    var kaizen = Median(perCommand);
    var plain = Median(bash) / CommandCount;
    var overhead = kaizen - plain;
    rows.Add(new Row(
        $"Per-command overhead ({CommandCount} × `true` in one job)",
        $"{kaizen:0.000} ms/command → overhead {overhead:0.000} ms",
        $"{plain:0.000} ms/command (`bash script.sh`)",
        Ratio(kaizen, plain), "overhead ≤ 1 ms", overhead <= 1));
    notes.Add($"Per-command: first command start → last command end / {CommandCount}; the whole job (claim to finish, " +
              $"with checkout and upload) / {CommandCount} is {Median(perCommandJob):0.000} ms.");
}

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

// (f) Container start ----------------------------------------------------------------------------------------------
if (Measure("docker"))
{
    if (await DockerBenchmark.RunAsync(host, quick ? 10 : 30, notes) is { } docker)
        rows.Add(new Row(docker.Measure, docker.Kaizen, docker.Baseline, Ratio(docker.ContainerMs, docker.ShellMs),
            "overhead ≤ 300 ms", docker.ContainerMs - docker.ShellMs <= 300));
}

// (g) Debug sessions -----------------------------------------------------------------------------------------------
if (Measure("debug"))
{
    // No target in DESIGN.md: the ratio to what a session does anyway (a job's set-up; a local PTY's echo) is the figure.
    foreach (var (measure, kaizen, baseline, kaizen50, baseline50) in await DebugBenchmark.RunAsync(host, quick ? 10 : 30, quick ? 200 : 1000, notes))
        rows.Add(new Row(measure, kaizen, baseline, Ratio(kaizen50, baseline50), "—", null));
}

// Report -----------------------------------------------------------------------------------------------------------
var report = new StringBuilder();
report.AppendLine($"Kaizen benchmark{(quick ? " (--quick)" : "")}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: " +
                  $"{Environment.ProcessorCount} CPUs, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, " +
                  "SQLite, embedded runner with 8 slots.");
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

static async Task<DispatchSample> DispatchOnceAsync(BenchHost host, string slug, string mark)
{
    File.Delete(mark);
    var requested = DateTimeOffset.UtcNow;
    var sw = Stopwatch.StartNew();
    var id = await host.StartBuildAsync(slug);
    var postMs = sw.Elapsed.TotalMilliseconds;
    // Watch the mark file (a cheap stat) rather than polling the API, which would compete with the dispatch itself.
    double? ranAt = null;
    while (ranAt is null)
    {
        if (sw.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"Build {id}'s first command did not run within 60 s.");
        if (File.Exists(mark) && double.TryParse(File.ReadAllText(mark).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var epoch))
            ranAt = epoch;
        else
            await Task.Delay(1);
    }
    var build = await host.WaitFinishedAsync(id, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1));
    var job = build.Jobs.Single();
    var requestedUs = (requested.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10.0;
    return new DispatchSample(
        postMs,
        (job.StartedAt!.Value - requested).TotalMilliseconds,
        (job.Commands[0].StartedAt!.Value - requested).TotalMilliseconds,
        (ranAt.Value * 1e6 - requestedUs) / 1000);
}

static async Task<List<double>> TimeManyAsync(int count, Func<Task> action)
{
    await action();
    var times = new List<double>(count);
    for (var i = 0; i < count; i++)
    {
        var sw = Stopwatch.StartNew();
        await action();
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    return times;
}

static double Percentile(IEnumerable<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}

static double Median(IEnumerable<double> values) => Percentile(values, 0.5);

static string P(IEnumerable<double> values)
{
    var list = values.ToList();
    return $"{Percentile(list, 0.5):0.0} / {Percentile(list, 0.99):0.0}";
}

static string Ratio(double kaizen, double baseline) =>
    baseline <= 0 ? "n/a" : kaizen / baseline is var r && r >= 1 ? $"{r:0.0}×" : $"{r:0.000}×";

/// <param name="Met">Null for a measure without a target.</param>
internal sealed record Row(string Measure, string Kaizen, string Baseline, string Ratio, string Target, bool? Met);

internal sealed record DispatchSample(double PostMs, double ClaimedMs, double CommandEventMs, double CommandRunningMs);

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
