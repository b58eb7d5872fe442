using System.Diagnostics;
using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Logs;

namespace Kaizen.Portal.Tests.Components.Logs;

public sealed class LogDocumentTests
{
    private static LogChunkRow Chunk(long seq, int? command, string text) =>
        new() { Seq = seq, CommandIdx = command, Data = Encoding.UTF8.GetBytes(text) };

    [Fact]
    public void Job_level_output_before_commands_is_the_prepare_section_and_after_them_the_complete_section()
    {
        var doc = new LogDocument();

        doc.Append([Chunk(1, null, "checkout\n"), Chunk(2, 0, "one\ntwo\n"), Chunk(3, 1, "three\n"), Chunk(4, null, "runner note\n")]);

        Assert.Equal(["checkout"], Texts(doc.Section(LogSectionKind.Prepare)!));
        Assert.Equal(["one", "two"], Texts(doc.Section(LogSectionKind.Command, 0)!));
        Assert.Equal(["three"], Texts(doc.Section(LogSectionKind.Command, 1)!));
        Assert.Equal(["runner note"], Texts(doc.Section(LogSectionKind.Complete)!));
        Assert.Equal(5, doc.LineCount);
        Assert.Equal(4, doc.LastSeq);
    }

    [Fact]
    public void Lines_and_characters_split_across_chunks_are_joined()
    {
        var doc = new LogDocument();
        var euro = Encoding.UTF8.GetBytes("€");

        doc.Append([Chunk(1, 0, "hel")]);
        Assert.Equal("hel", doc.Section(LogSectionKind.Command, 0)!.Tail!.Text);
        doc.Append([new LogChunkRow { Seq = 2, CommandIdx = 0, Data = [(byte)'l', (byte)'o', euro[0]] }]);
        doc.Append([new LogChunkRow { Seq = 3, CommandIdx = 0, Data = [euro[1], euro[2], (byte)'\n'] }]);

        var section = doc.Section(LogSectionKind.Command, 0)!;
        Assert.Equal(["hello€"], Texts(section));
        Assert.Null(section.Tail);
        Assert.Equal(1, section[0].Number);
    }

    [Fact]
    public void Chunks_already_read_are_ignored()
    {
        var doc = new LogDocument();

        doc.Append([Chunk(1, 0, "a\n"), Chunk(2, 0, "b\n")]);
        doc.Append([Chunk(2, 0, "b\n"), Chunk(3, 0, "c\n")]);

        Assert.Equal(["a", "b", "c"], Texts(doc.Section(LogSectionKind.Command, 0)!));
    }

    [Fact]
    public void A_very_long_line_is_truncated_and_says_how_much_was_dropped()
    {
        var doc = new LogDocument(maxLineChars: 100);

        doc.Append([Chunk(1, 0, new string('x', 150)), Chunk(2, 0, new string('y', 50) + "\nnext\n")]);

        var section = doc.Section(LogSectionKind.Command, 0)!;
        Assert.Equal(100, section[0].Text.Length);
        Assert.Equal(100, section[0].DroppedChars);
        Assert.Equal("next", section[1].Text);
    }

    [Fact]
    public void A_long_progress_bar_keeps_its_last_redraw()
    {
        var doc = new LogDocument(maxLineChars: 100);
        var redraws = string.Concat(Enumerable.Range(0, 100).Select(i => $"\r{i,3}% [{new string('#', i / 10),-10}]"));

        doc.Append([Chunk(1, 0, redraws + "\n")]);

        Assert.Equal(" 99% [######### ]", doc.Section(LogSectionKind.Command, 0)![0].Text);
    }

    [Fact]
    public void Invalid_utf8_becomes_replacement_characters()
    {
        var doc = new LogDocument();

        doc.Append([new LogChunkRow { Seq = 1, CommandIdx = 0, Data = [(byte)'a', 0xFF, (byte)'b', (byte)'\n'] }]);

        Assert.Equal("a\uFFFDb", doc.Section(LogSectionKind.Command, 0)![0].Text);
    }

    [Fact]
    public void A_log_of_100000_lines_builds_quickly()
    {
        var text = string.Concat(Enumerable.Range(1, 100_000).Select(i => i % 10 == 0 ? $"\u001b[32m{i}\u001b[0m\n" : $"{i}\n"));
        var bytes = Encoding.UTF8.GetBytes(text);
        var chunks = bytes.Chunk(64 * 1024).Select((data, i) => new LogChunkRow { Seq = i + 1, CommandIdx = 0, Data = data }).ToList();
        var watch = Stopwatch.StartNew();

        var doc = new LogDocument();
        doc.Append(chunks);

        watch.Stop();
        Assert.Equal(100_000, doc.LineCount);
        Assert.Equal("100000", doc.Section(LogSectionKind.Command, 0)![99_999].Text);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    private static List<string> Texts(LogSection section) => Enumerable.Range(0, section.Count).Select(i => section[i].Text).ToList();
}
