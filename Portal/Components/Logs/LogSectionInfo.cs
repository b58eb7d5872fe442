using Kaizen.Portal.Builds;
using Kaizen.Portal.Logs;

namespace Kaizen.Portal.Components.Logs;

/// <summary>
/// What a section header shows: a command (text, phase, status, duration, exit code) or job-level output, plus its
/// lines (null when it printed nothing yet). A shared script is a section with <see cref="Script"/> (<c>name@version</c>)
/// and <see cref="HasSteps"/>, followed by its top-level commands, each a section with <see cref="Parent"/> set.
/// </summary>
public sealed record LogSectionInfo(
    string Key,
    LogSectionKind Kind,
    string Title,
    string? Phase,
    string? Status,
    long? DurationMs,
    int? ExitCode,
    long? StartedAt,
    ILogSectionLines? Lines,
    int? Parent = null,
    string? Script = null,
    bool HasSteps = false)
{
    public int LineCount => Lines?.Count ?? 0;

    public const string PrepareKey = "prepare";
    public const string CompleteKey = "complete";

    public static string CommandKey(int idx) => $"command-{idx}";

    /// <summary>
    /// The sections of a job in reading order: "Prepare job", one per command (with or without output), and
    /// "Complete job" when there was job-level output after the commands began.
    /// </summary>
    public static IReadOnlyList<LogSectionInfo> Build(JobRow job, IReadOnlyList<CommandRow> commands, ILogOutline document, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(document);
        var result = new List<LogSectionInfo>(commands.Count + 2);
        var finished = Builds.Status.IsFinished(job.Status);
        var firstStart = commands.Where(c => c.StartedAt is not null).Select(c => c.StartedAt).Min();
        var prepareStatus = (firstStart, finished, job.Status) switch
        {
            (not null, _, _) => Builds.Status.Passed,
            (null, true, _) => job.Status,
            (null, false, Builds.Status.Running) => Builds.Status.Running,
            _ => Builds.Status.Pending,
        };
        long? prepareMs = job.StartedAt is { } js
            ? (firstStart ?? (finished ? job.FinishedAt : nowMs)) - js
            : null;
        result.Add(new(PrepareKey, LogSectionKind.Prepare, "Prepare job", null, prepareStatus,
            prepareMs is { } p ? Math.Max(0, p) : null, null, job.StartedAt, document.Section(LogSectionKind.Prepare)));

        var known = new HashSet<int>();
        foreach (var c in commands.OrderBy(c => c.Idx))
        {
            known.Add(c.Idx);
            var duration = c.DurationMs ?? (c.Status == Builds.Status.Running && c.StartedAt is { } s ? Math.Max(0, nowMs - s) : null);
            result.Add(new(CommandKey(c.Idx), LogSectionKind.Command, c.Text, c.Phase, c.Status, duration, c.ExitCode, c.StartedAt,
                document.Section(LogSectionKind.Command, c.Idx), c.ParentIdx,
                c.ScriptName is { } script ? $"{script}@{c.ScriptVersion}" : null,
                commands.Any(step => step.ParentIdx == c.Idx)));
        }
        // Output of a command the page does not know yet (its start event is on the way): show it anyway.
        foreach (var s in document.Sections.Where(s => s.Kind == LogSectionKind.Command && !known.Contains(s.CommandIdx!.Value)))
            result.Add(new(CommandKey(s.CommandIdx!.Value), LogSectionKind.Command, $"Command {s.CommandIdx + 1}", null, null, null, null, null, s));

        if (document.Section(LogSectionKind.Complete) is { } complete)
            result.Add(new(CompleteKey, LogSectionKind.Complete, "Complete job", null, finished ? job.Status : null, null, null, null, complete));
        return result;
    }

    /// <summary>
    /// Which sections start open: while the job runs, the one running now (a shared script's step with its script's
    /// section); when it finished, the failed (or canceled) ones, or the last one with output if the job failed outside
    /// any command; a passed job starts closed. (A page that showed a section open keeps it open: see the viewer.)
    /// </summary>
    public static bool OpenByDefault(LogSectionInfo section, IReadOnlyList<LogSectionInfo> all, string jobStatus)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(all);
        if (jobStatus == Builds.Status.Running)
        {
            var current = all.LastOrDefault(s => s.Status == Builds.Status.Running)
                ?? all.LastOrDefault(s => s.Kind != LogSectionKind.Prepare && s.StartedAt is not null)
                ?? all[0];
            if (ReferenceEquals(section, current)) return true;
            // The script a running step belongs to stays open around it.
            return current.Parent is { } parent && section.Kind == LogSectionKind.Command && section.Key == CommandKey(parent);
        }
        if (!Builds.Status.IsFinished(jobStatus) || jobStatus == Builds.Status.Passed) return false;
        var failing = all.Where(s => s.Status is Builds.Status.Failed or Builds.Status.Canceled && s.Kind != LogSectionKind.Complete).ToList();
        if (failing.Count > 0) return failing.Contains(section);
        return ReferenceEquals(section, all.LastOrDefault(s => s.LineCount > 0));
    }
}
