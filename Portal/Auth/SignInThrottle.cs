namespace Kaizen.Portal.Auth;

/// <summary>
/// Slows down password guessing: after too many failed sign-ins for one user name, or from one client address, within
/// <see cref="Window"/>, sign-in is refused without checking the password until the window has passed. Kept in
/// memory: a restart forgets it, which only gives a guesser a few more tries.
/// </summary>
public sealed class SignInThrottle(TimeProvider time)
{
    public const int MaxFailuresPerName = 5;
    public const int MaxFailuresPerAddress = 20;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    // Beyond this many counters, expired ones are dropped, so a flood of made-up names cannot grow memory for long.
    private const int PruneAbove = 10_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Counter> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Counter> _addresses = new(StringComparer.Ordinal);

    /// <summary>How long until sign-in may be tried again, or null when it may be tried now.</summary>
    public TimeSpan? RetryAfter(string? name, string? address)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var wait = Max(Blocked(_names, name, MaxFailuresPerName, now), Blocked(_addresses, address, MaxFailuresPerAddress, now));
            return wait > TimeSpan.Zero ? wait : null;
        }
    }

    public void Failed(string? name, string? address)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            Count(_names, name, now);
            Count(_addresses, address, now);
        }
    }

    /// <summary>A correct password clears the name's failures (not the address's: one client may guess many names).</summary>
    public void Succeeded(string name)
    {
        lock (_gate) _names.Remove(name);
    }

    /// <summary>"N minutes" for a person, rounded up.</summary>
    public static string Describe(TimeSpan wait)
    {
        var minutes = Math.Max(1, (int)Math.Ceiling(wait.TotalMinutes));
        return minutes == 1 ? "1 minute" : $"{minutes} minutes";
    }

    private static TimeSpan Blocked(Dictionary<string, Counter> counters, string? key, int max, DateTimeOffset now) =>
        !string.IsNullOrEmpty(key) && counters.TryGetValue(key, out var c) && c.Failures >= max && now < c.Since + Window
            ? c.Since + Window - now
            : TimeSpan.Zero;

    private static void Count(Dictionary<string, Counter> counters, string? key, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(key)) return;
        if (counters.Count > PruneAbove)
            foreach (var expired in counters.Where(p => now >= p.Value.Since + Window).Select(p => p.Key).ToList())
                counters.Remove(expired);
        counters[key] = counters.TryGetValue(key, out var c) && now < c.Since + Window
            ? c with { Failures = c.Failures + 1 }
            : new Counter(now, 1);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private readonly record struct Counter(DateTimeOffset Since, int Failures);
}
