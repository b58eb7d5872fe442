namespace Kaizen.Plugins.Python;

/// <summary>
/// A forgiving reader for the INI dialect of tox.ini and setup.cfg (configparser's): sections, <c>key = value</c> or
/// <c>key: value</c>, indented continuation lines, <c>#</c>/<c>;</c> comments. Lines it cannot make sense of are
/// skipped rather than thrown on, because a half-broken config should still give a useful suggestion.
/// </summary>
internal sealed class IniFile
{
    private readonly Dictionary<string, Dictionary<string, string>> _sections;

    private IniFile(Dictionary<string, Dictionary<string, string>> sections) => _sections = sections;

    public IEnumerable<string> Sections => _sections.Keys;

    public bool HasSection(string name) => _sections.ContainsKey(name);

    public string? Get(string section, string key) =>
        _sections.TryGetValue(section, out var values) && values.TryGetValue(key, out var value) ? value : null;

    public static IniFile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sections = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        Dictionary<string, string>? current = null;
        string? key = null;
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            var trimmed = raw.Trim();
            if (trimmed.Length == 0)
            {
                continue;
            }

            if (trimmed[0] is '#' or ';')
            {
                continue;
            }

            if (char.IsWhiteSpace(raw[0]) && current is not null && key is not null)
            {
                current[key] = current[key].Length == 0 ? StripComment(trimmed) : current[key] + "\n" + StripComment(trimmed);
                continue;
            }

            if (trimmed[0] == '[' && trimmed.IndexOf(']') is > 1 and var end)
            {
                var name = trimmed[1..end].Trim();
                if (!sections.TryGetValue(name, out current))
                {
                    sections[name] = current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                }

                key = null;
                continue;
            }

            var separator = trimmed.IndexOfAny(['=', ':']);
            if (current is null || separator <= 0)
            {
                key = null;
                continue;
            }

            key = trimmed[..separator].Trim();
            current[key] = StripComment(trimmed[(separator + 1)..].Trim());
        }

        return new IniFile(sections);
    }

    // configparser only treats " #" / " ;" after a value as a comment when inline comments are on; tox does strip them.
    private static string StripComment(string value)
    {
        for (var i = 1; i < value.Length; i++)
        {
            if (value[i] is '#' && char.IsWhiteSpace(value[i - 1]))
            {
                return value[..i].TrimEnd();
            }
        }

        return value;
    }
}
