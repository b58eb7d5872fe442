using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Components.Pipelines;

/// <summary>A block of a build as the graph draws it: its jobs (in the order they were planned), the blocks it needs,
/// its column (how deep it sits in the dependencies) and where its box is drawn.</summary>
public sealed record GraphBlock(string? Name, IReadOnlyList<JobRow> Jobs, IReadOnlyList<string> Needs, int Column, int Row)
{
    /// <summary>What the box is called: the block's name, or "Jobs" for the one block of flat settings.</summary>
    public string Title => Name ?? "Jobs";

    /// <summary>The block's status, as a build's is from its jobs; skipped when none of its jobs ran.</summary>
    public string Status => Jobs.All(j => j.Status == Kaizen.Portal.Builds.Status.Skipped) ? Kaizen.Portal.Builds.Status.Skipped
        : Kaizen.Portal.Builds.Status.Combine(Jobs.Select(j => j.Status).ToList());

    public double X { get; init; }
    public double Y { get; init; }
    public double Height { get; init; }

    /// <summary>How many jobs the box lists (the rest are counted); all when the block is small or opened.</summary>
    public int Shown { get; init; }
}

/// <summary>A line from a block to a block that needs it.</summary>
public sealed record GraphEdge(string From, string To, string Path);

/// <summary>
/// Lays a build's jobs out as a graph: one box per block, in columns by dependency depth (a block with no needs in the
/// first column, a block one column right of the deepest block it needs), lines from each block to those needing it.
/// Boxes have fixed row heights, so positions are known without measuring the page: the server draws the lines.
/// </summary>
public sealed class PipelineLayout
{
    public const double ColumnWidth = 260;
    public const double ColumnGap = 56;
    public const double RowGap = 20;
    public const double HeaderHeight = 40;
    public const double JobHeight = 46;
    public const double MoreHeight = 40;
    public const double Padding = 8;

    public IReadOnlyList<GraphBlock> Blocks { get; }
    public IReadOnlyList<GraphEdge> Edges { get; }
    public int Columns { get; }
    public double Width { get; }
    public double Height { get; }

    private PipelineLayout(IReadOnlyList<GraphBlock> blocks, IReadOnlyList<GraphEdge> edges, int columns, double width, double height) =>
        (Blocks, Edges, Columns, Width, Height) = (blocks, edges, columns, width, height);

    /// <param name="jobs">The build's jobs.</param>
    /// <param name="maxShown">Above this many jobs a block lists that many and counts the rest.</param>
    /// <param name="opened">Blocks (by title) that list all their jobs whatever their size.</param>
    public static PipelineLayout Of(IReadOnlyList<JobRow> jobs, int maxShown, IReadOnlySet<string>? opened = null)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var groups = jobs.OrderBy(j => j.Position).GroupBy(j => j.Block).ToList();
        var needs = groups.ToDictionary(g => g.Key ?? "", g => (IReadOnlyList<string>)g.SelectMany(j => j.NeedsList).Distinct().ToList());
        var depth = new Dictionary<string, int>();
        int DepthOf(string name, int guard)
        {
            if (depth.TryGetValue(name, out var known)) return known;
            // Settings are checked for cycles when saved; the guard keeps a bad row from looping the page.
            var d = guard > groups.Count ? 0
                : needs.GetValueOrDefault(name, []).Where(needs.ContainsKey).Select(n => DepthOf(n, guard + 1) + 1).DefaultIfEmpty(0).Max();
            return depth[name] = d;
        }

        var blocks = new List<GraphBlock>();
        var columnHeights = new Dictionary<int, double>();
        var rows = new Dictionary<int, int>();
        foreach (var group in groups)
        {
            var key = group.Key ?? "";
            var column = DepthOf(key, 0);
            var list = group.ToList();
            var title = group.Key ?? "Jobs";
            var shown = list.Count > maxShown && opened?.Contains(title) != true ? maxShown : list.Count;
            var height = HeaderHeight + shown * JobHeight + (shown < list.Count ? MoreHeight : 0) + Padding * 2;
            var y = columnHeights.GetValueOrDefault(column);
            var row = rows.GetValueOrDefault(column);
            rows[column] = row + 1;
            columnHeights[column] = y + height + RowGap;
            blocks.Add(new GraphBlock(group.Key, list, needs[key], column, row)
            {
                X = column * (ColumnWidth + ColumnGap), Y = y, Height = height, Shown = shown,
            });
        }

        var byName = blocks.ToDictionary(b => b.Name ?? "");
        var edges = new List<GraphEdge>();
        foreach (var block in blocks)
        {
            foreach (var need in block.Needs)
            {
                if (!byName.TryGetValue(need, out var from)) continue;
                double x1 = from.X + ColumnWidth, y1 = from.Y + HeaderHeight / 2, x2 = block.X, y2 = block.Y + HeaderHeight / 2;
                var bend = Math.Max(ColumnGap / 2, (x2 - x1) / 2);
                edges.Add(new GraphEdge(need, block.Title, FormattableString.Invariant(
                    $"M {x1:0.#} {y1:0.#} C {x1 + bend:0.#} {y1:0.#}, {x2 - bend:0.#} {y2:0.#}, {x2:0.#} {y2:0.#}")));
            }
        }
        var columns = blocks.Count == 0 ? 0 : blocks.Max(b => b.Column) + 1;
        return new PipelineLayout(blocks, edges, columns,
            Math.Max(0, columns * (ColumnWidth + ColumnGap) - ColumnGap),
            columnHeights.Count == 0 ? 0 : columnHeights.Values.Max() - RowGap);
    }

    /// <summary>The jobs a box lists when it counts the rest: those that need a look first (failed, running), then in order.</summary>
    public static IReadOnlyList<JobRow> ShownJobs(GraphBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Shown >= block.Jobs.Count) return block.Jobs;
        return block.Jobs.OrderBy(j => j.Status switch { Status.Failed => 0, Status.Running => 1, _ => 2 }).ThenBy(j => j.Position)
            .Take(block.Shown).ToList();
    }

    /// <summary>"488 more: 480 passed, 8 running" for the jobs a box does not list.</summary>
    public static string MoreText(GraphBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var shown = ShownJobs(block).Select(j => j.Id).ToHashSet();
        var rest = block.Jobs.Where(j => !shown.Contains(j.Id)).ToList();
        var counts = rest.GroupBy(j => j.Status).OrderByDescending(g => g.Count())
            .Select(g => $"{g.Count()} {Shared.StatusChip.Word(g.Key)}");
        return $"{rest.Count} more: {string.Join(", ", counts)}";
    }
}
