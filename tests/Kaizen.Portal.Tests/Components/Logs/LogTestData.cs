using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Logs;
using Kaizen.Portal.Logs;

namespace Kaizen.Portal.Tests.Components.Logs;

/// <summary>Jobs, commands and logs as the page would load them.</summary>
internal static class LogTestData
{
    public static JobRow Job(string status, long id = 7) => new()
    {
        Id = id, BuildId = 3, Name = "test", Status = status, StartedAt = 1_000,
        FinishedAt = Status.IsFinished(status) ? 20_000 : null,
    };

    public static CommandRow Command(int idx, string text, string status, long? durationMs = null, int? exit = null, string phase = "main") => new()
    {
        JobId = 7, Idx = idx, Phase = phase, Text = text, Status = status, StartedAt = 2_000 + idx * 1_000,
        DurationMs = durationMs, ExitCode = exit,
    };

    public static LogDocument Document(params (int? Command, string Text)[] output)
    {
        var doc = new LogDocument();
        var seq = 0;
        doc.Append(output.Select(o => new LogChunkRow { Seq = ++seq, CommandIdx = o.Command, Data = Encoding.UTF8.GetBytes(o.Text) }).ToList());
        return doc;
    }

    public static IReadOnlyList<LogSectionInfo> Sections(JobRow job, IReadOnlyList<CommandRow> commands, LogDocument doc) =>
        LogSectionInfo.Build(job, commands, doc, nowMs: 30_000);
}
