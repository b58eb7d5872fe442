using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Shared;
using Kaizen.Portal.Tests.Components.Logs;

namespace Kaizen.Portal.Tests.Components.Shared;

public sealed class StatusChipTests : LogComponentsTestContext
{
    [Theory]
    [InlineData(Status.Passed, "mud-chip-color-success")]
    [InlineData(Status.Failed, "mud-chip-color-error")]
    [InlineData(Status.Running, "mud-chip-color-info")]
    [InlineData(Status.Canceled, "mud-chip-color-warning")]
    [InlineData(Status.Queued, "mud-chip-color-default")]
    [InlineData(Status.Skipped, "mud-chip-color-default")]
    public void A_status_reads_as_its_word_with_its_own_colour_and_an_icon(string status, string colour)
    {
        var cut = Render<StatusChip>(p => p.Add(x => x.Status, status));

        var chip = cut.Find(".kz-status");
        Assert.Equal(status, chip.TextContent.Trim());
        Assert.Equal($"status: {status}", chip.GetAttribute("aria-label"));
        Assert.Contains(colour, chip.ClassName);
        Assert.NotEmpty(cut.FindAll("svg"));
    }

    [Fact]
    public void Every_status_has_a_different_icon_from_failed()
    {
        var failed = StatusChip.LookOf(Status.Failed).Icon;

        Assert.All(new[] { Status.Passed, Status.Running, Status.Canceled, Status.Queued, Status.Skipped },
            s => Assert.NotEqual(failed, StatusChip.LookOf(s).Icon));
    }
}

public sealed class RelativeTimeTests : BunitContext
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(3, "just now")]
    [InlineData(45, "45 seconds ago")]
    [InlineData(90, "a minute ago")]
    [InlineData(60 * 25, "25 minutes ago")]
    [InlineData(3600 * 5, "5 hours ago")]
    [InlineData(3600 * 30, "yesterday")]
    [InlineData(86400 * 4, "4 days ago")]
    public void A_time_reads_relative_to_now(int secondsAgo, string expected)
    {
        var cut = Render<RelativeTime>(p => p.Add(x => x.At, Now.AddSeconds(-secondsAgo)).Add(x => x.Now, Now));

        Assert.Equal(expected, cut.Find("time").TextContent);
    }

    [Fact]
    public void The_exact_time_is_there_on_hover()
    {
        var cut = Render<RelativeTime>(p => p.Add(x => x.At, Now.AddMinutes(-2)).Add(x => x.Now, Now));

        var time = cut.Find("time");
        Assert.Equal("2026-11-27 11:58:00 UTC", time.GetAttribute("title"));
        Assert.Equal(Now.AddMinutes(-2).ToString("O"), time.GetAttribute("datetime"));
    }

    [Fact]
    public void No_time_shows_the_placeholder()
    {
        var cut = Render<RelativeTime>(p => p.Add(x => x.At, null).Add(x => x.Empty, "not yet"));

        Assert.Equal("not yet", cut.Markup.Trim().Replace("<span>", "").Replace("</span>", ""));
    }
}

public sealed class FormatTests
{
    [Theory]
    [InlineData(null, "—")]
    [InlineData(850L, "850 ms")]
    [InlineData(12_340L, "12.3 s")]
    [InlineData(245_000L, "4 m 05 s")]
    [InlineData(3_720_000L, "1 h 02 m")]
    public void Durations_read_in_the_largest_sensible_unit(long? ms, string expected) =>
        Assert.Equal(expected, Format.Duration(ms));
}
