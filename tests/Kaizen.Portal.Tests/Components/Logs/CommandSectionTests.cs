using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Logs;
using static Kaizen.Portal.Tests.Components.Logs.LogTestData;

namespace Kaizen.Portal.Tests.Components.Logs;

public sealed class CommandSectionTests : LogComponentsTestContext
{
    [Fact]
    public void A_command_section_shows_its_text_status_duration_and_exit_code()
    {
        var commands = new[] { Command(0, "npm test", Status.Failed, durationMs: 12_300, exit: 2) };
        var doc = Document((0, "boom\n"));
        var section = Sections(Job(Status.Failed), commands, doc)[1];

        var cut = Render<CommandSection>(p => p.Add(x => x.Section, section).Add(x => x.Expanded, true));

        Assert.Contains("npm test", cut.Markup);
        Assert.Contains("12.3 s", cut.Find(".duration").TextContent);
        Assert.Equal("exit 2", cut.Find(".exit").TextContent);
        Assert.Contains("failed", cut.Find(".kz-status").TextContent);
        Assert.Contains("1 line", cut.Markup);
        var button = cut.Find("button");
        Assert.Equal("true", button.GetAttribute("aria-expanded"));
        Assert.Contains("npm test", button.GetAttribute("aria-label"));
    }

    [Fact]
    public void Clicking_the_header_asks_to_toggle_that_section()
    {
        var section = Sections(Job(Status.Passed), [Command(0, "make", Status.Passed, 5, 0)], Document())[1];
        string? toggled = null;

        var cut = Render<CommandSection>(p => p
            .Add(x => x.Section, section)
            .Add(x => x.OnToggle, (string key) => toggled = key));
        cut.Find("button").Click();

        Assert.Equal(section.Key, toggled);
        Assert.Equal("false", cut.Find("button").GetAttribute("aria-expanded"));
    }

    [Fact]
    public void Setup_and_epilogue_commands_say_their_phase()
    {
        var section = Sections(Job(Status.Passed), [Command(0, "apt-get update", Status.Passed, 5, 0, phase: "setup")], Document())[1];

        var cut = Render<CommandSection>(p => p.Add(x => x.Section, section));

        Assert.Equal("setup", cut.Find(".phase").TextContent);
    }
}
