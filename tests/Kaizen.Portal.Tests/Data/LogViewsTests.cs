using System.Text;
using Dapper;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Logs;
using Kaizen.Portal.Tests.Components.Logs;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Data;

/// <summary>The paged log views over a real database: windows and search read from the stored chunks give what the
/// whole-document parse gives, a running job's index grows, and viewers share one index.</summary>
public sealed class LogViewsTests
{
    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Windows_read_from_the_database_are_the_lines_of_the_whole_log(string provider)
    {
        // Arrange: a few thousand lines of tricky output, so there are many checkpoints.
        await using var test = await TestDatabase.CreateAsync(provider);
        var jobId = await JobAsync(test);
        var chunks = Enumerable.Range(0, 30).SelectMany(i => LogPagingTests.RandomLog(new Random(i), 200)).ToList();
        chunks = Renumber(chunks);
        await StoreAsync(test, jobId, chunks);
        var whole = new LogDocument(fastPath: false);
        whole.Append(chunks);
        using var views = Views(test);

        // Act
        var view = await views.OpenAsync(jobId, CancellationToken.None);
        var numbers = Enumerable.Range(1, view.Outline.LastNumber).ToList();
        var read = new List<LogLine>();
        foreach (var window in numbers.Chunk(137)) read.AddRange((await view.ReadAsync(window, CancellationToken.None)).Values.OrderBy(l => l.Number));

        // Assert
        Assert.True(view.Outline.CheckpointCount > 3, $"{view.Outline.CheckpointCount} checkpoints");
        Assert.Equal(whole.Sections.Select(s => (s.Kind, s.CommandIdx, s.Count)), view.Sections.Select(s => (s.Kind, s.CommandIdx, s.Count)));
        var expected = whole.Sections.SelectMany(s => Enumerable.Range(0, s.Count).Select(k => s[k])).OrderBy(l => l.Number).Select(LogPagingTests.Describe);
        Assert.Equal(expected, read.Select(LogPagingTests.Describe));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    public async Task Search_scans_the_stored_log_and_stops_at_its_limit(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var jobId = await JobAsync(test);
        var text = string.Concat(Enumerable.Range(1, 20_000).Select(i => i % 7 == 0 ? $"\u001b[31mERR\u001b[0mOR at {i}\n" : $"line {i}\n"));
        await StoreAsync(test, jobId, Split(text, 4096, command: 0));
        using var views = Views(test);
        var view = await views.OpenAsync(jobId, CancellationToken.None);

        // Act
        var all = await view.SearchAsync("error at", 1, 10_000, CancellationToken.None);
        var first = await view.SearchAsync("error at", 1, 100, CancellationToken.None);
        var later = await view.SearchAsync("ERROR AT 19", 15_000, 100, CancellationToken.None);

        // Assert: colour codes inside the word do not hide it; the limit says there were more.
        Assert.Equal(Enumerable.Range(1, 20_000).Where(i => i % 7 == 0).ToList(), all.Numbers);
        Assert.False(all.Truncated);
        Assert.Equal(all.Numbers.Take(100), first.Numbers);
        Assert.True(first.Truncated);
        Assert.All(later.Numbers, n => Assert.InRange(n, 19_000, 19_999));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    public async Task A_running_jobs_index_grows_with_its_output_and_keeps_line_numbers(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var jobId = await JobAsync(test);
        using var views = Views(test);
        await StoreAsync(test, jobId, [new LogChunkRow { Seq = 1, CommandIdx = null, Data = "clone\n"u8.ToArray() }, new LogChunkRow { Seq = 2, CommandIdx = 0, Data = "test 1 ok\nrunning t"u8.ToArray() }]);

        // Act
        var early = await views.OpenAsync(jobId, CancellationToken.None);
        var earlyTail = (await early.ReadAsync([3], CancellationToken.None))[3];
        var same = await views.OpenAsync(jobId, CancellationToken.None);
        await StoreAsync(test, jobId, [new LogChunkRow { Seq = 3, CommandIdx = 0, Data = "est 2\n\u001b[32mok\u001b[0m\n"u8.ToArray() }]);
        var later = await views.OpenAsync(jobId, CancellationToken.None);
        var lines = await later.ReadAsync([1, 2, 3, 4], CancellationToken.None);

        // Assert
        Assert.Same(early, same);
        Assert.Equal("running t", earlyTail.Text);
        Assert.Equal(3, early.Outline.LastNumber);
        Assert.Equal(["clone", "test 1 ok", "running test 2", "ok"], lines.Values.OrderBy(l => l.Number).Select(l => l.Text));
        Assert.Equal([2, 3, 4], Enumerable.Range(0, later.Sections[1].Count).Select(later.Sections[1].NumberAt));
        Assert.Equal(2, lines[4].Segments[0].Style.Foreground);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    public async Task Viewers_of_one_log_share_its_index_and_windows_within_the_budget(string provider)
    {
        // Arrange: about 6 MB of log in a 2 MB budget.
        await using var test = await TestDatabase.CreateAsync(provider);
        var jobId = await JobAsync(test);
        var text = string.Concat(Enumerable.Range(1, 60_000).Select(i => $"{i:000000} the quick brown fox jumps over the lazy dog, step {i} of 60000\n"));
        await StoreAsync(test, jobId, Split(text, 256 * 1024, command: 0));
        using var views = new LogViews(test.Logs, Options.Create(new KaizenOptions { Logs = { CacheMegabytes = 2 } }));

        // Act: ten viewers open it and read all of it, window by window.
        var opened = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => views.OpenAsync(jobId, CancellationToken.None)));
        foreach (var view in opened)
            foreach (var window in Enumerable.Range(1, 60_000).Chunk(600))
                Assert.Equal(window.Length, (await view.ReadAsync(window, CancellationToken.None)).Count);

        // Assert
        Assert.All(opened, v => Assert.Same(opened[0].Outline, v.Outline));
        Assert.InRange(views.CachedBytes, 1, 2 * 1024 * 1024);
    }

    private static LogViews Views(TestDatabase test) => new(test.Logs, Options.Create(new KaizenOptions()));

    private static async Task<long> JobAsync(TestDatabase test)
    {
        var projectId = await test.CreateProjectAsync("shop");
        var buildId = await test.CreateBuildAsync(projectId, TestDatabase.OneJob());
        return (await test.Builds.JobsAsync(buildId)).Single().Id;
    }

    private static List<LogChunkRow> Renumber(List<LogChunkRow> chunks)
    {
        // Pieces of several random logs: give them one increasing (seq, part) order.
        var result = new List<LogChunkRow>();
        long seq = 0;
        LogChunkRow? previous = null;
        foreach (var c in chunks)
        {
            var samePart = previous is not null && c.Part > 0 && c.Part == previous.Part + 1;
            if (!samePart) seq++;
            result.Add(new LogChunkRow { Seq = seq, Part = samePart ? c.Part : 0, CommandIdx = c.CommandIdx, Data = c.Data });
            previous = result[^1];
        }
        return result;
    }

    private static List<LogChunkRow> Split(string text, int size, int? command) =>
        Encoding.UTF8.GetBytes(text).Chunk(size).Select((d, i) => new LogChunkRow { Seq = i + 1, CommandIdx = command, Data = d }).ToList();

    private static async Task StoreAsync(TestDatabase test, long jobId, IEnumerable<LogChunkRow> chunks)
    {
        await using var c = await test.Database.OpenAsync();
        foreach (var chunk in chunks)
            await c.ExecuteAsync("INSERT INTO log_chunks (job_id, seq, part, command_idx, data) VALUES (@JobId, @Seq, @Part, @CommandIdx, @Data)",
                new { JobId = jobId, chunk.Seq, chunk.Part, chunk.CommandIdx, chunk.Data });
    }
}
