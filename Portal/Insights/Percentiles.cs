namespace Kaizen.Portal.Insights;

/// <summary>
/// The one percentile method of the insights: linear interpolation between the closest ranks (the method numpy and
/// spreadsheets use by default, "R-7"). For n sorted values and p in [0, 1] the position is h = (n − 1)·p and the result
/// x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]); so the median of 10 and 20 is 15 and the 90th percentile of 1..10 is 9.1.
/// Figures are milliseconds, rounded to the nearest whole one (halves away from zero).
/// </summary>
public static class Percentiles
{
    public const double Median = 0.5;
    public const double P90 = 0.9;

    /// <summary>The <paramref name="p"/> percentile (0..1) of <paramref name="values"/> in any order; null when empty.</summary>
    public static long? Of(IEnumerable<long> values, double p)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        return OfSorted(sorted, p);
    }

    /// <summary>As <see cref="Of"/> for values already sorted ascending.</summary>
    public static long? OfSorted(IReadOnlyList<long> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        ArgumentOutOfRangeException.ThrowIfLessThan(p, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(p, 1);
        if (sorted.Count == 0) return null;
        var h = (sorted.Count - 1) * p;
        var low = (int)Math.Floor(h);
        var high = Math.Min(low + 1, sorted.Count - 1);
        var value = sorted[low] + (h - low) * (sorted[high] - sorted[low]);
        return (long)Math.Round(value, MidpointRounding.AwayFromZero);
    }

    /// <summary>Median and 90th percentile of <paramref name="values"/>, both null when there are none.</summary>
    public static (long? Median, long? P90) MedianAndP90(IEnumerable<long> values)
    {
        var sorted = values.Order().ToArray();
        return (OfSorted(sorted, Median), OfSorted(sorted, P90));
    }
}
