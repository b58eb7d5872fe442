namespace Kaizen.Portal.Text;

/// <summary>
/// Names people read on pages and in logs (projects, jobs, runners): no control characters (NUL, BEL, newlines, escape
/// sequences) and no bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and the like), which make a name display as
/// something it is not ("gnp.exe" shown as "exe.png").
/// </summary>
public static class DisplayNames
{
    /// <summary>Why <paramref name="name"/> cannot be shown as <paramref name="what"/>'s name, or null when it can.</summary>
    /// <param name="lineBreaks">Text of several lines (a description): line feeds, carriage returns and tabs are allowed.</param>
    public static string? Problem(string? name, string what, bool lineBreaks = false)
    {
        ArgumentNullException.ThrowIfNull(what);
        if (string.IsNullOrEmpty(name)) return null;
        foreach (var c in name)
        {
            if (lineBreaks && c is '\n' or '\r' or '\t') continue;
            if (char.IsControl(c))
                return $"{what} cannot contain control characters (U+{(int)c:X4}).";
            if (IsBidiControl(c))
                return $"{what} cannot contain bidirectional text controls (U+{(int)c:X4}), which make text show in another order than it is written.";
        }

        return null;
    }

    private static bool IsBidiControl(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200E' or '\u200F' or '\u061C';
}
