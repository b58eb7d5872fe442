using System.Text;

namespace Kaizen.Portal.Tests.Data;

public sealed class LogStoreTests
{
    private static readonly byte[] E = Encoding.UTF8.GetBytes("é");       // C3 A9
    private static readonly byte[] Smile = Encoding.UTF8.GetBytes("😀");  // F0 9F 98 80

    public static TheoryData<string, string, byte[][]> Cases => new()
    {
        { "Sqlite", "é", [[E[0]], [E[1]]] },
        { "SqlServer", "é", [[E[0]], [E[1]]] },
        { "Sqlite", "a😀b", [[(byte)'a', Smile[0]], [Smile[1]], [Smile[2], Smile[3], (byte)'b']] },
        { "Sqlite", "f\uFFFDg", [[(byte)'f', 0xFF, (byte)'g']] },
        { "SqlServer", "f\uFFFDg", [[(byte)'f', 0xFF, (byte)'g']] },
        { "Sqlite", "x\uFFFDA", [[(byte)'x', E[0]], [(byte)'A']] },
        { "Sqlite", "end\uFFFD", [[(byte)'e', (byte)'n', (byte)'d', E[0]]] },
    };

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public async Task Log_text_is_valid_UTF8_even_when_characters_are_split_across_chunks(string provider, string expected, byte[][] chunks)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var (jobId, _) = await RunningJobWithOutputAsync(test, chunks);

        // Act
        var text = await test.LogTextAsync(jobId);

        // Assert
        Assert.Equal(expected, text);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_character_on_the_boundary_inside_a_large_chunk_is_kept(string provider)
    {
        // Arrange: the log is decoded 32 KiB at a time, so put "é" across each 32 KiB mark.
        await using var test = await TestDatabase.CreateAsync(provider);
        var text = new StringBuilder();
        for (var i = 0; i < 4; i++) text.Append('a', 32 * 1024 - (i == 0 ? 1 : 2)).Append('é');
        var (jobId, _) = await RunningJobWithOutputAsync(test, [Encoding.UTF8.GetBytes(text.ToString())]);

        // Act
        var log = await test.LogTextAsync(jobId);

        // Assert
        Assert.Equal(text.ToString(), log);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Chunks_after_a_sequence_number_are_returned_in_order(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var (jobId, lease) = await RunningJobWithOutputAsync(test, [[(byte)'1']]);
        var job = (await test.Builds.FindJobAsync(jobId))!;
        await test.Runners.ApplyStreamAsync(job.RunnerId!.Value, jobId, lease, 2, TestDatabase.Output("2", "3"), TestDatabase.LeaseSeconds);

        // Act
        var chunks = await test.Logs.ChunksAfterAsync(jobId, 1, CancellationToken.None);

        // Assert
        Assert.Equal([(2L, 0, "2"), (2L, 1, "3")], chunks.Select(c => (c.Seq, c.Part, Encoding.UTF8.GetString(c.Data))));
    }

    /// <summary>A running job whose first stream batch holds <paramref name="chunks"/> as its parts.</summary>
    private static async Task<(long JobId, string Lease)> RunningJobWithOutputAsync(TestDatabase test, byte[][] chunks)
    {
        var projectId = await test.CreateProjectAsync("shop");
        await test.CreateBuildAsync(projectId, TestDatabase.OneJob());
        var runnerId = await test.RegisterRunnerAsync("r1");
        var job = (await test.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds))!;
        await test.Runners.ApplyStreamAsync(runnerId, job.JobId, job.LeaseToken, 1, TestDatabase.Output(chunks), TestDatabase.LeaseSeconds);
        return (job.JobId, job.LeaseToken!);
    }
}
