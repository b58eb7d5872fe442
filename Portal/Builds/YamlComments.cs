using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using CommentToken = YamlDotNet.Core.Tokens.Comment;

namespace Kaizen.Portal.Builds;

/// <summary>
/// Carries the comments of a YAML text of build settings over to the settings written out afresh after a change, so a
/// file someone commented keeps its comments when one command is edited through the editor or the JSON API.
/// <para>
/// A full-line comment (with the comments and blank lines of its block) belongs to the node that follows it, or, when it
/// is indented deeper than that node, to the one it ends (a command commented out at the end of a list stays there); an
/// end-of-line comment belongs to the first node on its line. Nodes are found again by a path that survives edits: keys by
/// key, list items that are mappings by their <c>name</c> (so jobs and blocks keep their comments when reordered or
/// when others are added), other items by their text, then by their place in the list when their text changed. A
/// comment whose node is gone goes with it; the comments above the first node (the file's header) stay at the top.
/// The result always reads as exactly the same settings as the new text: when it would not, the new text is returned.
/// </para>
/// </summary>
public static class YamlComments
{
    /// <summary><paramref name="newText"/> (settings as <see cref="BuildSettingsYaml.ToYaml"/> writes them) with the comments
    /// of <paramref name="oldText"/> placed where they belong.</summary>
    public static string Carry(string oldText, string newText)
    {
        ArgumentNullException.ThrowIfNull(oldText);
        ArgumentNullException.ThrowIfNull(newText);
        if (!oldText.Contains('#')) return newText;
        var (expected, errors) = BuildSettingsYaml.FromYaml(newText);
        if (expected is null || errors.Count > 0) return newText;
        var wanted = BuildSettingsYaml.ToYaml(expected);

        try
        {
            var placement = Place(oldText, newText);
            if (!placement.Any) return newText;
            // Blank lines are tried first (they keep the file's layout); a blank line after a "|+" text would change it.
            foreach (var blankLines in new[] { true, false })
            {
                var result = placement.Write(blankLines);
                var (parsed, problems) = BuildSettingsYaml.FromYaml(result);
                if (parsed is not null && problems.Count == 0 && BuildSettingsYaml.ToYaml(parsed) == wanted) return result;
            }
            return newText;
        }
        catch (Exception)
        {
            // Comments are a courtesy: whatever goes wrong carrying them, the settings are saved and exported without them.
            return newText;
        }
    }

    /// <summary>A node of the YAML tree: a scalar, a list or a mapping, with where it starts.</summary>
    private sealed class Node(int line)
    {
        public int Line { get; } = line;
        public string? Scalar { get; init; }
        public List<(Node Key, Node Value)>? Entries { get; init; }
        public List<Node>? Items { get; init; }

        /// <summary>How a list item is known: a mapping by its name (or a service by its alias), a scalar by its text.</summary>
        public string? Identity =>
            Scalar is not null ? "=" + Scalar
            : Entries is null ? null
            : Entries.FirstOrDefault(e => e.Key.Scalar == "name").Value?.Scalar is { } name ? "name:" + name
            : Entries.FirstOrDefault(e => e.Key.Scalar == "alias").Value?.Scalar is { } alias ? "alias:" + alias
            : null;
    }

    /// <summary>One step of a path from the root: a key of a mapping, or an item of a list.</summary>
    private abstract record Step;

    private sealed record KeyStep(string Key) : Step;

    /// <summary>An item known by <paramref name="Id"/> (its <paramref name="Occurrence"/>-th one, for repeated commands), at
    /// <paramref name="Index"/>; <paramref name="Ids"/> are the identities of all the items of its list.</summary>
    private sealed record ItemStep(string? Id, int Occurrence, int Index, IReadOnlySet<string> Ids) : Step;

    /// <summary>A node a comment can belong to (a mapping's key or a list's item) and the path that finds it again.</summary>
    private sealed class Anchor(IReadOnlyList<Step> path, Node node)
    {
        public IReadOnlyList<Step> Path { get; } = path;
        public Node Node { get; } = node;

        /// <summary>Where in the list of anchors the last one under this one (its value's keys and items) is.</summary>
        public int Last { get; set; }
    }

    private static Node? Tree(string text)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        if (!parser.TryConsume<DocumentStart>(out _)) return null;
        return Read(parser);
    }

    private static Node Read(IParser parser)
    {
        var current = parser.Current ?? throw new InvalidOperationException("The YAML ended early.");
        var line = (int)current.Start.Line;
        parser.MoveNext();
        switch (current)
        {
            case Scalar scalar:
                return new Node(line) { Scalar = scalar.Value };
            case SequenceStart:
            {
                var items = new List<Node>();
                while (!parser.TryConsume<SequenceEnd>(out _)) items.Add(Read(parser));
                return new Node(line) { Items = items };
            }
            case MappingStart:
            {
                var entries = new List<(Node, Node)>();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = Read(parser);
                    entries.Add((key, Read(parser)));
                }
                return new Node(line) { Entries = entries };
            }
            default:
                // An alias: settings refuse them, so it only has to be skipped.
                return new Node(line);
        }
    }

    /// <summary>The keys and items of <paramref name="node"/> and below, in the order they are written.</summary>
    private static void Anchors(Node node, List<Step> path, List<Anchor> into)
    {
        if (node.Entries is { } entries)
        {
            foreach (var (key, value) in entries)
            {
                if (key.Scalar is not { } name) continue;
                List<Step> at = [.. path, new KeyStep(name)];
                var anchor = new Anchor(at, key);
                into.Add(anchor);
                Anchors(value, at, into);
                anchor.Last = into.Count - 1;
            }
        }
        else if (node.Items is { } items)
        {
            var ids = items.Select(i => i.Identity).OfType<string>().ToHashSet(StringComparer.Ordinal);
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < items.Count; i++)
            {
                var id = items[i].Identity;
                var occurrence = 0;
                if (id is not null)
                {
                    occurrence = seen.GetValueOrDefault(id);
                    seen[id] = occurrence + 1;
                }
                List<Step> at = [.. path, new ItemStep(id, occurrence, i, ids)];
                var anchor = new Anchor(at, items[i]);
                into.Add(anchor);
                Anchors(items[i], at, into);
                anchor.Last = into.Count - 1;
            }
        }
    }

    /// <summary>The node of <paramref name="root"/> that <paramref name="path"/> (taken in another text) names, if any.</summary>
    private static Node? Find(Node root, IReadOnlyList<Step> path)
    {
        Node? current = root, found = null;
        foreach (var step in path)
        {
            switch (step)
            {
                case KeyStep key:
                {
                    var entry = current?.Entries?.FirstOrDefault(e => e.Key.Scalar == key.Key);
                    if (entry?.Key is null) return null;
                    found = entry.Value.Key;
                    current = entry.Value.Value;
                    break;
                }
                case ItemStep item:
                {
                    if (current?.Items is not { } items) return null;
                    var ids = items.Select(i => i.Identity).ToList();
                    var at = -1;
                    if (item.Id is not null)
                    {
                        for (int i = 0, seen = 0; i < ids.Count && at < 0; i++)
                        {
                            if (ids[i] == item.Id && seen++ == item.Occurrence) at = i;
                        }
                    }
                    // Not found by its text or name: the item in its place, when that one is new (an edited command, a
                    // renamed job); an item the old list already had is another one, and this one was removed.
                    if (at < 0 && item.Index < items.Count
                        && (item.Id is null ? ids[item.Index] is null : ids[item.Index] is { } other && !item.Ids.Contains(other)))
                        at = item.Index;
                    if (at < 0) return null;
                    found = current = items[at];
                    break;
                }
            }
        }
        return found;
    }

    private sealed record Comment(int Line, int Column, bool Inline, string Text);

    /// <summary>The comments of <paramref name="text"/> as the scanner finds them (not the # inside quotes or block text).</summary>
    private static List<Comment> Comments(string text, string[] lines)
    {
        var comments = new List<Comment>();
        var scanner = new Scanner(new StringReader(text), skipComments: false);
        while (scanner.MoveNext())
        {
            if (scanner.Current is not CommentToken token) continue;
            var line = (int)token.Start.Line;
            var column = (int)token.Start.Column;
            if (line < 1 || line > lines.Length) continue;
            var source = lines[line - 1];
            var at = Math.Clamp(column - 1, 0, source.Length);
            // The scanner's column is where the # is; read the comment as written from there.
            var hash = source.IndexOf('#', at);
            if (hash < 0) continue;
            var before = source[..hash];
            comments.Add(new Comment(line, hash, before.Trim().Length > 0, source[hash..].TrimEnd()));
        }
        return comments;
    }

    private static string[] Lines(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');

    private static bool Blank(string line) => line.Trim().Length == 0;

    /// <summary>Where each comment of the old text goes in the new one.</summary>
    private static Placement Place(string oldText, string newText)
    {
        var oldLines = Lines(oldText);
        var newLines = Lines(newText);
        var placement = new Placement(newLines);
        var oldRoot = Tree(oldText);
        var newRoot = Tree(newText);
        var comments = Comments(oldText, oldLines);
        if (comments.Count == 0) return placement;

        // In the order they are written (a list item before its first key, on the same line).
        var anchors = new List<Anchor>();
        if (oldRoot is not null) Anchors(oldRoot, [], anchors);
        var firstLine = anchors.Count > 0 ? anchors[0].Node.Line : int.MaxValue;
        var newAnchors = new List<Anchor>();
        if (newRoot is not null) Anchors(newRoot, [], newAnchors);

        // Full-line comments grouped by the node they belong to, in the order they are written: the next node, or the one
        // they end when they are indented deeper than the next (a command commented out at the end of a list).
        var groups = new List<(Anchor? Anchor, bool Ends, List<Comment> Comments)>();
        foreach (var comment in comments)
        {
            if (comment.Inline && anchors.FirstOrDefault(a => a.Node.Line == comment.Line) is { } onLine)
            {
                if (newRoot is not null && Find(newRoot, onLine.Path) is { } target)
                    placement.AddInline(target.Line, oldLines[comment.Line - 1][..comment.Column], comment.Text);
                continue;
            }
            if (comment.Line < firstLine)
            {
                placement.Header.Add(comment);
                continue;
            }
            var next = anchors.FirstOrDefault(a => a.Node.Line > comment.Line);
            var ended = comment.Column > (next is null ? 0 : Indent(oldLines[next.Node.Line - 1]))
                ? anchors.LastOrDefault(a => a.Node.Line < comment.Line && Indent(oldLines[a.Node.Line - 1]) <= comment.Column)
                : null;
            var (belongsTo, ends) = ended is null ? (next, false) : (ended, true);
            if (groups.Count > 0 && groups[^1].Anchor == belongsTo && groups[^1].Ends == ends) groups[^1].Comments.Add(comment);
            else groups.Add((belongsTo, ends, [comment]));
        }

        foreach (var (anchor, ends, group) in groups)
        {
            var block = Block(oldLines, group);
            if (anchor is null)
            {
                // Comments after the last node end the file, as they did.
                placement.Footer.AddRange(block);
                continue;
            }
            if (ends)
            {
                // Below the last line of the node and what it holds, indented as the node.
                if (newRoot is not null && Find(newRoot, anchor.Path) is { } ended
                    && newAnchors.FindIndex(a => a.Node == ended) is var at and >= 0)
                {
                    var after = newAnchors[at].Last + 1;
                    var lastLine = after < newAnchors.Count ? Math.Max(ended.Line, newAnchors[after].Node.Line - 1) : LastLine(newLines);
                    placement.AddBelow(lastLine, ended.Line, block);
                }
                continue;
            }
            var blanksBelow = Enumerable.Range(group[^1].Line + 1, Math.Max(0, anchor.Node.Line - group[^1].Line - 1))
                .Count(l => Blank(oldLines[l - 1]));
            for (var b = 0; b < blanksBelow; b++) block.Add(null);
            if (newRoot is not null && Find(newRoot, anchor.Path) is { } target) placement.AddAbove(target.Line, block);
        }

        placement.HeaderBlanksBelow = placement.Header.Count == 0 ? 0
            : Enumerable.Range(placement.Header[^1].Line + 1, Math.Max(0, firstLine - placement.Header[^1].Line - 1))
                .Count(l => l <= oldLines.Length && Blank(oldLines[l - 1]));
        placement.OldLines = oldLines;
        return placement;
    }

    /// <summary>The lines of a block of comments as written, null standing for a blank line (kept where the old text had one
    /// above or between its comments).</summary>
    private static List<string?> Block(string[] oldLines, List<Comment> group)
    {
        var block = new List<string?>();
        block.AddRange(Enumerable.Repeat<string?>(null, BlanksAbove(oldLines, group[0].Line)));
        for (var i = 0; i < group.Count; i++)
        {
            if (i > 0)
            {
                var blanks = Enumerable.Range(group[i - 1].Line + 1, group[i].Line - group[i - 1].Line - 1).Count(l => Blank(oldLines[l - 1]));
                block.AddRange(Enumerable.Repeat<string?>(null, blanks));
            }
            block.Add(group[i].Text);
        }
        return block;
    }

    private static int Indent(string line) => line.Length - line.TrimStart().Length;

    /// <summary>The number of the last line that is not blank.</summary>
    private static int LastLine(string[] lines)
    {
        var last = lines.Length;
        while (last > 1 && Blank(lines[last - 1])) last--;
        return last;
    }

    private static int BlanksAbove(string[] lines, int line)
    {
        var count = 0;
        for (var l = line - 1; l >= 1 && Blank(lines[l - 1]); l--) count++;
        // Blank lines at the very top of the file separate nothing.
        return count == line - 1 ? 0 : count;
    }

    /// <summary>The new text's lines with the comments to put above and at the end of each.</summary>
    private sealed class Placement(string[] newLines)
    {
        private readonly Dictionary<int, List<string?>> _above = [];
        private readonly Dictionary<int, StringBuilder> _inline = [];
        private readonly Dictionary<int, List<(int IndentOf, string? Line)>> _below = [];

        public List<Comment> Header { get; } = [];
        public int HeaderBlanksBelow { get; set; }
        public List<string?> Footer { get; } = [];
        public string[] OldLines { get; set; } = [];

        public bool Any => Header.Count > 0 || Footer.Count > 0 || _above.Count > 0 || _inline.Count > 0 || _below.Count > 0;

        /// <summary>Comment lines below line <paramref name="line"/>, indented as line <paramref name="indentOf"/>.</summary>
        public void AddBelow(int line, int indentOf, List<string?> block)
        {
            if (!_below.TryGetValue(line, out var lines)) _below[line] = lines = [];
            lines.AddRange(block.Select(l => (indentOf, l)));
        }

        public void AddAbove(int line, List<string?> block)
        {
            if (!_above.TryGetValue(line, out var lines)) _above[line] = lines = [];
            lines.AddRange(block);
        }

        public void AddInline(int line, string before, string text)
        {
            // The space the old line had before its comment (at least one, or the # would be part of the value).
            var gap = before.Length - before.TrimEnd().Length;
            if (!_inline.TryGetValue(line, out var suffix)) _inline[line] = suffix = new StringBuilder();
            suffix.Append(' ', Math.Max(1, gap)).Append(text);
        }

        public string Write(bool blankLines)
        {
            var output = new StringBuilder();
            if (Header.Count > 0)
            {
                for (var l = Header[0].Line; l <= Header[^1].Line; l++)
                {
                    if (Header.FirstOrDefault(c => c.Line == l) is { } comment) output.Append(comment.Text).Append('\n');
                    else if (Blank(OldLines[l - 1]) && blankLines) output.Append('\n');
                }
                if (blankLines) output.Append('\n', HeaderBlanksBelow);
            }
            for (var i = 0; i < newLines.Length; i++)
            {
                var line = newLines[i];
                // The last element is what follows the final line break: nothing, in what the settings writer makes.
                if (i == newLines.Length - 1 && line.Length == 0) break;
                if (_above.TryGetValue(i + 1, out var block))
                {
                    var indent = line[..(line.Length - line.TrimStart().Length)];
                    foreach (var comment in block)
                    {
                        if (comment is null)
                        {
                            if (blankLines) output.Append('\n');
                        }
                        else output.Append(indent).Append(comment).Append('\n');
                    }
                }
                output.Append(line);
                if (_inline.TryGetValue(i + 1, out var suffix)) output.Append(suffix);
                output.Append('\n');
                foreach (var (indentOf, comment) in _below.GetValueOrDefault(i + 1) ?? [])
                {
                    if (comment is null)
                    {
                        if (blankLines) output.Append('\n');
                    }
                    else output.Append(' ', Indent(newLines[indentOf - 1])).Append(comment).Append('\n');
                }
            }
            foreach (var comment in Footer)
            {
                if (comment is null)
                {
                    if (blankLines) output.Append('\n');
                }
                else output.Append(comment).Append('\n');
            }
            var text = output.ToString();
            // Ends as the new text ends (with or without a final line break).
            return newLines[^1].Length == 0 || text.Length == 0 ? text : text[..^1];
        }
    }
}
