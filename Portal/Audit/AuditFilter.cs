using System.Globalization;
using System.Text.RegularExpressions;

namespace Kaizen.Portal.Audit;

/// <summary>
/// Which audit entries to show: by person (<see cref="Actor"/>), by project (its slug: the project itself and all
/// its parts, like its settings, servers, secrets and builds), by action (<c>secret.created</c>, or a subject alone,
/// <c>secret</c>, for all of its actions), and by time (<see cref="From"/> inclusive, <see cref="To"/> exclusive).
/// The same parameters name it in the audit page's address and in <c>GET /api/v1/audit</c>.
/// </summary>
public sealed partial record AuditFilter(string? Actor = null, string? Project = null, string? Action = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null)
{
    public static readonly AuditFilter None = new();

    /// <summary>The query parameters, as the page's address and the API call them.</summary>
    public static class Parameters
    {
        public const string Actor = "actor";
        public const string Project = "project";
        public const string Action = "action";
        public const string From = "from";
        public const string To = "to";
    }

    public bool IsEmpty => this == None;

    /// <summary>
    /// Reads a filter from the query parameters' text; an empty or missing parameter filters nothing. A value that
    /// cannot be one gives the parameter's name and what is expected instead, and no filter.
    /// </summary>
    /// <param name="from">A date (<c>2026-12-01</c>, from its start, UTC) or an ISO 8601 time.</param>
    /// <param name="to">A date (<c>2026-12-06</c>, to its end, UTC) or an ISO 8601 time (up to and including it).</param>
    public static AuditFilterParse Parse(string? actor, string? project, string? action, string? from, string? to)
    {
        actor = Blank(actor);
        project = Blank(project);
        action = Blank(action);
        if (actor is { Length: > 200 }) return AuditFilterParse.Bad(Parameters.Actor, "actor is a user name of at most 200 characters.");
        if (project is not null && !SlugPattern().IsMatch(project))
            return AuditFilterParse.Bad(Parameters.Project, $"project is a project's slug (lowercase letters, digits and dashes, like 'web-app'), not '{Shown(project)}'.");
        if (action is not null && (action.Length > 100 || !ActionPattern().IsMatch(action)))
            return AuditFilterParse.Bad(Parameters.Action,
                $"action is an action like 'secret.created', or a subject like 'secret' for all of its actions, not '{Shown(action)}'.");
        DateTimeOffset? start = null, end = null;
        if (Blank(from) is { } fromText)
        {
            if (ParseTime(fromText, endOfDay: false) is not { } parsed)
                return AuditFilterParse.Bad(Parameters.From, $"from is a date like 2026-12-01 or a time like 2026-12-01T09:30:00Z, not '{Shown(fromText)}'.");
            start = parsed;
        }
        if (Blank(to) is { } toText)
        {
            if (ParseTime(toText, endOfDay: true) is not { } parsed)
                return AuditFilterParse.Bad(Parameters.To, $"to is a date like 2026-12-06 or a time like 2026-12-06T18:00:00Z, not '{Shown(toText)}'.");
            end = parsed;
        }
        if (start is not null && end is not null && start >= end)
            return AuditFilterParse.Bad(Parameters.To, "to must be after from.");
        return new AuditFilterParse(new AuditFilter(actor, project, action?.ToLowerInvariant(), start, end), null, null);
    }

    /// <summary>The filter as query parameters (empty when it filters nothing), dates as dates where they are whole days.</summary>
    public IReadOnlyDictionary<string, object?> ToQuery() => new Dictionary<string, object?>
    {
        [Parameters.Actor] = Actor,
        [Parameters.Project] = Project,
        [Parameters.Action] = Action,
        [Parameters.From] = From is { } f ? FormatTime(f, endOfDay: false) : null,
        [Parameters.To] = To is { } t ? FormatTime(t, endOfDay: true) : null,
    };

    /// <summary>The first day of <see cref="From"/>, the last day of <see cref="To"/>, for date pickers.</summary>
    public DateTime? FromDate => From?.UtcDateTime.Date;

    public DateTime? ToDate => To is { } t ? t.AddTicks(-1).UtcDateTime.Date : null;

    internal object SqlParameters(long? before, int limit) => new
    {
        Actor,
        Project = Project is null ? null : $"project:{Project}",
        ProjectParts = Project is null ? null : $"project:{Project}/%",
        Action,
        ActionSubject = Action is null || Action.Contains('.') ? null : Action + ".%",
        From = From?.ToUnixTimeMilliseconds(),
        To = To?.ToUnixTimeMilliseconds(),
        Before = before,
        Limit = limit,
    };

    private static DateTimeOffset? ParseTime(string text, bool endOfDay)
    {
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return endOfDay ? start.AddDays(1) : start;
        }
        if (!text.Contains('T') || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)) return null;
        // "to" a time includes that time: entries are stored to the millisecond.
        return endOfDay ? time.AddMilliseconds(1) : time;
    }

    private static string FormatTime(DateTimeOffset time, bool endOfDay)
    {
        var utc = time.ToUniversalTime();
        if (utc.TimeOfDay == TimeSpan.Zero)
            return (endOfDay ? utc.AddDays(-1) : utc).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return (endOfDay ? utc.AddMilliseconds(-1) : utc).ToString("yyyy-MM-dd'T'HH:mm:ss.FFF'Z'", CultureInfo.InvariantCulture);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    // Echoed in an error message: short, and without control characters.
    private static string Shown(string text) => new string(text.Take(60).Where(c => !char.IsControl(c)).ToArray());

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,99}$")]
    private static partial Regex SlugPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]*(\\.[A-Za-z][A-Za-z0-9_-]*)?$")]
    private static partial Regex ActionPattern();
}

/// <summary>A filter read from query parameters, or the parameter that was wrong and why.</summary>
public sealed record AuditFilterParse(AuditFilter? Filter, string? Parameter, string? Error)
{
    public bool Ok => Filter is not null;

    public static AuditFilterParse Bad(string parameter, string error) => new(null, parameter, error);
}
