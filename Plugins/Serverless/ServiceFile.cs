namespace Kaizen.Plugins.Serverless;

/// <summary>
/// The few top-level facts of a serverless.yml the planner needs, read line by line: plugins may reference only the
/// Sdk (no YAML library), and a file we cannot make sense of must still give a plan, never an exception.
/// </summary>
internal sealed record ServiceFile(string? Name, string? Provider, string? Runtime, string? FrameworkVersion, IReadOnlyList<string> Plugins)
{
    public static ServiceFile Parse(string? text)
    {
        string? name = null, provider = null, runtime = null, frameworkVersion = null;
        var plugins = new List<string>();
        string? section = null;
        var childIndent = -1; // the indentation of the current section's own keys (deeper lines belong to them)
        foreach (var raw in (text ?? "").Split('\n'))
        {
            var line = StripComment(raw.TrimEnd('\r'));
            if (line.Trim().Length == 0) continue;
            var indented = char.IsWhiteSpace(line[0]);
            var trimmed = line.Trim();
            if (!indented)
            {
                var (key, value) = KeyValue(trimmed);
                section = key;
                childIndent = -1;
                switch (key)
                {
                    case "service": name = value; break;
                    case "frameworkVersion": frameworkVersion = value; break;
                    case "provider": provider = value; break; // `provider: aws` is allowed too
                    case "plugins" when value is not null && value.StartsWith('['):
                        plugins.AddRange(value.Trim('[', ']').Split(',').Select(Unquote).OfType<string>());
                        break;
                }
                continue;
            }

            var indent = line.Length - line.TrimStart().Length;
            if (childIndent < 0) childIndent = indent;
            if (indent != childIndent && section != "plugins") continue;
            switch (section)
            {
                // Old style: service:\n  name: foo
                case "service" when name is null && KeyValue(trimmed) is ("name", { } value):
                    name = value;
                    break;
                case "provider" when KeyValue(trimmed) is ("name", { } value) && provider is null:
                    provider = value;
                    break;
                case "provider" when KeyValue(trimmed) is ("runtime", { } value) && runtime is null:
                    runtime = value;
                    break;
                case "plugins" when trimmed.StartsWith("- ", StringComparison.Ordinal):
                    if (Unquote(trimmed[2..]) is { } plugin) plugins.Add(plugin);
                    break;
                case "plugins" when KeyValue(trimmed) is ("modules", _):
                    break; // `plugins: { localPath, modules: [...] }`: the list items follow
            }
        }
        return new ServiceFile(name, provider, runtime, frameworkVersion, plugins);
    }

    private static (string Key, string? Value) KeyValue(string line)
    {
        var colon = line.IndexOf(':');
        if (colon <= 0) return (line, null);
        return (line[..colon].Trim(), Unquote(line[(colon + 1)..]));
    }

    private static string? Unquote(string value)
    {
        var v = value.Trim().Trim('"', '\'').Trim();
        return v.Length == 0 ? null : v;
    }

    private static string StripComment(string line)
    {
        // A '#' starts a comment at the line's start or after a space (not inside "a#b"); quotes are rare enough in the
        // few keys read here to ignore.
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i];
        }
        return line;
    }
}
