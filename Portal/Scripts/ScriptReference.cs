using System.Globalization;
using System.Text.RegularExpressions;

namespace Kaizen.Portal.Scripts;

/// <summary>
/// A command line <c>run-script NAME[@VERSION] [ARGS...]</c>. <see cref="Arguments"/> is the rest of the line as
/// written: the job's shell expands it (quotes, <c>$VARS</c>), exactly as if it followed any other command.
/// </summary>
public sealed partial record ScriptReference(string Name, int? Version, string Arguments)
{
    public const string Keyword = "run-script";

    /// <summary>The one name a script cannot have.</summary>
    public const string ReservedName = "new";

    /// <summary>The longest script name.</summary>
    public const int MaxNameLength = 64;

    /// <summary><c>name</c> or <c>name@3</c>, as the log shows the section.</summary>
    public string Target => Version is { } v ? $"{Name}@{v}" : Name;

    /// <summary>Whether <paramref name="command"/> is a <c>run-script</c> line (well formed or not).</summary>
    public static bool IsScriptCommand(string? command)
    {
        if (command is null) return false;
        var text = command.TrimStart();
        return text.StartsWith(Keyword, StringComparison.Ordinal)
               && (text.Length == Keyword.Length || char.IsWhiteSpace(text[Keyword.Length]));
    }

    /// <summary>
    /// Reads a <c>run-script</c> line. Null with no error: the command is something else. An error says what is wrong
    /// with a <c>run-script</c> line in words a person can act on.
    /// </summary>
    public static ScriptReference? Parse(string? command, out string? error)
    {
        error = null;
        if (!IsScriptCommand(command)) return null;
        var text = command!.Trim();
        var rest = text[Keyword.Length..].TrimStart();
        var end = 0;
        while (end < rest.Length && !char.IsWhiteSpace(rest[end])) end++;
        var target = rest[..end];
        var arguments = rest[end..].Trim();
        if (target.Length == 0)
        {
            error = "run-script needs a script name: run-script NAME[@VERSION] [ARGS...].";
            return null;
        }

        var at = target.IndexOf('@');
        var name = at < 0 ? target : target[..at];
        int? version = null;
        if (at >= 0)
        {
            var number = target[(at + 1)..];
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1)
            {
                error = $"'{target}': a version is a number from 1 (e.g. {name}@3).";
                return null;
            }
            version = v;
        }
        if (NameProblem(name) is { } problem)
        {
            error = problem;
            return null;
        }
        if (ArgumentsProblem(arguments) is { } argumentProblem)
        {
            error = $"run-script {target}: {argumentProblem}";
            return null;
        }
        return new ScriptReference(name, version, arguments);
    }

    /// <summary>Why <paramref name="name"/> cannot name a script (null when it can).</summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "A script needs a name.";
        if (Text.DisplayNames.Problem(name, "A script name") is { } shown) return shown;
        if (name.Length > MaxNameLength) return $"A script name is at most {MaxNameLength} characters; '{name[..20]}…' is longer.";
        if (!NamePattern().IsMatch(name))
            return $"'{name}' is not a script name: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. deploy-s3).";
        // /scripts/new is the page that creates scripts: a script of that name could never be opened.
        if (name == ReservedName) return $"'{ReservedName}' is reserved for the page that creates scripts; pick another name.";
        return null;
    }

    /// <summary>Arguments are bash words: an unclosed quote would swallow the rest of the job's shell input.</summary>
    private static string? ArgumentsProblem(string arguments)
    {
        char? quote = null;
        for (var i = 0; i < arguments.Length; i++)
        {
            var c = arguments[i];
            if (quote == '\'')
            {
                if (c == '\'') quote = null;
                continue;
            }
            if (c == '\\')
            {
                i++;
                continue;
            }
            if (quote == '"')
            {
                if (c == '"') quote = null;
                continue;
            }
            if (c is '\'' or '"') quote = c;
        }
        if (quote is not null) return $"the arguments have an unclosed {quote} quote.";
        if (arguments.EndsWith('\\') && !arguments.EndsWith("\\\\", StringComparison.Ordinal))
            return "the arguments end with a lone backslash.";
        return null;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
