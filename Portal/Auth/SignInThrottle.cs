namespace Kaizen.Portal.Auth;

/// <summary>
/// Slows down password guessing: after too many failed sign-ins for one user name from one client address, or from one
/// client address for any names, within <see cref="Window"/>, sign-in from that address is refused without checking
/// the password until the window has passed. Nothing is counted per name alone: then anyone could lock a user (the
/// admin) out by failing on purpose, while the user, signing in from their own address, is never held up by others.
/// The address is the connection's, or the one a configured known proxy forwards (see <c>Kaizen:ForwardedHeaders</c>).
/// Kept in memory: a restart forgets it, which only gives a guesser a few more tries.
/// </summary>
public sealed class SignInThrottle(TimeProvider time)
{
    public const int MaxFailuresPerNameAndAddress = 5;
    public const int MaxFailuresPerAddress = 20;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    // Beyond this many counters, expired ones are dropped, so a flood of made-up names cannot grow memory for long.
    private const int PruneAbove = 10_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Counter> _namesAtAddresses = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Counter> _addresses = new(StringComparer.Ordinal);

    /// <summary>How long until <paramref name="name"/> may be tried again from <paramref name="address"/>, or null when it may be tried now.</summary>
    public TimeSpan? RetryAfter(string? name, string? address)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var wait = Max(Blocked(_namesAtAddresses, Key(name, address), MaxFailuresPerNameAndAddress, now),
                Blocked(_addresses, address ?? "", MaxFailuresPerAddress, now));
            return wait > TimeSpan.Zero ? wait : null;
        }
    }

    public void Failed(string? name, string? address)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            Count(_namesAtAddresses, Key(name, address), now);
            Count(_addresses, address ?? "", now);
        }
    }

    /// <summary>A correct password clears the name's failures from that address (not the address's: one client may guess many names).</summary>
    public void Succeeded(string name, string? address)
    {
        lock (_gate) _namesAtAddresses.Remove(Key(name, address));
    }

    /// <summary>"N minutes" for a person, rounded up.</summary>
    public static string Describe(TimeSpan wait)
    {
        var minutes = Math.Max(1, (int)Math.Ceiling(wait.TotalMinutes));
        return minutes == 1 ? "1 minute" : $"{minutes} minutes";
    }

    // A user name cannot hold a newline, so the key cannot be forged from another pair.
    private static string Key(string? name, string? address) =>
        string.IsNullOrEmpty(name) ? "" : $"{name}\n{address}";

    private static TimeSpan Blocked(Dictionary<string, Counter> counters, string key, int max, DateTimeOffset now) =>
        key.Length > 0 && counters.TryGetValue(key, out var c) && c.Failures >= max && now < c.Since + Window
            ? c.Since + Window - now
            : TimeSpan.Zero;

    private static void Count(Dictionary<string, Counter> counters, string key, DateTimeOffset now)
    {
        if (key.Length == 0) return;
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
