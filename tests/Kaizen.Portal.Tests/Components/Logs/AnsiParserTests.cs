using Kaizen.Portal.Logs;

namespace Kaizen.Portal.Tests.Components.Logs;

public sealed class AnsiParserTests
{
    private static AnsiSegment[] Parse(string line) => new AnsiParser().ParseLine(line);

    [Fact]
    public void Plain_text_is_one_segment_in_the_default_style()
    {
        var segments = Parse("hello world");

        Assert.Equal([new AnsiSegment("hello world", AnsiStyle.Default)], segments);
    }

    [Theory]
    [InlineData("\u001b[31mred", 1, -1)]
    [InlineData("\u001b[32mgreen", 2, -1)]
    [InlineData("\u001b[97mbright white", 15, -1)]
    [InlineData("\u001b[44mon blue", -1, 4)]
    [InlineData("\u001b[101mon bright red", -1, 9)]
    [InlineData("\u001b[1;33;42mboth", 3, 2)]
    public void Foreground_and_background_colours_are_read(string line, int fg, int bg)
    {
        var segment = Assert.Single(Parse(line));

        Assert.Equal(fg, segment.Style.Foreground);
        Assert.Equal(bg, segment.Style.Background);
    }

    [Fact]
    public void Reset_returns_to_the_default_style()
    {
        var segments = Parse("\u001b[31merror\u001b[0m: done \u001b[32mok\u001b[m.");

        Assert.Equal(["error", ": done ", "ok", "."], segments.Select(s => s.Text));
        Assert.Equal(1, segments[0].Style.Foreground);
        Assert.True(segments[1].Style.IsDefault);
        Assert.Equal(2, segments[2].Style.Foreground);
        Assert.True(segments[3].Style.IsDefault);
    }

    [Fact]
    public void Bold_dim_italic_and_underline_are_attributes_that_can_be_turned_off()
    {
        var segments = Parse("\u001b[1mbold\u001b[22m \u001b[2mdim\u001b[22m \u001b[3mitalic\u001b[23m \u001b[4munder\u001b[24m end");

        Assert.Equal(AnsiFlags.Bold, segments.Single(s => s.Text == "bold").Style.Flags);
        Assert.Equal(AnsiFlags.Dim, segments.Single(s => s.Text == "dim").Style.Flags);
        Assert.Equal(AnsiFlags.Italic, segments.Single(s => s.Text == "italic").Style.Flags);
        Assert.Equal(AnsiFlags.Underline, segments.Single(s => s.Text == "under").Style.Flags);
        Assert.True(segments[^1].Style.IsDefault);
        Assert.Equal("bold dim italic under end", AnsiParser.PlainText(segments));
    }

    [Fact]
    public void Default_colour_codes_keep_the_other_attributes()
    {
        var segments = Parse("\u001b[1;31;44mx\u001b[39my\u001b[49mz");

        Assert.Equal(new AnsiStyle(1, 4, AnsiFlags.Bold), segments[0].Style);
        Assert.Equal(new AnsiStyle(-1, 4, AnsiFlags.Bold), segments[1].Style);
        Assert.Equal(new AnsiStyle(-1, -1, AnsiFlags.Bold), segments[2].Style);
    }

    [Fact]
    public void Palette_and_24_bit_colours_become_inline_colours()
    {
        var segments = Parse("\u001b[38;5;208morange\u001b[0m \u001b[48;2;10;20;30mdeep\u001b[0m \u001b[38:5:9mcolon");

        Assert.Equal(208, segments[0].Style.Foreground);
        Assert.Equal("color:#ff8700;", segments[0].Style.CssStyle);
        Assert.Equal("background-color:#0a141e;", segments[2].Style.CssStyle);
        Assert.Equal(9, segments[4].Style.Foreground);
        Assert.Equal("ansi-fg-9", segments[4].Style.CssClass);
    }

    [Theory]
    [InlineData("\u001b[2J\u001b[Hcleared", "cleared")]
    [InlineData("\u001b[?25lhidden cursor\u001b[?25h", "hidden cursor")]
    [InlineData("\u001b]0;window title\u0007text", "text")]
    [InlineData("\u001b]8;;https://example.com\u001b\\link\u001b]8;;\u001b\\", "link")]
    [InlineData("\u001b(Bcharset", "charset")]
    [InlineData("up\u001b[2Adown", "updown")]
    [InlineData("bell\u0007 and nul\u0000", "bell and nul")]
    [InlineData("cut off \u001b[3", "cut off ")]
    [InlineData("tab\tstays", "tab\tstays")]
    public void Other_escape_and_control_sequences_are_dropped(string line, string shown)
    {
        Assert.Equal(shown, AnsiParser.PlainText(Parse(line)));
    }

    [Theory]
    [InlineData("10%\r50%\r100%", "100%")]
    [InlineData("downloading\rdone", "doneloading")]
    [InlineData("downloading\r\u001b[Kdone", "done")]
    [InlineData("windows line\r", "windows line")]
    [InlineData("abc\bd", "abd")]
    public void Carriage_return_overwrites_the_line_like_a_terminal(string line, string shown)
    {
        Assert.Equal(shown, AnsiParser.PlainText(Parse(line)));
    }

    [Fact]
    public void A_progress_bar_keeps_the_colours_of_its_final_state()
    {
        var segments = Parse("\u001b[33m[##  ]\u001b[0m\r\u001b[32m[####]\u001b[0m done");

        Assert.Equal("[####] done", AnsiParser.PlainText(segments));
        Assert.Equal(2, segments[0].Style.Foreground);
    }

    [Fact]
    public void Colours_carry_over_to_the_next_line_until_reset()
    {
        var parser = new AnsiParser();

        parser.ParseLine("\u001b[31mstarts red");
        var next = parser.ParseLine("still red");
        parser.ParseLine("\u001b[0m");
        var after = parser.ParseLine("plain");

        Assert.Equal(1, Assert.Single(next).Style.Foreground);
        Assert.True(Assert.Single(after).Style.IsDefault);
    }

    [Fact]
    public void Inverse_swaps_foreground_and_background()
    {
        var segment = Assert.Single(Parse("\u001b[7;31mx"));

        Assert.Equal("ansi-fg-inverse ansi-bg-1", segment.Style.CssClass);
    }
}
