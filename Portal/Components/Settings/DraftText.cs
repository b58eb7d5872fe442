using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Components.Settings;

/// <summary>Variables as the editor shows them: one <c>NAME=value</c> a line.</summary>
public static class VariableLines
{
    public static string ToText(IReadOnlyDictionary<string, string>? env) =>
        env is null ? "" : string.Join("\n", env.Select(e => $"{e.Key}={e.Value}"));

    /// <summary>The variables of <paramref name="text"/>, and why a line does not read ("Line 2: ...").</summary>
    public static (Dictionary<string, string>? Env, List<string> Problems) Parse(string text)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? "" : line[..eq].Trim();
            if (eq < 0) problems.Add($"Line {i + 1}: write NAME=value.");
            else if (name.Length == 0) problems.Add($"Line {i + 1}: a variable needs a name before '='.");
            else if (!env.TryAdd(name, line[(eq + 1)..])) problems.Add($"Line {i + 1}: {name} is set twice.");
        }
        return (env.Count == 0 ? null : env, problems);
    }

    /// <summary>The variables to save: the loaded ones while the text is unchanged.</summary>
    public static IReadOnlyDictionary<string, string>? ToSettings(string text, IReadOnlyDictionary<string, string>? original) =>
        text == ToText(original) ? original : Parse(text).Env;
}

/// <summary>A matrix as the editor shows it: one axis a line, <c>NODE: 18, 20</c>.</summary>
public static class MatrixLines
{
    public static string ToText(IReadOnlyList<MatrixAxis>? matrix) =>
        matrix is null ? "" : string.Join("\n", matrix.Select(a => $"{a?.Name}: {string.Join(", ", a?.Values ?? [])}"));

    public static (List<MatrixAxis>? Matrix, List<string> Problems) Parse(string text)
    {
        var axes = new List<MatrixAxis>();
        var problems = new List<string>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                problems.Add($"Line {i + 1}: write NAME: value, value (e.g. NODE: 18, 20).");
                continue;
            }
            axes.Add(new MatrixAxis(line[..colon].Trim(),
                line[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        }
        return (axes.Count == 0 ? null : axes, problems);
    }

    public static IReadOnlyList<MatrixAxis>? ToSettings(string text, IReadOnlyList<MatrixAxis>? original) =>
        text == ToText(original) ? original : Parse(text).Matrix;
}

/// <summary>How typed text turns into settings values, keeping what was loaded while it is unchanged.</summary>
public static class DraftText
{
    public static string Join(IReadOnlyList<string>? items) => string.Join(", ", items ?? []);

    /// <summary>Comma-separated patterns (null when none); the loaded list while the text is unchanged.</summary>
    public static IReadOnlyList<string>? Patterns(string text, IReadOnlyList<string>? original)
    {
        if (text == Join(original)) return original;
        var items = text.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return items.Length == 0 ? null : items;
    }

    /// <summary>A time limit (null when empty); the loaded one while the text is unchanged.</summary>
    public static string? Limit(string text, string? original) =>
        text == (original ?? "") ? original : string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    /// <summary>A list of commands (null when none, unless it was loaded as an empty list).</summary>
    public static IReadOnlyList<string>? Commands(List<CommandDraft> commands, IReadOnlyList<string>? original) =>
        commands.Count == 0 ? original is { Count: 0 } ? original : null : commands.Select(c => c.Text).ToList();
}
