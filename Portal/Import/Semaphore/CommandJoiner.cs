using Kaizen.Runner.Execution;

namespace Kaizen.Portal.Import.Semaphore;

/// <summary>
/// Semaphore types a job's commands into one shell, so a list item may be only part of a command (<c>if …; then</c>,
/// the body, <c>fi</c>). Kaizen runs and times each command on its own, so the importer joins items (with newlines)
/// until bash would have read a complete command, using the runner's own <see cref="BashSplitter"/>. Items that are only
/// comments go with the command after them (the last ones with the command before).
/// </summary>
public static class CommandJoiner
{
    private const string Sentinel = ":kaizen-import-end-of-command";

    /// <summary>The joined commands, and the index of the item where an unfinished command starts (null: none).</summary>
    public static (IReadOnlyList<string> Commands, int? OpenFrom) Join(IReadOnlyList<string> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var commands = new List<string>();
        var pending = new List<string>();
        var pendingStart = 0;
        for (var i = 0; i < items.Count; i++)
        {
            if (pending.Count == 0) pendingStart = i;
            pending.Add(items[i].TrimEnd('\n', '\r'));
            var text = string.Join("\n", pending);
            if (IsOnlyComments(text) || !IsComplete(text)) continue;
            commands.Add(text);
            pending.Clear();
        }
        if (pending.Count == 0) return (commands, null);
        var rest = string.Join("\n", pending);
        if (IsOnlyComments(rest))
        {
            if (commands.Count > 0) commands[^1] += "\n" + rest;
            return (commands, null);
        }
        commands.Add(rest);
        return (commands, pendingStart);
    }

    /// <summary>Whether bash reads <paramref name="text"/> as complete commands: a line after it stands on its own.</summary>
    public static bool IsComplete(string text)
    {
        var probe = text + "\n" + Sentinel;
        var spans = BashSplitter.Split(probe);
        return spans.Count > 0 && spans[^1].TextOf(probe).Trim() == Sentinel;
    }

    private static bool IsOnlyComments(string text) =>
        text.Split('\n').All(line => line.Trim().Length == 0 || line.TrimStart().StartsWith('#'));
}
