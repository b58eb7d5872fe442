using System.Diagnostics;

namespace Kaizen.Benchmarks;

/// <summary>Percentiles and timings every measure reports the same way.</summary>
internal static class Stats
{
    /// <summary>The nearest-rank percentile (p in 0..1) of <paramref name="values"/>.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    public static double Median(IEnumerable<double> values) => Percentile(values, 0.5);

    /// <summary>"p50 / p95" in milliseconds, for notes.</summary>
    public static string P(IEnumerable<double> values)
    {
        var list = values.ToList();
        return $"{Percentile(list, 0.5):0.0} / {Percentile(list, 0.95):0.0}";
    }

    public static string Ratio(double kaizen, double baseline) =>
        baseline <= 0 ? "n/a" : kaizen / baseline is var r && r >= 1 ? $"{r:0.0}×" : $"{r:0.000}×";

    /// <summary>How long <paramref name="action"/> takes once, in ms.</summary>
    public static async Task<double> TimeOnceAsync(Func<Task> action)
    {
        var sw = Stopwatch.StartNew();
        await action();
        return sw.Elapsed.TotalMilliseconds;
    }

    /// <summary>Runs <paramref name="action"/> once to warm up, then <paramref name="count"/> times; each time in ms.</summary>
    public static async Task<List<double>> TimeManyAsync(int count, Func<Task> action)
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
}
