using System.Diagnostics;
using Kaizen.Portal.Builds;

namespace Kaizen.Benchmarks;

/// <summary>
/// Cache restore: a tree of many files of mixed sizes, partly compressible, stored once with <c>kaizen cache store</c>,
/// then restored by jobs with <c>kaizen cache restore</c> (portal → curl → zstd → tar) into an empty folder, against
/// <c>zstd -d | tar -x</c> of the same tree's archive from a local file. Both read warm files (page cache), both
/// extract to the same disk; the restore's time is its command's duration, so job start and checkout do not count.
/// </summary>
internal static class CacheBenchmark
{
    /// <summary>Restores from the portal (the runner's copy removed first) and from the runner's copy, each against the
    /// local <c>zstd -d | tar -x</c>, in rounds so that both see the same load.</summary>
    public static async Task<IReadOnlyList<(string Measure, string Kaizen, string Baseline, double Ratio)>> RunAsync(
        BenchHost host, long treeBytes, int rounds, List<string> notes)
    {
        var bench = Path.Combine(host.Scratch, "cache");
        var tree = Path.Combine(bench, "tree");
        var (files, bytes) = MakeTree(tree, treeBytes);
        Console.Error.WriteLine($"Cache restore: a tree of {files} files, {bytes / 1e6:0} MB; stored once, then 1 warm-up + {rounds} rounds...");

        var restoreInto = Path.Combine(bench, "restored");
        List<JobSettings> Job(bool dropCopy) => [new JobSettings("restore", [
            $"cd '{bench}' && kaizen cache store --key bench-tree -- tree",
            $"rm -rf '{restoreInto}' && mkdir -p '{restoreInto}'" + (dropCopy ? " && rm -f \"$KAIZEN_CACHE_DIR\"/*.tar.zst" : ""),
            $"cd '{restoreInto}' && kaizen cache restore --key bench-tree -- tree",
            // Every file back, with its size (what was restored is the tree, not some other entry).
            $"sum() {{ (cd \"$1\" && find . -type f -printf '%p %s\\n' | sort | sha256sum); }}; test \"$(sum '{restoreInto}/tree')\" = \"$(sum '{tree}')\"",
        ])];
        var fromPortal = await host.CreateProjectAsync("Cache restore from the portal", Job(dropCopy: true));
        var fromCopy = await host.CreateProjectAsync("Cache restore from the runner's copy", Job(dropCopy: false));
        var archive = Path.Combine(bench, "local.tar.zst");
        await Bash($"cd '{bench}' && tar -cf - tree | zstd -q -T0 -c > '{archive}'");

        var portal = new List<double>();
        var copy = new List<double>();
        var baseline = new List<double>();
        var logs = new List<string>();
        for (var i = 0; i < 1 + rounds; i++)
        {
            var (p, pLog) = await RestoreAsync(host, fromPortal);
            var (c, cLog) = await RestoreAsync(host, fromCopy);
            await Bash($"rm -rf '{restoreInto}' && mkdir -p '{restoreInto}'");
            var sw = Stopwatch.StartNew();
            await Bash($"cd '{restoreInto}' && zstd -q -d -c '{archive}' | tar -xf -");
            var b = sw.Elapsed.TotalMilliseconds;
            if (i == 0)
            {
                logs.AddRange([pLog, cLog]);
                continue;
            }
            portal.Add(p);
            copy.Add(c);
            baseline.Add(b);
        }
        Directory.Delete(bench, recursive: true);

        var line = (string log, string start) => log.Split('\n').FirstOrDefault(l => l.StartsWith(start, StringComparison.Ordinal))?.Trim() ?? "";
        notes.Add($"Cache restore: {files} files, {bytes / 1e6:0} MB (by bytes 30 % small text files, 40 % half text and half random, " +
                  $"30 % random); Kaizen's time is the restore command's duration, median of {rounds} rounds (each: from the portal, " +
                  $"from the runner's copy, then the baseline). The logs said `{line(logs[0], "cache: stored")}`, " +
                  $"`{line(logs[0], "cache: restored")}` and `{line(logs[1], "cache: restored")}`.");
        var b0 = Median(baseline);
        var baselineText = $"{b0 / 1000:0.00} s (`zstd -d \\| tar -x` of a local archive)";
        var mb = treeBytes >> 20;
        return
        [
            ($"Cache restore of a {mb} MB tree from the portal (runner without a copy: HTTP → zstd → tar)", Speed(Median(portal), bytes), baselineText, Median(portal) / b0),
            ($"Cache restore of a {mb} MB tree, again on the same runner (its copy; the portal resolves the key)", Speed(Median(copy), bytes), baselineText, Median(copy) / b0),
        ];
    }

    /// <summary>
    /// The cost of one <c>kaizen cache restore</c> of a small hit (20 files of 5 KB, this runner's copy), the case every
    /// build meets on every command list that restores a cache: a job stores the tree, then restores it
    /// <paramref name="calls"/> times; against <c>zstd -d | tar -x</c> of the same archive from a local file.
    /// </summary>
    public static async Task<(string Measure, string Kaizen, string Baseline, double Ratio)> SmallHitAsync(BenchHost host, int calls, List<string> notes)
    {
        var bench = Path.Combine(host.Scratch, "cache-small");
        Directory.CreateDirectory(bench);
        List<string> commands = ["mkdir -p small && for i in $(seq 1 20); do head -c 5000 /dev/urandom > small/f$i; done && kaizen cache store --key small-tree -- small"];
        commands.AddRange(Enumerable.Repeat("rm -rf small && kaizen cache restore --key small-tree -- small && test -f small/f20", calls + 1));
        var slug = await host.CreateProjectAsync("Cache restore of a small hit", [new JobSettings("restore", commands)]);
        Console.Error.WriteLine($"Cache restore of a small hit: {calls} restores in one job...");
        var build = await host.WaitFinishedAsync(await host.StartBuildAsync(slug), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        var job = build.Jobs.Single();
        var log = await host.Api.GetStringAsync($"/api/v1/jobs/{job.Id}/log");
        if (build.Status != Status.Passed) throw new InvalidOperationException($"The small cache build {build.Id} {build.Status}:\n{log}");

        // The first restore fetches from the portal; the others are hits on this runner's copy.
        var kaizen = job.Commands.OrderBy(c => c.Index).Skip(2).Select(c => (double)(c.DurationMs ?? 0)).ToList();
        var tree = Path.Combine(bench, "small");
        Directory.CreateDirectory(tree);
        for (var i = 1; i <= 20; i++) File.WriteAllBytes(Path.Combine(tree, $"f{i}"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(5000));
        await Bash($"cd '{bench}' && tar -cf - small | zstd -q -T0 -c > small.tar.zst");
        var baseline = new List<double>();
        for (var i = 0; i < calls; i++)
        {
            var sw = Stopwatch.StartNew();
            await Bash($"cd '{bench}' && rm -rf small && zstd -q -d -c small.tar.zst | tar -xf -");
            baseline.Add(sw.Elapsed.TotalMilliseconds);
        }
        Directory.Delete(bench, recursive: true);
        var restored = log.Split('\n').LastOrDefault(l => l.StartsWith("cache: restored", StringComparison.Ordinal))?.Trim() ?? "";
        notes.Add($"Cache restore of a small hit: median of {calls} restores of 20 files × 5 KB in one job (command durations); the log said `{restored}`. " +
                  "Baseline: `bash -c 'rm -rf small && zstd -d | tar -x'` of a local archive, started from the benchmark.");
        var k = Median(kaizen);
        var b = Median(baseline);
        return ("Cache restore of a small hit (20 files, this runner's copy), per call", $"{k:0} ms", $"{b:0.0} ms (`zstd -d \\| tar -x` of a local archive)", k / b);
    }

    private static string Speed(double ms, long bytes) => $"{ms / 1000:0.00} s ({bytes / 1e6 / (ms / 1000):0} MB/s)";

    private static async Task<(double Ms, string Log)> RestoreAsync(BenchHost host, string slug)
    {
        var build = await host.WaitFinishedAsync(await host.StartBuildAsync(slug), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(15));
        var job = build.Jobs.Single();
        var log = await host.Api.GetStringAsync($"/api/v1/jobs/{job.Id}/log");
        if (build.Status != Status.Passed) throw new InvalidOperationException($"The cache restore build {build.Id} {build.Status}:\n{log}");
        return (job.Commands.OrderBy(c => c.Index).ElementAt(2).DurationMs ?? 0, log);
    }

    /// <summary>Deterministic, like a dependency folder: by bytes, 30 % small text files (1–32 KB, very compressible), 40 %
    /// medium files half text and half random (32 KB–1 MB), 30 % large random files (1–8 MB, incompressible).</summary>
    private static (int Files, long Bytes) MakeTree(string root, long total)
    {
        var random = new Random(20261127);
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 2000).Select(i =>
            $"export function f{i}(a, b) {{ return a + b * {i}; }} // node_modules/some-package/lib/{i % 37}.js\n")));
        var buffer = new byte[8 << 20];
        long written = 0;
        var files = 0;
        foreach (var (kind, share, min, max) in new[] { ("text", 0.3, 1 << 10, 32 << 10), ("half", 0.4, 32 << 10, 1 << 20), ("random", 0.3, 1 << 20, 8 << 20) })
        {
            var budget = (long)(total * share);
            for (long own = 0; own < budget;)
            {
                var size = (int)Math.Min(random.Next(min, max), budget - own);
                var span = buffer.AsSpan(0, size);
                var textBytes = kind switch { "text" => size, "half" => size / 2, _ => 0 };
                random.NextBytes(span[textBytes..]);
                for (var i = 0; i < textBytes; i += text.Length) text.AsSpan(0, Math.Min(text.Length, textBytes - i)).CopyTo(span[i..]);
                var dir = Path.Combine(root, $"pkg-{files % 397:000}", kind);
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(Path.Combine(dir, $"f{files}.bin"), (ReadOnlySpan<byte>)span);
                own += size;
                written += size;
                files++;
            }
        }
        return (files, written);
    }

    private static Task Bash(string command) => Shell.RunAsync("bash", ["-c", "set -o pipefail; " + command]);

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[(sorted.Count - 1) / 2];
    }
}
