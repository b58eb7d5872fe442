using System.Text;
using System.Text.RegularExpressions;

namespace Kaizen.Plugins.Python;

/// <summary>What the planner needs from a tox configuration: the default environments and how each one runs.</summary>
internal sealed partial class ToxConfig
{
    private readonly IniFile _ini;

    private ToxConfig(IniFile ini)
    {
        _ini = ini;
        EnvList = ParseEnvList(ResolveReferences(ini.Get("tox", "envlist") ?? ini.Get("tox", "env_list") ?? ""));
    }

    /// <summary>The environments <c>tox</c> runs without <c>-e</c>, braces expanded, in order, without duplicates.</summary>
    public IReadOnlyList<string> EnvList { get; }

    /// <summary>Environments with their own <c>[testenv:NAME]</c> section (e.g. <c>flake8</c>, <c>docs</c>).</summary>
    public IEnumerable<string> DeclaredEnvs =>
        _ini.Sections.Where(s => s.StartsWith("testenv:", StringComparison.Ordinal)).Select(s => s["testenv:".Length..].Trim());

    public static ToxConfig Parse(string text) => new(IniFile.Parse(text));

    /// <summary>The tox section embedded in pyproject.toml as <c>legacy_tox_ini = """..."""</c>, if any.</summary>
    public static string? LegacyIniOf(string pyproject)
    {
        var match = LegacyToxIni().Match(pyproject);
        return match.Success ? match.Groups["ini"].Value : null;
    }

    /// <summary>The commands an environment runs (its own section's, else <c>[testenv]</c>'s).</summary>
    public string Commands(string env) => _ini.Get($"testenv:{env}", "commands") ?? _ini.Get("testenv", "commands") ?? "";

    /// <summary>
    /// True when the environment runs pytest and passes plain <c>{posargs}</c> to it, so <c>tox -e ENV -- --junitxml=F</c>
    /// writes a report without changing what runs (<c>{posargs:tests}</c> would lose its default, so it does not count).
    /// </summary>
    public bool PassesPosargsToPytest(string env)
    {
        var commands = Commands(env);
        return commands.Contains("pytest", StringComparison.Ordinal) && commands.Contains("{posargs}", StringComparison.Ordinal);
    }

    /// <summary>Splits a tox envlist at top-level commas and line breaks and expands <c>py{27,36}-x{a,b}</c> factors.</summary>
    internal static IReadOnlyList<string> ParseEnvList(string value)
    {
        var found = new List<string>();
        var token = new StringBuilder();
        var depth = 0;
        void Flush()
        {
            var text = token.ToString().Trim();
            token.Clear();
            if (text.Length == 0 || text.StartsWith('#'))
            {
                return;
            }

            foreach (var env in Expand(text))
            {
                var name = env.Trim();
                if (name.Length > 0 && !found.Contains(name))
                {
                    found.Add(name);
                }
            }
        }

        foreach (var c in value)
        {
            switch (c)
            {
                case '{': depth++; token.Append(c); break;
                case '}': depth = Math.Max(0, depth - 1); token.Append(c); break;
                case ',' or '\n' when depth == 0: Flush(); break;
                default: token.Append(c); break;
            }
        }

        Flush();
        return found;
    }

    /// <summary>Expands the first brace group and recurses: <c>py{27,36}-d{1,2}</c> → four names; <c>py3{8-10}</c> → three.</summary>
    private static IEnumerable<string> Expand(string text)
    {
        var open = text.IndexOf('{');
        if (open < 0)
        {
            yield return text;
            yield break;
        }

        var close = MatchingBrace(text, open);
        if (close < 0)
        {
            // An unbalanced brace is not a name tox could run; drop the brace rather than the environment.
            yield return text.Replace("{", "", StringComparison.Ordinal);
            yield break;
        }

        var head = text[..open];
        var tail = text[(close + 1)..];
        foreach (var alternative in Alternatives(text[(open + 1)..close]))
        {
            foreach (var rest in Expand(alternative + tail))
            {
                yield return head + rest;
            }
        }
    }

    private static int MatchingBrace(string text, int open)
    {
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            if (text[i] == '{') depth++;
            else if (text[i] == '}' && --depth == 0) return i;
        }

        return -1;
    }

    private static IEnumerable<string> Alternatives(string group)
    {
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < group.Length; i++)
        {
            if (group[i] == '{') depth++;
            else if (group[i] == '}') depth--;
            else if (group[i] == ',' && depth == 0)
            {
                parts.Add(group[start..i]);
                start = i + 1;
            }
        }

        parts.Add(group[start..]);
        foreach (var part in parts.Select(p => p.Trim()))
        {
            // tox 4 ranges: {8-10} → 8, 9, 10 (small and ascending only; anything else is taken literally).
            var range = NumericRange().Match(part);
            if (range.Success && int.TryParse(range.Groups[1].Value, out var from) && int.TryParse(range.Groups[2].Value, out var to)
                && from <= to && to - from < 100)
            {
                for (var n = from; n <= to; n++) yield return n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                yield return part;
            }
        }
    }

    /// <summary>Replaces <c>{[section]key}</c> references (one level, as envlists use them) with the value they name.</summary>
    private string ResolveReferences(string value) =>
        Reference().Replace(value, m => _ini.Get(m.Groups["section"].Value, m.Groups["key"].Value) ?? "");

    [GeneratedRegex(@"\{\[(?<section>[^\]]+)\](?<key>[^}]+)\}")]
    private static partial Regex Reference();

    [GeneratedRegex(@"^(\d+)-(\d+)$")]
    private static partial Regex NumericRange();

    [GeneratedRegex("legacy_tox_ini\\s*=\\s*(?:\"\"\"|''')(?<ini>.*?)(?:\"\"\"|''')", RegexOptions.Singleline)]
    private static partial Regex LegacyToxIni();
}
