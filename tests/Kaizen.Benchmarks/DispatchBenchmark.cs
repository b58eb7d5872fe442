using System.Diagnostics;
using System.Globalization;
using Kaizen.Portal.Builds;
using static Kaizen.Benchmarks.Stats;

namespace Kaizen.Benchmarks;

/// <summary>
/// Dispatch (build requested → first command running on an idle runner) and per-command overhead, the two measures the
/// job sandbox can slow down; each runs once per host, so the report shows them with the sandbox on and off.
/// </summary>
internal static class DispatchBenchmark
{
    private const double DispatchTargetRatio = 5;

    // DESIGN.md: per-command overhead no worse than the ratio to plain bash before the sandbox (about 70×).
    private const double CommandsTargetRatio = 70;

    /// <summary>Builds of a one-command job, one at a time, each timed from the request to its command running.</summary>
    public static async Task<Row> DispatchAsync(BenchHost host, int builds, List<string> notes)
    {
        var mark = Path.Combine(host.Scratch, "dispatch.mark");
        // $EPOCHREALTIME is a bash builtin (microseconds, no process): the moment the first command really runs.
        var slug = await host.CreateProjectAsync($"Dispatch {host.Mode}",
            [new JobSettings("first", [$"printf '%s\\n' \"$EPOCHREALTIME\" > '{mark}'"])]);
        var samples = new List<DispatchSample>();
        var http = new List<double>();
        var spawn = new List<double>();
        Console.Error.WriteLine($"Dispatch ({host.Mode}): 10 warm-up builds, then {builds} measured, one at a time...");
        for (var i = 0; i < 10 + builds; i++)
        {
            var sample = await DispatchOnceAsync(host, slug, mark);
            // The baseline is sampled between builds rather than after them all: on a shared machine the load changes
            // within a run, and both sides of the ratio should see the same load.
            var get = await TimeOnceAsync(async () =>
            {
                using var r = await host.Api.GetAsync($"/api/v1/projects/{slug}/settings");
                r.EnsureSuccessStatusCode();
                await r.Content.ReadAsByteArrayAsync();
            });
            var bash = await TimeOnceAsync(() => Shell.RunAsync("bash", ["-c", "true"]));
            if (i < 10) continue;
            samples.Add(sample);
            http.Add(get);
            spawn.Add(bash);
        }

        var running = samples.Select(s => s.CommandRunningMs).ToList();
        var p50 = Median(running);
        var baseline = Median(http) + Median(spawn);
        notes.Add($"Dispatch ({host.Mode}), where the time goes (p50 / p95 of the time from the request to each point, ms):");
        notes.Add($"- POST /builds answered (branch resolved, build stored): {P(samples.Select(s => s.PostMs))}");
        notes.Add($"- job claimed by the runner (job startedAt, ms clock): {P(samples.Select(s => s.ClaimedMs))}");
        notes.Add($"- first command reported started (command startedAt, ms clock): {P(samples.Select(s => s.CommandEventMs))}");
        notes.Add($"- first command running (`$EPOCHREALTIME` written by the command): {P(running)}");
        var ratios = samples.Select((s, i) => s.CommandRunningMs / (http[i] + spawn[i]));
        notes.Add($"- each build against the baseline sampled right after it: median ratio {Median(ratios):0.0}×");
        return new Row(
            $"Dispatch, {host.Mode}: build requested → first command running, idle runner ({builds} builds, sequential)",
            $"p50 {p50:0.0} ms, p95 {Percentile(running, 0.95):0.0} ms",
            $"p50 {baseline:0.0} ms (HTTP GET {Median(http):0.0} + `bash -c true` {Median(spawn):0.0})",
            Ratio(p50, baseline), $"p50 ≤ {DispatchTargetRatio:0}× baseline", p50 <= DispatchTargetRatio * baseline);
    }

    /// <summary>One job of <paramref name="count"/> × <c>true</c>, against <c>bash script.sh</c> of the same lines.</summary>
    public static async Task<Row> CommandsAsync(BenchHost host, int count, int repeats, List<string> notes)
    {
        var slug = await host.CreateProjectAsync($"Commands {host.Mode}", [new JobSettings("many", Enumerable.Repeat("true", count).ToList())]);
        Console.Error.WriteLine($"Per-command overhead ({host.Mode}): a job of {count} commands, 1 warm-up + {repeats} measured...");
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
            perCommand.Add((last - first).TotalMilliseconds / count);
            perCommandJob.Add((job.FinishedAt!.Value - job.StartedAt!.Value).TotalMilliseconds / count);
        }

        var script = Path.Combine(host.Scratch, "many-true.sh");
        await File.WriteAllTextAsync(script, string.Concat(Enumerable.Repeat("true\n", count)));
        var bash = await TimeManyAsync(5, () => Shell.RunAsync("bash", [script]));
        var kaizen = Median(perCommand);
        var plain = Median(bash) / count;
        notes.Add($"Per-command ({host.Mode}): first command start → last command end / {count}; the whole job (claim to finish, " +
                  $"with checkout and upload) / {count} is {Median(perCommandJob):0.000} ms.");
        return new Row(
            $"Per-command overhead, {host.Mode} ({count} × `true` in one job)",
            $"{kaizen:0.000} ms/command → overhead {kaizen - plain:0.000} ms",
            $"{plain:0.000} ms/command (`bash script.sh`)",
            Ratio(kaizen, plain), $"≤ {CommandsTargetRatio:0}×", kaizen <= CommandsTargetRatio * plain);
    }

    private static async Task<DispatchSample> DispatchOnceAsync(BenchHost host, string slug, string mark)
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
            if (sw.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException($"Build {id}'s first command did not run within 60 s" +
                                           (host.Sandbox ? " (is the scratch folder shared with the sandbox?)." : "."));
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

    private sealed record DispatchSample(double PostMs, double ClaimedMs, double CommandEventMs, double CommandRunningMs);
}
