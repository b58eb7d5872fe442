using System.Text.RegularExpressions;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Logs;

namespace Kaizen.Portal.Components.Pages.Jobs;

/// <summary>
/// Why a job failed, in the reader's words: the runner reports "Command 5 failed with exit code 1." with its own index
/// (which counts setup commands); the page names the command instead and links to where its log starts.
/// </summary>
/// <param name="Command">The command that failed, or null when the error is not about one command.</param>
/// <param name="ExitCode">Its exit code, when the error is an exit code.</param>
/// <param name="Message">The runner's message, shown as it is when no command is named.</param>
public sealed partial record JobFailure(CommandRow? Command, int? ExitCode, string Message)
{
    /// <summary>How much of a long command the banner shows.</summary>
    public const int MaxCommandChars = 120;

    [GeneratedRegex(@"^Command (\d+) failed with exit code (-?\d+)\.?$")]
    private static partial Regex ExitCodeMessage();

    [GeneratedRegex(@"^The shell exited during command (\d+)\b")]
    private static partial Regex ShellExitedMessage();

    /// <summary>Reads the job's error against its commands; null when the job has no error.</summary>
    public static JobFailure? Of(JobRow job, IReadOnlyList<CommandRow> commands)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(commands);
        if (job.Error is not { Length: > 0 } error) return null;
        if (ExitCodeMessage().Match(error) is { Success: true } exit)
        {
            var idx = int.Parse(exit.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
            var code = int.Parse(exit.Groups[2].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
            return new(commands.FirstOrDefault(c => c.Idx == idx), code, error);
        }
        if (ShellExitedMessage().Match(error) is { Success: true } shell)
        {
            var idx = int.Parse(shell.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
            return new(commands.FirstOrDefault(c => c.Idx == idx), null, error);
        }
        return new(null, null, error);
    }

    /// <summary>The command as the banner names it: its first line, shortened when long.</summary>
    public string? CommandText
    {
        get
        {
            if (Command is null) return null;
            var text = Command.Text.Trim();
            var newline = text.IndexOf('\n');
            var first = newline < 0 ? text : text[..newline].TrimEnd() + " …";
            return first.Length <= MaxCommandChars ? first : first[..(MaxCommandChars - 1)] + "…";
        }
    }

    /// <summary>What the banner says after the command's name.</summary>
    public string Outcome => ExitCode is { } code
        ? $"failed with exit code {code}."
        : "ended the shell; the commands after it needed that shell.";

    /// <summary>
    /// The number of the first log line of command <paramref name="idx"/> (what the log viewer's <c>#L</c> links
    /// address), or null when it printed nothing. Read from the log's outline (its line index), never from the log itself.
    /// </summary>
    public static int? FirstLine(ILogOutline outline, int idx)
    {
        ArgumentNullException.ThrowIfNull(outline);
        return outline.Section(LogSectionKind.Command, idx) is { Count: > 0 } section ? section.NumberAt(0) : null;
    }
}
