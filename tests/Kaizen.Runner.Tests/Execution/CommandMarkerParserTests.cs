using System.Text;
using Kaizen.Runner.Execution;

namespace Kaizen.Runner.Tests.Execution;

public sealed class CommandMarkerParserTests
{
    private const string Prefix = "##kz-0123:";

    /// <summary>Feeds <paramref name="stream"/> in pieces of <paramref name="pieceSize"/>; returns each command's output and exit code.</summary>
    private static List<(string Output, int ExitCode)> Parse(byte[] stream, int pieceSize)
    {
        var parser = new CommandMarkerParser(Encoding.ASCII.GetBytes(Prefix));
        var commands = new List<(string, int)>();
        var current = new MemoryStream();
        var position = 0;
        var end = 0;
        while (position < stream.Length)
        {
            if (position == end)
            {
                end = Math.Min(stream.Length, position + pieceSize);
            }

            var result = parser.Feed(stream.AsSpan(position, end - position));
            current.Write(parser.Pattern.Span[..result.Replay]);
            current.Write(stream.AsSpan(position, result.OutputLength));
            position += result.Consumed;
            if (result.Completed)
            {
                commands.Add((Encoding.Latin1.GetString(current.ToArray()), result.ExitCode));
                current.SetLength(0);
            }
        }

        current.Write(parser.Pattern.Span[..parser.PendingLength]);
        commands.Add((Encoding.Latin1.GetString(current.ToArray()), -1));
        return commands;
    }

    public static TheoryData<string, string[]> Streams => new()
    {
        { "hello\n##kz-0123:0\n", ["hello|0", "|-1"] },
        { "hello\n\n##kz-0123:17\nnext\n##kz-0123:255\ntail", ["hello\n|17", "next|255", "tail|-1"] },
        { "\n##kz-0123:3\n", ["|3", "|-1"] },
        { "a\n##kz-012\n##kz-0123:1\n", ["a\n##kz-012|1", "|-1"] },
        { "\n##kz-9999:0\n\n##kz\n##kz-0123:2\n", ["\n##kz-9999:0\n\n##kz|2", "|-1"] },
        { "no marker at all\n##kz-01", ["no marker at all\n##kz-01|-1"] },
        { "\n\n\n##kz-0123:0\n", ["\n\n|0", "|-1"] },
        { "x##kz-0123:0\n\n##kz-0123:4\n", ["x##kz-0123:0\n|4", "|-1"] },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public void The_marker_is_found_whatever_the_read_boundaries(string stream, string[] expected)
    {
        var bytes = Encoding.Latin1.GetBytes(stream);
        for (var pieceSize = 1; pieceSize <= bytes.Length; pieceSize++)
        {
            var commands = Parse(bytes, pieceSize).Select(c => $"{c.Output}|{c.ExitCode}");

            Assert.Equal(expected, commands);
        }
    }

    [Fact]
    public void A_prefix_with_a_newline_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new CommandMarkerParser("a\nb"u8));
    }
}
