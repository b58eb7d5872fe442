using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Shared;
using Microsoft.AspNetCore.Components;

namespace Kaizen.Portal.Components.Pipelines;

/// <summary>
/// A build's jobs drawn as its pipeline: a box per block in columns by dependency depth, lines from each block to the
/// blocks that need it, each job with its status, its time and why it was skipped or waits, linking to its job page. A
/// block with more than <see cref="MaxShown"/> jobs lists that many (failed and running first) and counts the rest, so a
/// 500-job matrix costs the page a few dozen rows until someone opens it. On a phone the boxes stack in one column.
/// </summary>
public partial class PipelineGraph
{
    /// <summary>The build's jobs, as stored (block, needs, status, times, error).</summary>
    [Parameter, EditorRequired] public IReadOnlyList<JobRow> Jobs { get; set; } = [];

    /// <summary>Now, in unix ms, for the time of running jobs (the page ticks it every second).</summary>
    [Parameter] public long Now { get; set; }

    /// <summary>Above this many jobs a block lists this many and counts the rest until opened.</summary>
    [Parameter] public int MaxShown { get; set; } = 8;

    private readonly HashSet<string> _opened = new(StringComparer.Ordinal);

    private PipelineLayout Layout => PipelineLayout.Of(Jobs, MaxShown, _opened);

    private void Toggle(string block)
    {
        if (!_opened.Remove(block)) _opened.Add(block);
    }

    private string Time(JobRow job) => job.StartedAt is null
        ? (job.Status is Status.Skipped ? "did not run" : "not started")
        : Format.Duration(job.StartedAt, job.FinishedAt ?? (job.Status == Status.Running ? Now : null));

    /// <summary>Why a job is as it is, where its status alone does not say: skipped and failed with a reason, waiting.</summary>
    public static string Detail(JobRow job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Status == Status.Waiting) return $"waiting for {string.Join(", ", job.NeedsList)}";
        if (job.Error is { Length: > 0 } error)
        {
            var first = error.Split('\n', 2)[0].Trim();
            return first.StartsWith("skipped: ", StringComparison.Ordinal) ? first["skipped: ".Length..] : first;
        }
        return "";
    }

    /// <summary>A line takes its look from the block it starts at: passed, failed, or still to come.</summary>
    private static string LineStatus(PipelineLayout layout, GraphEdge edge) =>
        layout.Blocks.FirstOrDefault(b => b.Title == edge.From)?.Status switch
        {
            Status.Passed => "passed",
            Status.Failed or Status.Canceled => "failed",
            Status.Running => "running",
            _ => "pending",
        };
}
