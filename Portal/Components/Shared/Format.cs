namespace Kaizen.Portal.Components.Shared;

/// <summary>How durations, times and sentences read everywhere in the portal.</summary>
public static class Format
{
    /// <summary>"850 ms", "12.3 s", "4 m 05 s", "1 h 02 m".</summary>
    public static string Duration(long? milliseconds)
    {
        if (milliseconds is not { } ms) return "—";
        if (ms < 1000) return $"{ms} ms";
        if (ms < 60_000) return $"{ms / 1000.0:0.0} s";
        var t = TimeSpan.FromMilliseconds(ms);
        return t.TotalHours < 1 ? $"{(int)t.TotalMinutes} m {t.Seconds:00} s" : $"{(int)t.TotalHours} h {t.Minutes:00} m";
    }

    public static string Duration(long? startMs, long? endMs) =>
        startMs is { } s && endMs is { } e ? Duration(Math.Max(0, e - s)) : "—";

    public static DateTimeOffset? Time(long? unixMs) => unixMs is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;

    public static string ShortSha(string sha) => sha.Length > 8 ? sha[..8] : sha;

    /// <summary><paramref name="text"/> with its first letter upper-case, to start a sentence or a label ("job test" → "Job test").</summary>
    public static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
