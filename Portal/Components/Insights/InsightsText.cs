using System.Globalization;
using Kaizen.Portal.Components.Shared;
using Kaizen.Portal.Insights;

namespace Kaizen.Portal.Components.Insights;

/// <summary>How the insights' figures read on the pages and in their charts.</summary>
public static class InsightsText
{
    /// <summary>The windows people pick from.</summary>
    public static IReadOnlyList<int> DayChoices { get; } = [7, 14, 30, 90, 365];

    public static string Percent(double? fraction) =>
        fraction is { } f ? (f * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %" : "—";

    public static string Duration(long? ms) => Format.Duration(ms);

    /// <summary>A chart value in minutes (charts share one unit; the tables say it exactly).</summary>
    public static double? Minutes(long? ms) => ms is { } v ? Math.Round(v / 60_000.0, 2) : null;

    public static string Day(DateOnly day) => day.ToString("MMM d", CultureInfo.InvariantCulture);

    /// <summary>"+12.5 %" slower, "−8 %" faster, or nothing to compare.</summary>
    public static string Change(Trend trend) => trend.ChangePercent switch
    {
        null => "—",
        0 => "0 %",
        > 0 and var c => "+" + c.ToString("0.#", CultureInfo.InvariantCulture) + " %",
        var c => "−" + Math.Abs(c.Value).ToString("0.#", CultureInfo.InvariantCulture) + " %",
    };

    /// <summary>Only what a label needs: long commands are cut.</summary>
    public static string Short(string text, int max = 60) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
