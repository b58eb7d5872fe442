using System.Text;
using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Import.Semaphore;

/// <summary>
/// Semaphore's condition language (<c>run: when:</c>, <c>skip: when:</c>, <c>auto_promote: when:</c>) as far as Kaizen's
/// <see cref="WhenSettings"/> can say it: <c>branch = 'main'</c>, <c>branch =~ '^release/'</c>, <c>tag =~ '.*'</c>,
/// <c>pull_request =~ '.*'</c>, <c>change_in('/lambda/')</c>, joined by <c>and</c> (different terms) or <c>or</c> (the same
/// term), <c>true</c>; a <c>skip</c> is the negation. Anything else is refused with a reason (the caller lists the line).
/// </summary>
public static class SemaphoreConditions
{
    /// <summary>A parsed expression.</summary>
    public abstract record Expr;

    public sealed record Literal(bool Value) : Expr;

    /// <summary><c>field op 'value'</c>: field is branch, tag, pull_request, result, result_reason; op = != =~ !~.</summary>
    public sealed record Term(string Field, string Op, string Value) : Expr;

    public sealed record ChangeIn(IReadOnlyList<string> Paths, IReadOnlyDictionary<string, string> Options, bool Negated = false) : Expr;

    public sealed record Binary(string Op, Expr Left, Expr Right) : Expr;

    public sealed record Not(Expr Inner) : Expr;

    /// <summary>The translation of a run condition (<paramref name="negate"/>: a skip condition): the <see cref="WhenSettings"/>
    /// (null: always runs), or why it cannot be said; <paramref name="notes"/> gets what was left out of an otherwise
    /// translated condition (change_in options).</summary>
    public static (WhenSettings? When, string? Error) Translate(string text, bool negate, List<string> notes)
    {
        Expr expr;
        try
        {
            expr = new Parser(text).ParseAll();
        }
        catch (FormatException e)
        {
            return (null, $"the condition could not be read: {e.Message}");
        }

        if (negate) expr = new Not(expr);
        expr = Push(expr, false);
        return ToWhen(expr, notes);
    }

    /// <summary>Parses <paramref name="text"/> (throws <see cref="FormatException"/> saying what is wrong).</summary>
    public static Expr Parse(string text) => new Parser(text).ParseAll();

    /// <summary>Negations pushed down to the terms (De Morgan), so only and/or of terms remain.</summary>
    private static Expr Push(Expr expr, bool negated) => expr switch
    {
        Not n => Push(n.Inner, !negated),
        Binary b when negated => new Binary(b.Op == "and" ? "or" : "and", Push(b.Left, true), Push(b.Right, true)),
        Binary b => new Binary(b.Op, Push(b.Left, false), Push(b.Right, false)),
        Literal l => negated ? new Literal(!l.Value) : l,
        Term t when negated => t with { Op = t.Op switch { "=" => "!=", "!=" => "=", "=~" => "!~", _ => "=~" } },
        ChangeIn c when negated => c with { Negated = !c.Negated },
        _ => expr,
    };

    private static (WhenSettings? When, string? Error) ToWhen(Expr expr, List<string> notes)
    {
        switch (expr)
        {
            case Literal { Value: true }:
                return (null, null);
            case Literal:
                return (null, "the condition is always false (the work never runs); Kaizen has no such condition, remove the block or job instead");
            case Binary { Op: "and" } and:
            {
                var (left, e1) = ToWhen(and.Left, notes);
                if (e1 is not null) return (null, e1);
                var (right, e2) = ToWhen(and.Right, notes);
                if (e2 is not null) return (null, e2);
                return Merge(left, right);
            }
            case Binary { Op: "or" } or:
            {
                var (left, e1) = ToWhen(or.Left, notes);
                if (e1 is not null) return (null, e1);
                var (right, e2) = ToWhen(or.Right, notes);
                if (e2 is not null) return (null, e2);
                if (left is null || right is null) return (null, null); // "true or x" always holds
                if (left.Branch is { } lb && right.Branch is { } rb && Only(left, "branch") && Only(right, "branch"))
                    return (new WhenSettings(Branch: [.. lb, .. rb]), null);
                if (left.Tag is { } lt && right.Tag is { } rt && Only(left, "tag") && Only(right, "tag"))
                    return (new WhenSettings(Tag: [.. lt, .. rt]), null);
                if (left.Changed is { } lc && right.Changed is { } rc && Only(left, "changed") && Only(right, "changed"))
                    return (new WhenSettings(Changed: [.. lc, .. rc]), null);
                return (null, "'or' between different kinds of terms (a branch or a tag, …) has no Kaizen equivalent: every term of a Kaizen condition must hold");
            }
            case Term t:
                return TermToWhen(t);
            case ChangeIn c when c.Negated:
                return (null, "'not change_in' (run when nothing changed there) has no Kaizen equivalent");
            case ChangeIn c:
                foreach (var (key, value) in c.Options)
                {
                    if (key != "default_branch") notes.Add($"change_in option {key}: {value} is not translated (Kaizen compares with the previous build of the branch, else the merge base with the default branch)");
                }
                return (new WhenSettings(Changed: c.Paths), null);
            default:
                return (null, "the condition has no Kaizen equivalent");
        }
    }

    private static bool Only(WhenSettings w, string field) =>
        (field == "branch" || w.Branch is null) && (field == "tag" || w.Tag is null) && w.PullRequest is null
        && (field == "changed" || w.Changed is null);

    private static (WhenSettings? When, string? Error) Merge(WhenSettings? a, WhenSettings? b)
    {
        if (a is null) return (b, null);
        if (b is null) return (a, null);
        if ((a.Branch is not null && b.Branch is not null) || (a.Tag is not null && b.Tag is not null)
            || (a.PullRequest is not null && b.PullRequest is not null) || (a.Changed is not null && b.Changed is not null))
            return (null, "the same kind of term twice under 'and' has no Kaizen equivalent");
        return (new WhenSettings(a.Branch ?? b.Branch, a.Tag ?? b.Tag, a.PullRequest ?? b.PullRequest, a.Changed ?? b.Changed), null);
    }

    private static (WhenSettings? When, string? Error) TermToWhen(Term t)
    {
        switch (t.Field)
        {
            case "branch" or "tag":
            {
                if (t.Op is "!=" or "!~")
                    return (null, $"'{t.Field} {t.Op} ...' (every {t.Field} but one) has no Kaizen equivalent: Kaizen conditions name what runs");
                var glob = t.Op == "=" ? t.Value : RegexToGlob(t.Value);
                if (glob is null) return (null, $"the regular expression '{t.Value}' has no glob equivalent (Kaizen conditions use globs: *, **, ?)");
                return (t.Field == "branch" ? new WhenSettings(Branch: [glob]) : new WhenSettings(Tag: [glob]), null);
            }
            case "pull_request":
            {
                // "=~ '.*'" (any pull request) or its negation are the forms pipelines use.
                var any = t.Op is "=~" && RegexToGlob(t.Value) == "**";
                var none = t.Op is "!~" && RegexToGlob(t.Value) == "**";
                return any ? (new WhenSettings(PullRequest: true), null)
                    : none ? (new WhenSettings(PullRequest: false), null)
                    : (null, "a condition on particular pull requests has no Kaizen equivalent (only 'any pull request' or 'none')");
            }
            case "result" or "result_reason":
                return (null, $"'{t.Field}' only means something in a promotion");
            default:
                return (null, $"'{t.Field}' is not a condition Kaizen knows (branch, tag, pull_request, change_in)");
        }
    }

    /// <summary>A regular expression of branch or tag names as a glob, when it is one of the simple forms (<c>.*</c>,
    /// <c>^release/</c>, <c>^v[0-9]</c> is not); else null.</summary>
    public static string? RegexToGlob(string regex)
    {
        var r = regex;
        var start = r.StartsWith('^');
        if (start) r = r[1..];
        var end = r.EndsWith('$') && !r.EndsWith("\\$", StringComparison.Ordinal);
        if (end) r = r[..^1];
        var glob = new StringBuilder();
        for (var i = 0; i < r.Length; i++)
        {
            var c = r[i];
            if (c == '.' && i + 1 < r.Length && r[i + 1] == '*') { glob.Append("**"); i++; }
            else if (c == '.' && i + 1 < r.Length && r[i + 1] == '+') { glob.Append("?**"); i++; }
            else if (c == '\\' && i + 1 < r.Length && !char.IsLetterOrDigit(r[i + 1])) { glob.Append(r[i + 1]); i++; }
            else if (c == '.') glob.Append('?');
            else if ("[](){}|+*?^$\\".Contains(c)) return null;
            else glob.Append(c);
        }
        var text = glob.ToString();
        if (!start && !text.StartsWith("**", StringComparison.Ordinal)) text = "**" + text;
        if (!end && !text.EndsWith("**", StringComparison.Ordinal)) text += "**";
        return text.Length == 0 ? "**" : text.Replace("****", "**", StringComparison.Ordinal);
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public Expr ParseAll()
        {
            var expr = Or();
            Space();
            if (_pos < text.Length) throw new FormatException($"unexpected '{text[_pos..Math.Min(text.Length, _pos + 20)]}' at column {_pos + 1}");
            return expr;
        }

        private void Space()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        private bool Keyword(string word)
        {
            Space();
            if (_pos + word.Length > text.Length || !text.AsSpan(_pos, word.Length).Equals(word, StringComparison.OrdinalIgnoreCase)) return false;
            if (_pos + word.Length < text.Length && (char.IsLetterOrDigit(text[_pos + word.Length]) || text[_pos + word.Length] == '_')) return false;
            _pos += word.Length;
            return true;
        }

        private bool Symbol(string symbol)
        {
            Space();
            if (!text.AsSpan(_pos).StartsWith(symbol, StringComparison.Ordinal)) return false;
            _pos += symbol.Length;
            return true;
        }

        private Expr Or()
        {
            var left = And();
            while (Keyword("or")) left = new Binary("or", left, And());
            return left;
        }

        private Expr And()
        {
            var left = Unary();
            while (Keyword("and")) left = new Binary("and", left, Unary());
            return left;
        }

        private Expr Unary()
        {
            if (Keyword("not")) return new Not(Unary());
            if (Symbol("("))
            {
                var inner = Or();
                if (!Symbol(")")) throw new FormatException($"a ')' is missing at column {_pos + 1}");
                return inner;
            }
            if (Keyword("true")) return new Literal(true);
            if (Keyword("false")) return new Literal(false);
            if (Keyword("change_in")) return ChangeIn();
            var field = Identifier();
            foreach (var op in new[] { "=~", "!~", "!=", "=" })
            {
                if (Symbol(op)) return new Term(field, op, String());
            }
            throw new FormatException($"an operator (=, !=, =~, !~) is missing after '{field}' at column {_pos + 1}");
        }

        private Expr ChangeIn()
        {
            if (!Symbol("(")) throw new FormatException("change_in needs '('");
            List<string> paths = [];
            if (Symbol("["))
            {
                if (!Symbol("]"))
                {
                    do paths.Add(String()); while (Symbol(","));
                    if (!Symbol("]")) throw new FormatException($"a ']' is missing at column {_pos + 1}");
                }
            }
            else
            {
                paths.Add(String());
            }
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            if (Symbol(","))
            {
                if (!Symbol("{")) throw new FormatException($"change_in options are a map {{ key: value }} (column {_pos + 1})");
                if (!Symbol("}"))
                {
                    do
                    {
                        var key = Identifier();
                        if (!Symbol(":")) throw new FormatException($"a ':' is missing after {key}");
                        options[key] = Value();
                    }
                    while (Symbol(","));
                    if (!Symbol("}")) throw new FormatException($"a '}}' is missing at column {_pos + 1}");
                }
            }
            if (!Symbol(")")) throw new FormatException($"a ')' is missing at column {_pos + 1}");
            return new ChangeIn(paths, options);
        }

        private string Value()
        {
            Space();
            if (Symbol("["))
            {
                var items = new List<string>();
                if (!Symbol("]"))
                {
                    do items.Add(Value()); while (Symbol(","));
                    if (!Symbol("]")) throw new FormatException($"a ']' is missing at column {_pos + 1}");
                }
                return "[" + string.Join(", ", items) + "]";
            }
            return _pos < text.Length && text[_pos] is '\'' or '"' ? String() : Identifier();
        }

        private string Identifier()
        {
            Space();
            var start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            if (start == _pos) throw new FormatException(_pos < text.Length ? $"unexpected '{text[_pos]}' at column {_pos + 1}" : "the condition ends too early");
            return text[start.._pos].ToLowerInvariant();
        }

        private string String()
        {
            Space();
            if (_pos >= text.Length || text[_pos] is not ('\'' or '"')) throw new FormatException($"a quoted value is missing at column {_pos + 1}");
            var quote = text[_pos++];
            var value = new StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length && text[_pos + 1] == quote) _pos++;
                value.Append(text[_pos++]);
            }
            if (_pos >= text.Length) throw new FormatException("a quote is not closed");
            _pos++;
            return value.ToString();
        }
    }
}
