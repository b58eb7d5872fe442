using System.Text;

namespace Kaizen.Portal.Components.Scripts;

/// <summary>What a piece of bash source is, for colouring it.</summary>
public enum BashTokenKind
{
    Text,
    Comment,
    String,
    Variable,
    Keyword,
    Builtin,
    Operator,
    Heredoc,
}

/// <summary>One piece of bash source and its kind. Concatenating every token's text gives back the source exactly.</summary>
public readonly record struct BashToken(BashTokenKind Kind, string Text);

/// <summary>
/// A highlighter's reading of bash: comments, quoted strings (with the variables inside double quotes), variables,
/// here-documents, operators, and keywords and builtins where a command starts. It never fails: whatever it cannot
/// classify is plain text, and an unterminated quote runs to the end like bash would read it.
/// </summary>
public static class BashSyntax
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "in", "function",
        "select", "time", "coproc", "!", "[[", "]]", "{", "}",
    };

    private static readonly HashSet<string> Builtins = new(StringComparer.Ordinal)
    {
        "echo", "printf", "cd", "export", "local", "declare", "readonly", "set", "unset", "return", "exit", "source", ".",
        "read", "test", "[", "shift", "trap", "eval", "exec", "true", "false", "kaizen", "run-script", "pushd", "popd",
        "wait", "getopts", "let", "mapfile", "type", "command", "builtin", "alias", "ulimit", "umask",
    };

    // After these words the next word starts a command again (`if grep …`, `then echo …`).
    private static readonly HashSet<string> CommandPrefixes = new(StringComparer.Ordinal)
    {
        "if", "then", "else", "elif", "while", "until", "do", "!", "{", "time", "exec", "command", "builtin",
    };

    public static IReadOnlyList<BashToken> Tokenize(string? source)
    {
        var tokens = new List<BashToken>();
        if (string.IsNullOrEmpty(source)) return tokens;
        var text = new StringBuilder();
        var pendingHeredocs = new List<(string Delimiter, bool StripTabs)>();
        var commandStart = true;
        var i = 0;

        void Flush()
        {
            if (text.Length == 0) return;
            tokens.Add(new BashToken(BashTokenKind.Text, text.ToString()));
            text.Clear();
        }

        void Emit(BashTokenKind kind, int start, int end)
        {
            Flush();
            if (end > start) tokens.Add(new BashToken(kind, source[start..end]));
        }

        while (i < source.Length)
        {
            var c = source[i];
            if (c == '\n')
            {
                text.Append(c);
                i++;
                commandStart = true;
                if (pendingHeredocs.Count > 0)
                {
                    var start = i;
                    foreach (var (delimiter, stripTabs) in pendingHeredocs) i = HeredocEnd(source, i, delimiter, stripTabs);
                    pendingHeredocs.Clear();
                    Emit(BashTokenKind.Heredoc, start, i);
                }
                continue;
            }

            if (c is ' ' or '\t' or '\r')
            {
                text.Append(c);
                i++;
                continue;
            }

            if (c == '#' && (i == 0 || IsWordBreak(source[i - 1])))
            {
                var end = source.IndexOf('\n', i);
                Emit(BashTokenKind.Comment, i, end < 0 ? source.Length : end);
                i = end < 0 ? source.Length : end;
                continue;
            }

            if (c == '\\' && i + 1 < source.Length)
            {
                text.Append(c).Append(source[i + 1]);
                i += 2;
                commandStart = false;
                continue;
            }

            if (c == '\'')
            {
                var end = source.IndexOf('\'', i + 1);
                end = end < 0 ? source.Length : end + 1;
                Emit(BashTokenKind.String, i, end);
                i = end;
                commandStart = false;
                continue;
            }

            if (c == '"')
            {
                i = DoubleQuoted(source, i, tokens, Flush);
                commandStart = false;
                continue;
            }

            if (c == '$')
            {
                var end = VariableEnd(source, i);
                if (end > i + 1)
                {
                    Emit(BashTokenKind.Variable, i, end);
                    i = end;
                    commandStart = false;
                    continue;
                }
                if (i + 1 < source.Length && source[i + 1] == '(')
                {
                    Emit(BashTokenKind.Operator, i, i + 2);
                    i += 2;
                    commandStart = true;
                    continue;
                }
            }

            if (c == '<' && i + 1 < source.Length && source[i + 1] == '<' && (i + 2 >= source.Length || source[i + 2] != '<'))
            {
                var end = i + 2;
                var stripTabs = end < source.Length && source[end] == '-';
                if (stripTabs) end++;
                Emit(BashTokenKind.Operator, i, end);
                i = end;
                while (i < source.Length && source[i] is ' ' or '\t') text.Append(source[i++]);
                var wordStart = i;
                while (i < source.Length && !IsWordBreak(source[i])) i++;
                var word = source[wordStart..i];
                var delimiter = word.Replace("'", "", StringComparison.Ordinal).Replace("\"", "", StringComparison.Ordinal).Replace("\\", "", StringComparison.Ordinal);
                if (delimiter.Length > 0)
                {
                    Emit(BashTokenKind.String, wordStart, i);
                    pendingHeredocs.Add((delimiter, stripTabs));
                }
                continue;
            }

            if (IsOperator(c))
            {
                var end = i + 1;
                while (end < source.Length && IsOperator(source[end]) && end - i < 3) end++;
                Emit(BashTokenKind.Operator, i, end);
                var op = source[i..end];
                commandStart = op is ";" or ";;" or "&" or "&&" or "|" or "||" or "|&" or "(" or "((" or ")" or "))";
                i = end;
                continue;
            }

            // A word.
            var wordEnd = i;
            while (wordEnd < source.Length && !IsWordBreak(source[wordEnd]) && source[wordEnd] is not ('$' or '\'' or '"' or '\\')) wordEnd++;
            if (wordEnd == i) wordEnd++; // a lone '$' or similar
            var wordText = source[i..wordEnd];
            if (commandStart && Keywords.Contains(wordText))
            {
                Emit(BashTokenKind.Keyword, i, wordEnd);
                commandStart = CommandPrefixes.Contains(wordText);
            }
            else if (commandStart && Builtins.Contains(wordText))
            {
                Emit(BashTokenKind.Builtin, i, wordEnd);
                commandStart = wordText is "command" or "builtin" or "exec" or "time";
            }
            else if (commandStart && wordText.IndexOf('=') is > 0 and var eq && IsName(wordText.AsSpan(0, eq)))
            {
                // An assignment before the command (NAME=value cmd) leaves the command position open.
                Emit(BashTokenKind.Variable, i, i + eq);
                text.Append(wordText.AsSpan(eq));
            }
            else
            {
                text.Append(wordText);
                commandStart = false;
            }
            i = wordEnd;
        }

        Flush();
        return tokens;
    }

    private static bool IsOperator(char c) => c is ';' or '&' or '|' or '(' or ')' or '<' or '>';

    private static bool IsWordBreak(char c) => char.IsWhiteSpace(c) || IsOperator(c);

    private static bool IsName(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty || !(char.IsAsciiLetter(s[0]) || s[0] == '_')) return false;
        foreach (var c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        }
        return true;
    }

    /// <summary>Where a <c>$…</c> expansion that is a variable ends (<c>$NAME</c>, <c>${…}</c>, <c>$1</c>, <c>$?</c>); <paramref name="i"/>+1 when it is none.</summary>
    private static int VariableEnd(string s, int i)
    {
        var j = i + 1;
        if (j >= s.Length) return j;
        if (s[j] == '{')
        {
            var close = s.IndexOf('}', j);
            return close < 0 ? s.Length : close + 1;
        }
        if (char.IsAsciiDigit(s[j]) || s[j] is '?' or '@' or '*' or '#' or '$' or '!' or '-') return j + 1;
        while (j < s.Length && (char.IsAsciiLetterOrDigit(s[j]) || s[j] == '_')) j++;
        return j;
    }

    /// <summary>A double-quoted string from <paramref name="start"/>, its variables as their own tokens; returns where it ends.</summary>
    private static int DoubleQuoted(string s, int start, List<BashToken> tokens, Action flush)
    {
        flush();
        var i = start + 1;
        var pieceStart = start;
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                i += 2;
                continue;
            }
            if (s[i] == '$' && VariableEnd(s, i) is var end && end > i + 1)
            {
                if (i > pieceStart) tokens.Add(new BashToken(BashTokenKind.String, s[pieceStart..i]));
                tokens.Add(new BashToken(BashTokenKind.Variable, s[i..end]));
                i = pieceStart = end;
                continue;
            }
            i++;
        }
        i = Math.Min(i + 1, s.Length);
        if (i > pieceStart) tokens.Add(new BashToken(BashTokenKind.String, s[pieceStart..i]));
        return i;
    }

    /// <summary>Where a here-document's body that starts at <paramref name="start"/> ends (after its delimiter line).</summary>
    private static int HeredocEnd(string s, int start, string delimiter, bool stripTabs)
    {
        var i = start;
        while (i < s.Length)
        {
            var lineEnd = s.IndexOf('\n', i);
            var line = s[i..(lineEnd < 0 ? s.Length : lineEnd)];
            if (stripTabs) line = line.TrimStart('\t');
            i = lineEnd < 0 ? s.Length : lineEnd + 1;
            if (line.TrimEnd('\r') == delimiter) return i;
        }
        return s.Length;
    }
}
