using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Logs;

namespace Kaizen.Portal.Tests.Components.Logs;

/// <summary>
/// The paged reader against the whole-document parse: the index (sections, line numbers, tail) and lines read by
/// resuming at checkpoints must be exactly what reading the whole log from the start gives, on tricky logs.
/// </summary>
public sealed class LogPagingTests
{
    private const int MaxLine = 40;

    public static TheoryData<string> Named => [.. NamedLogs.Keys];

    private static readonly byte[] Euro = Encoding.UTF8.GetBytes("€");
    private static readonly byte[] Smile = Encoding.UTF8.GetBytes("😀");

    private static readonly Dictionary<string, (int? Command, byte[] Data)[]> NamedLogs = new()
    {
        ["a multi-byte character split across chunks"] =
            [(0, [.. "price "u8, Euro[0]]), (0, [Euro[1]]), (0, [Euro[2], .. " and "u8, Smile[0], Smile[1]]), (0, [Smile[2], Smile[3], (byte)'\n'])],
        ["a character cut off by the next section"] = [(0, [.. "cut "u8, Euro[0], Euro[1]]), (1, "next\n"u8.ToArray()), (0, "back\n"u8.ToArray())],
        ["invalid bytes"] = [(0, [(byte)'a', 0xFF, 0xC3, (byte)'\n', 0xE2, 0x82, (byte)'b', (byte)'\n', 0x80, 0x80])],
        ["a colour spanning lines and chunks"] =
            [(0, "\u001b[3"u8.ToArray()), (0, "1mred\nstill red\n\u001b[1mbold"u8.ToArray()), (0, " red\n\u001b[0mplain\n"u8.ToArray())],
        ["a one-character CSI"] = [(0, [0xC2, 0x9B, .. "32mgreen\nstill green\n"u8])],
        ["long lines"] = [(0, Encoding.UTF8.GetBytes(new string('x', 100) + "\n" + new string('y', 30))), (0, Encoding.UTF8.GetBytes(new string('z', 30) + "\nshort\n"))],
        ["a long line of multi-byte characters"] = [(0, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("€😀", 30)) + "\n"))],
        ["carriage-return progress bars"] =
            [(0, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 30).Select(i => $"\r{i,3}% [{new string('#', i / 3),-10}]")))),
             (0, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(30, 70).Select(i => $"\r{i,3}% [{new string('#', i / 10),-10}]")) + "\ndone\n"))],
        ["interleaved sections"] =
            [(null, "clone\npartial"u8.ToArray()), (0, "one\n"u8.ToArray()), (null, "note\n"u8.ToArray()), (0, "two\nthree"u8.ToArray()),
             (1, "other\n"u8.ToArray()), (0, "four\n"u8.ToArray()), (null, "lost\n"u8.ToArray())],
        ["a growing tail"] = [(0, "line\nrunn"u8.ToArray()), (0, "ing \u001b[32mtests"u8.ToArray())],
        ["CRLF and empty lines"] = [(0, "a\r\n\r\n\n\nb\r\n"u8.ToArray())],
    };

    [Theory]
    [MemberData(nameof(Named))]
    public void Tricky_logs_read_the_same_paged_as_whole(string name) => AssertSameAsWhole(Chunks(NamedLogs[name]));

    [Fact]
    public void Random_logs_read_the_same_paged_as_whole()
    {
        for (var seed = 0; seed < 300; seed++)
        {
            var chunks = RandomLog(new Random(seed));
            try
            {
                AssertSameAsWhole(chunks);
            }
            catch (Exception e) when (e is Xunit.Sdk.XunitException)
            {
                throw new InvalidOperationException($"Random log {seed} reads differently: {e.Message}", e);
            }
        }
    }

    [Fact]
    public void The_index_grows_as_chunks_arrive_and_keeps_its_line_numbers()
    {
        var all = RandomLog(new Random(42));
        var index = new LogIndex(MaxLine, checkpointLines: 3);
        var whole = new LogDocument(MaxLine, fastPath: false);
        foreach (var chunk in all)
        {
            index.Append(chunk);
            whole.Append([chunk]);
            AssertOutline(whole, index.Snapshot());
        }
    }

    [Fact]
    public void Old_snapshots_stay_as_they_were_while_the_index_grows()
    {
        var index = new LogIndex(MaxLine, checkpointLines: 1);
        var seq = 0;
        index.Append(new LogChunkRow { Seq = ++seq, CommandIdx = 0, Data = "a\nb\nc"u8.ToArray() });
        var before = index.Snapshot();

        for (var i = 0; i < 100; i++) index.Append(new LogChunkRow { Seq = ++seq, CommandIdx = i % 3, Data = "x\ny\n"u8.ToArray() });

        Assert.Equal(2, before.LineCount);
        Assert.True(before.HasTail);
        Assert.Equal(3, before.Sections.Single().Count);
        Assert.Equal(3, before.CheckpointCount);
        Assert.True(index.Snapshot().LineCount > 200);
    }

    /// <summary>Compares the index's outline and every resumed read with the whole-document parse (no fast path).</summary>
    private static void AssertSameAsWhole(IReadOnlyList<LogChunkRow> chunks)
    {
        var whole = new LogDocument(MaxLine, fastPath: false);
        whole.Append(chunks);
        var fast = new LogDocument(MaxLine);
        fast.Append(chunks);
        Assert.Equal(Lines(whole), Lines(fast));

        var index = new LogIndex(MaxLine, checkpointLines: 1);
        foreach (var c in chunks) index.Append(c);
        var outline = index.Snapshot();
        AssertOutline(whole, outline);

        // Resume at every checkpoint (every line start) and read to the end: the same lines as from the start.
        var expected = Lines(whole);
        for (var k = 0; k < outline.CheckpointCount; k++)
        {
            var from = outline.Checkpoint(k);
            var read = Resume(chunks, from, MaxLine);
            Assert.Equal(expected.Where(l => Number(l) >= from.Line), read);
        }
    }

    private static void AssertOutline(LogDocument whole, LogOutline outline)
    {
        Assert.Equal(whole.LineCount, outline.LineCount);
        Assert.Equal(
            whole.Sections.Select(s => (s.Kind, s.CommandIdx, Numbers(s))),
            outline.Sections.Select(s => (s.Kind, s.CommandIdx, Numbers(s))));
        foreach (var s in outline.Sections)
            for (var k = 0; k < s.Count; k++)
                Assert.Equal(k, s.IndexOf(s.NumberAt(k)));
    }

    private static List<string> Resume(IReadOnlyList<LogChunkRow> chunks, LogCheckpoint from, int maxLine)
    {
        var sink = new ListSink();
        var cutter = new LogCutter(sink, materialize: true, maxLine, from);
        foreach (var c in chunks)
        {
            if (c.Seq < from.Position.Seq || c.Seq == from.Position.Seq && c.Part < from.Position.Part) continue;
            var offset = c.Seq == from.Position.Seq && c.Part == from.Position.Part ? from.Position.Offset : 0;
            cutter.Append(c.Seq, c.Part, c.CommandIdx, c.Data, offset);
        }
        if (cutter.Tail() is { } tail) sink.Lines.Add(Describe(tail));
        return sink.Lines;
    }

    private sealed class ListSink : LogCutter.ISink
    {
        public readonly List<string> Lines = [];
        public void Line(LogSectionKey section, int number, LogLine? line) => Lines.Add(Describe(line!));
        public void SectionOpened(LogSectionKey section) { }
        public void LineStart(LogCutter cutter, LogPosition position) { }
    }

    private static List<int> Numbers(ILogSectionLines s) => Enumerable.Range(0, s.Count).Select(s.NumberAt).ToList();

    /// <summary>Every line of a document in number order, the tail last.</summary>
    private static List<string> Lines(LogDocument doc) =>
        doc.Sections.SelectMany(s => Enumerable.Range(0, s.Count).Select(k => s[k])).OrderBy(l => l.Number).Select(Describe).ToList();

    internal static string Describe(LogLine l) =>
        $"{l.Number}|{l.DroppedChars}|{string.Join("¦", l.Segments.Select(s => $"{s.Text}:{s.Style.Foreground},{s.Style.Background},{s.Style.Flags}"))}";

    private static int Number(string described) => int.Parse(described[..described.IndexOf('|')]);

    private static List<LogChunkRow> Chunks((int? Command, byte[] Data)[] parts) =>
        parts.Select((p, i) => new LogChunkRow { Seq = i + 1, CommandIdx = p.Command, Data = p.Data }).ToList();

    /// <summary>Random output: sections taking turns, ANSI colours, multi-byte and invalid bytes, long lines and progress
    /// bars, cut into chunks at random places (inside characters and escape sequences too), sometimes as parts of one seq.</summary>
    internal static List<LogChunkRow> RandomLog(Random random, int pieces = 60)
    {
        string[] words = ["ok", "FAIL", "é", "€", "😀", "\u001b[31m", "\u001b[1;4m", "\u001b[0m", "\u001b[38;5;208m", "\u009b32m", "\u001b]0;title\u0007",
            "\r", "\r\n", "\n", "\n", "\n", "\t", "\u001b[K", " ", "progress 10%\r", "progress 90%\r"];
        var chunks = new List<LogChunkRow>();
        var seq = 0;
        int? section = null;
        for (var p = 0; p < pieces; p++)
        {
            if (random.Next(6) == 0) section = random.Next(4) switch { 0 => null, var n => n - 1 };
            var text = new StringBuilder();
            var length = random.Next(1, 30);
            for (var w = 0; w < length; w++)
                text.Append(random.Next(25) == 0 ? new string('x', random.Next(20, 120)) : words[random.Next(words.Length)]);
            var bytes = new List<byte>(Encoding.UTF8.GetBytes(text.ToString()));
            if (random.Next(5) == 0) bytes.Insert(random.Next(bytes.Count + 1), (byte)random.Next(0x80, 0x100));
            var data = bytes.ToArray();
            // Cut into 1–3 chunks at random places; the later ones sometimes parts of the same seq.
            var cuts = Enumerable.Range(0, random.Next(0, 3)).Select(_ => random.Next(data.Length + 1)).Append(0).Append(data.Length).Distinct().Order().ToList();
            seq++;
            var part = 0;
            for (var c = 0; c + 1 < cuts.Count; c++)
            {
                if (c > 0 && random.Next(2) == 0)
                {
                    seq++;
                    part = 0;
                }
                chunks.Add(new LogChunkRow { Seq = seq, Part = part++, CommandIdx = section, Data = data[cuts[c]..cuts[c + 1]] });
            }
        }
        return chunks;
    }
}
