namespace Kaizen.Runner.Execution;

/// <summary>Where one top-level command sits in a script: <c>text.Substring(Start, Length)</c>.</summary>
public readonly record struct BashCommandSpan(int Start, int Length)
{
    public string TextOf(string script) => script.Substring(Start, Length);
}

/// <summary>
/// Splits a bash script into its top-level commands, the units a shared script is timed by: a command ends at a
/// newline that is outside quotes, expansions, heredoc bodies and compound commands (<c>if…fi</c>, <c>case…esac</c>,
/// <c>for/while/until…done</c>, <c>{ }</c>, <c>( )</c>, <c>[[ ]]</c>, <c>(( ))</c>, function bodies), and not after a
/// <c>\</c> continuation or a trailing <c>&amp;&amp;</c>, <c>||</c> or <c>|</c>. Comments and blank lines belong to
/// no command. Several commands on one line (<c>a; b</c>) stay one unit: the unit is a line as bash reads it.
/// <para>
/// This is a scanner, not a parser: it only has to find where bash would finish reading a complete command, and bash
/// itself reports syntax errors when the script runs. It never throws and runs in linear time; whatever is left open
/// at the end of the text (an unclosed quote, a missing <c>fi</c>) is one last command.
/// </para>
/// </summary>
public static class BashSplitter
{
    private enum Kind
    {
        Paren,      // ( … ) subshell, $( … ) and <( … ): code inside
        Arith,      // (( … )) and $(( … )): no comments, heredocs or keywords inside
        Param,      // ${ … }
        DQuote,     // " … "
        If,
        Loop,
        Case,
        Brace,      // { … } group or function body
        DBracket,   // [[ … ]]
    }

    private enum CaseState
    {
        Header,  // case WORD, before `in`
        Pattern, // reading a pattern, up to `)`
        Body,    // the clause's commands, up to ;; ;& ;;& or esac
    }

    private sealed class Frame(Kind kind)
    {
        public Kind Kind { get; } = kind;
        public int Depth { get; set; }
        public CaseState Case { get; set; }
    }

    private readonly record struct Heredoc(string Delimiter, bool StripTabs);

    /// <summary>The top-level commands of <paramref name="script"/>, in order.</summary>
    public static IReadOnlyList<BashCommandSpan> Split(string script)
    {
        ArgumentNullException.ThrowIfNull(script);
        var s = script;
        var spans = new List<BashCommandSpan>();
        var stack = new List<Frame>();
        var heredocs = new List<Heredoc>();
        var start = -1;            // where the current top-level command starts
        var atCommand = true;      // the next word is in command position (keywords count there)
        var continued = false;     // the line ends with && || | or a function header: the command goes on
        var expectFunctionName = false;
        var i = 0;

        while (i < s.Length)
        {
            var c = s[i];
            var top = stack.Count > 0 ? stack[^1] : null;

            switch (top?.Kind)
            {
                case Kind.DQuote:
                    i = InDoubleQuotes(s, i, stack);
                    continue;
                case Kind.Param:
                    i = InParameter(s, i, stack);
                    continue;
                case Kind.Arith:
                    i = InArithmetic(s, i, stack, top);
                    continue;
            }

            // Code: the top level, a subshell or command substitution, or a compound command's body.
            if (c == '\n')
            {
                var end = i;
                if (heredocs.Count > 0)
                {
                    end = SkipHeredocBodies(s, i + 1, heredocs);
                    heredocs.Clear();
                }
                if (stack.Count == 0 && start >= 0 && !continued)
                {
                    spans.Add(Span(s, start, end));
                    start = -1;
                }
                atCommand = true;
                i = end + 1;
                continue;
            }
            if (c is ' ' or '\t' or '\r')
            {
                i++;
                continue;
            }
            if (c == '#' && WordStart(s, i))
            {
                while (i < s.Length && s[i] != '\n') i++;
                continue;
            }
            if (c == '\\' && i + 1 < s.Length && s[i + 1] == '\n')
            {
                i += 2; // a line continuation: no newline for bash
                continue;
            }

            if (stack.Count == 0 && start < 0) start = i;
            continued = false;
            var caseFrame = top is { Kind: Kind.Case } ? top : null;

            switch (c)
            {
                case ';':
                    if (At(s, i + 1, ';'))
                    {
                        i += At(s, i + 2, '&') ? 3 : 2;
                        if (caseFrame is not null) caseFrame.Case = CaseState.Pattern;
                    }
                    else if (At(s, i + 1, '&'))
                    {
                        i += 2;
                        if (caseFrame is not null) caseFrame.Case = CaseState.Pattern;
                    }
                    else
                    {
                        i++;
                    }
                    atCommand = true;
                    continue;
                case '&':
                    if (At(s, i + 1, '&'))
                    {
                        i += 2;
                        continued = true;
                        atCommand = true;
                    }
                    else if (At(s, i + 1, '>'))
                    {
                        i += At(s, i + 2, '>') ? 3 : 2;
                    }
                    else
                    {
                        i++;
                        atCommand = true;
                    }
                    continue;
                case '|':
                    i += At(s, i + 1, '|') || At(s, i + 1, '&') ? 2 : 1;
                    continued = caseFrame is not { Case: CaseState.Pattern };
                    atCommand = true;
                    continue;
                case '(':
                    if (caseFrame is { Case: CaseState.Pattern })
                    {
                        i++; // the optional ( before a pattern
                        continue;
                    }
                    if (FunctionParens(s, i) is var afterParens and > 0)
                    {
                        i = afterParens; // name() — the body may start on the next line
                        continued = true;
                        atCommand = true;
                        continue;
                    }
                    if (atCommand && At(s, i + 1, '('))
                    {
                        stack.Add(new Frame(Kind.Arith));
                        i += 2;
                        atCommand = false;
                        continue;
                    }
                    stack.Add(new Frame(Kind.Paren));
                    i++;
                    atCommand = true;
                    continue;
                case ')':
                    if (caseFrame is { Case: CaseState.Pattern })
                        caseFrame.Case = CaseState.Body;
                    else
                        PopTo(stack, Kind.Paren);
                    i++;
                    atCommand = caseFrame is not null;
                    continue;
                case '<':
                    if (At(s, i + 1, '<') && At(s, i + 2, '<'))
                    {
                        i += 3; // a here-string
                    }
                    else if (At(s, i + 1, '<') && top is not { Kind: Kind.DBracket })
                    {
                        i = ReadHeredocOperator(s, i, heredocs);
                    }
                    else if (At(s, i + 1, '('))
                    {
                        stack.Add(new Frame(Kind.Paren));
                        i += 2;
                        atCommand = true;
                    }
                    else
                    {
                        i++;
                    }
                    continue;
                case '>':
                    if (At(s, i + 1, '('))
                    {
                        stack.Add(new Frame(Kind.Paren));
                        i += 2;
                        atCommand = true;
                    }
                    else
                    {
                        i++;
                    }
                    continue;
                case '\'':
                    i = SkipSingleQuoted(s, i + 1);
                    atCommand = false;
                    continue;
                case '"':
                    stack.Add(new Frame(Kind.DQuote));
                    i++;
                    atCommand = false;
                    continue;
                case '`':
                    i = SkipBackquoted(s, i + 1);
                    atCommand = false;
                    continue;
                case '$':
                    i = Dollar(s, i, stack);
                    atCommand = false;
                    continue;
                case '\\':
                    i = Math.Min(s.Length, i + 2);
                    atCommand = false;
                    continue;
            }

            // A word. Only a plain one (no quotes or expansions in it) can be a keyword.
            var wordEnd = i;
            while (wordEnd < s.Length && PlainWordChar(s[wordEnd])) wordEnd++;
            if (wordEnd == i) wordEnd = i + 1; // a character no rule above took: part of a word
            var plain = wordEnd >= s.Length || !ContinuesWord(s[wordEnd]);
            var word = plain ? s.AsSpan(i, wordEnd - i) : default;
            i = wordEnd;

            if (expectFunctionName)
            {
                expectFunctionName = false;
                continued = true;
                atCommand = true;
                continue;
            }
            if (plain && Keyword(word, stack, caseFrame, atCommand, ref atCommand, ref expectFunctionName))
                continue;
            atCommand = false;
        }

        if (start >= 0) spans.Add(Span(s, start, s.Length));
        return spans;
    }

    /// <summary>Applies a reserved word; false when <paramref name="word"/> is an ordinary word here.</summary>
    private static bool Keyword(ReadOnlySpan<char> word, List<Frame> stack, Frame? caseFrame, bool commandPosition,
        ref bool atCommand, ref bool expectFunctionName)
    {
        if (caseFrame is not null)
        {
            switch (caseFrame.Case)
            {
                case CaseState.Header:
                    if (word is "in") caseFrame.Case = CaseState.Pattern;
                    atCommand = false;
                    return true;
                case CaseState.Pattern:
                    if (word is "esac") stack.RemoveAt(stack.Count - 1);
                    atCommand = false;
                    return true;
            }
        }
        if (stack.Count > 0 && stack[^1].Kind == Kind.DBracket)
        {
            if (word is "]]") stack.RemoveAt(stack.Count - 1);
            atCommand = false;
            return true;
        }
        if (!commandPosition) return false;
        switch (word)
        {
            case "if":
                stack.Add(new Frame(Kind.If));
                atCommand = true;
                return true;
            case "while" or "until":
                stack.Add(new Frame(Kind.Loop));
                atCommand = true;
                return true;
            case "for" or "select":
                stack.Add(new Frame(Kind.Loop));
                atCommand = false;
                return true;
            case "case":
                stack.Add(new Frame(Kind.Case) { Case = CaseState.Header });
                atCommand = false;
                return true;
            case "{":
                stack.Add(new Frame(Kind.Brace));
                atCommand = true;
                return true;
            case "[[":
                stack.Add(new Frame(Kind.DBracket));
                atCommand = false;
                return true;
            case "fi":
                PopTo(stack, Kind.If);
                atCommand = false;
                return true;
            case "done":
                PopTo(stack, Kind.Loop);
                atCommand = false;
                return true;
            case "esac":
                PopTo(stack, Kind.Case);
                atCommand = false;
                return true;
            case "}":
                PopTo(stack, Kind.Brace);
                atCommand = false;
                return true;
            case "then" or "else" or "elif" or "do" or "!" or "time":
                atCommand = true;
                return true;
            case "function":
                expectFunctionName = true;
                atCommand = false;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Closes the innermost frame of <paramref name="kind"/> and any left open inside it (bash will complain
    /// about those); does nothing when there is none.</summary>
    private static void PopTo(List<Frame> stack, Kind kind)
    {
        for (var k = stack.Count - 1; k >= 0; k--)
        {
            if (stack[k].Kind == kind)
            {
                stack.RemoveRange(k, stack.Count - k);
                return;
            }
            // A construct never spans the end of a subshell or substitution it sits in.
            if (stack[k].Kind == Kind.Paren && kind != Kind.Paren) return;
        }
    }

    private static int InDoubleQuotes(string s, int i, List<Frame> stack)
    {
        switch (s[i])
        {
            case '\\':
                return Math.Min(s.Length, i + 2);
            case '"':
                stack.RemoveAt(stack.Count - 1);
                return i + 1;
            case '`':
                return SkipBackquoted(s, i + 1);
            case '$':
                return Dollar(s, i, stack);
            default:
                return i + 1;
        }
    }

    private static int InParameter(string s, int i, List<Frame> stack)
    {
        switch (s[i])
        {
            case '\\':
                return Math.Min(s.Length, i + 2);
            case '}':
                stack.RemoveAt(stack.Count - 1);
                return i + 1;
            case '\'':
                return SkipSingleQuoted(s, i + 1);
            case '"':
                stack.Add(new Frame(Kind.DQuote));
                return i + 1;
            case '`':
                return SkipBackquoted(s, i + 1);
            case '$':
                return Dollar(s, i, stack);
            default:
                return i + 1;
        }
    }

    private static int InArithmetic(string s, int i, List<Frame> stack, Frame frame)
    {
        switch (s[i])
        {
            case '\\':
                return Math.Min(s.Length, i + 2);
            case '(':
                frame.Depth++;
                return i + 1;
            case ')':
                if (frame.Depth > 0)
                {
                    frame.Depth--;
                    return i + 1;
                }
                stack.RemoveAt(stack.Count - 1);
                return At(s, i + 1, ')') ? i + 2 : i + 1;
            case '\'':
                return SkipSingleQuoted(s, i + 1);
            case '"':
                stack.Add(new Frame(Kind.DQuote));
                return i + 1;
            case '`':
                return SkipBackquoted(s, i + 1);
            case '$':
                return Dollar(s, i, stack);
            default:
                return i + 1;
        }
    }

    /// <summary>At a <c>$</c>: opens <c>$(</c>, <c>$((</c>, <c>${</c>, skips <c>$'…'</c>; returns where to go on.</summary>
    private static int Dollar(string s, int i, List<Frame> stack)
    {
        if (At(s, i + 1, '(') && At(s, i + 2, '('))
        {
            stack.Add(new Frame(Kind.Arith));
            return i + 3;
        }
        if (At(s, i + 1, '('))
        {
            stack.Add(new Frame(Kind.Paren));
            return i + 2;
        }
        if (At(s, i + 1, '{'))
        {
            stack.Add(new Frame(Kind.Param));
            return i + 2;
        }
        if (At(s, i + 1, '\''))
        {
            // ANSI-C quoting: backslash escapes, including \'.
            var k = i + 2;
            while (k < s.Length && s[k] != '\'') k += s[k] == '\\' ? 2 : 1;
            return Math.Min(s.Length, k + 1);
        }
        return i + 1;
    }

    private static int SkipSingleQuoted(string s, int i)
    {
        var close = s.IndexOf('\'', i);
        return close < 0 ? s.Length : close + 1;
    }

    private static int SkipBackquoted(string s, int i)
    {
        while (i < s.Length && s[i] != '`') i += s[i] == '\\' ? 2 : 1;
        return Math.Min(s.Length, i + 1);
    }

    /// <summary>Reads <c>&lt;&lt;WORD</c> or <c>&lt;&lt;-WORD</c> (quotes in WORD removed) and queues its body.</summary>
    private static int ReadHeredocOperator(string s, int i, List<Heredoc> heredocs)
    {
        i += 2;
        var stripTabs = At(s, i, '-');
        if (stripTabs) i++;
        while (i < s.Length && s[i] is ' ' or '\t') i++;
        var delimiter = new System.Text.StringBuilder();
        while (i < s.Length && !char.IsWhiteSpace(s[i]) && s[i] is not (';' or '&' or '|' or '<' or '>' or '(' or ')'))
        {
            var c = s[i];
            if (c is '\'' or '"')
            {
                var close = s.IndexOf(c, i + 1);
                var end = close < 0 ? s.Length : close;
                delimiter.Append(s, i + 1, end - i - 1);
                i = Math.Min(s.Length, end + 1);
                continue;
            }
            if (c == '\\' && i + 1 < s.Length)
            {
                delimiter.Append(s[i + 1]);
                i += 2;
                continue;
            }
            delimiter.Append(c);
            i++;
        }
        if (delimiter.Length > 0) heredocs.Add(new Heredoc(delimiter.ToString(), stripTabs));
        return i;
    }

    /// <summary>Skips the bodies of the queued heredocs, which start at <paramref name="i"/> (after the operator's line);
    /// returns the index of the newline that ends the last terminator line (or the end of the text).</summary>
    private static int SkipHeredocBodies(string s, int i, List<Heredoc> heredocs)
    {
        var lineEnd = i - 1;
        foreach (var heredoc in heredocs)
        {
            while (i < s.Length)
            {
                lineEnd = s.IndexOf('\n', i);
                if (lineEnd < 0) lineEnd = s.Length;
                var line = s.AsSpan(i, lineEnd - i);
                if (heredoc.StripTabs) line = line.TrimStart('\t');
                i = lineEnd + 1;
                if (line.SequenceEqual(heredoc.Delimiter)) break;
            }
            if (i >= s.Length) return s.Length;
        }
        return Math.Min(lineEnd, s.Length);
    }

    /// <summary>If <c>s[i]</c> opens <c>( )</c> with only blanks inside (a function header), the index after it; else 0.</summary>
    private static int FunctionParens(string s, int i)
    {
        var k = i + 1;
        while (k < s.Length && s[k] is ' ' or '\t') k++;
        return At(s, k, ')') ? k + 1 : 0;
    }

    private static BashCommandSpan Span(string s, int start, int end)
    {
        end = Math.Min(end, s.Length);
        while (end > start && char.IsWhiteSpace(s[end - 1])) end--;
        return new BashCommandSpan(start, end - start);
    }

    private static bool At(string s, int i, char c) => i < s.Length && s[i] == c;

    private static bool WordStart(string s, int i) =>
        i == 0 || s[i - 1] is ' ' or '\t' or '\n' or '\r' or ';' or '&' or '|' or '(' or ')' or '<' or '>';

    private static bool PlainWordChar(char c) =>
        !char.IsWhiteSpace(c) && c is not (';' or '&' or '|' or '(' or ')' or '<' or '>' or '\'' or '"' or '`' or '$' or '\\');

    /// <summary>Whether a word goes on at <paramref name="c"/> (a quote or expansion glued to it).</summary>
    private static bool ContinuesWord(char c) => c is '\'' or '"' or '`' or '$' or '\\';
}
