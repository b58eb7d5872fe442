using Bunit;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Components.Pages.Debug;
using Kaizen.Portal.Debug;

namespace Kaizen.Portal.Tests.Components.Debug;

/// <summary>The debug session page as its starter, another member and an admin see it, in each state of the session.</summary>
public sealed class DebugSessionPageTests : DebugHarness
{
    [Fact]
    public async Task A_queued_session_says_it_waits_for_a_runner_and_gives_its_starter_the_terminal()
    {
        var session = await StartAsync("mia");
        SignInAs("mia");

        var page = RenderInLayout<DebugSessionPage>(("Id", session.Id));

        page.WaitForAssertion(() => Assert.Contains("Waiting for a runner…", page.Find("[data-testid=debug-state]").TextContent), WaitTimeout);
        var terminal = page.Find("[data-testid=terminal]");
        Assert.Equal("Terminal", terminal.GetAttribute("aria-label"));
        Assert.Contains("This session has no secrets: only admins receive them.", page.Find("[data-testid=debug-secrets]").TextContent);
        Assert.Contains("test", page.Find(".name").TextContent);
        Assert.Single(Buttons(page, "End session"));
        Assert.Empty(Buttons(page, "Start a new debug session"));
        // The time counts from when the shell opens: nothing counts down yet.
        Assert.Empty(page.FindAll("[role=timer]"));
    }

    [Fact]
    public async Task An_open_session_counts_down_offers_its_ssh_command_and_extending_adds_the_default_minutes()
    {
        var session = await StartAsync("mia", minutes: 10);
        await OpenAsync(session.Id, ssh: "ssh -p 2222 session-1@ci.example");
        SignInAs("mia");

        var page = RenderInLayout<DebugSessionPage>(("Id", session.Id));

        page.WaitForAssertion(() => Assert.Equal("10:00 left", page.Find("[role=timer]").TextContent.Trim()), WaitTimeout);
        Assert.Contains("Open", page.Find("[data-testid=debug-state]").TextContent);
        Assert.Equal("ssh -p 2222 session-1@ci.example", page.Find("[data-testid=ssh-command]").TextContent);
        Assert.Single(Buttons(page, "Copy the SSH command"));

        await ClickAsync(page, () => Button(page, "Extend the session by 30 min"));

        page.WaitForAssertion(() => Assert.Equal("40:00 left", page.Find("[role=timer]").TextContent.Trim()), WaitTimeout);
    }

    [Theory]
    [InlineData(10, false)]
    [InlineData(4, true)]
    public async Task The_last_five_minutes_stand_out(double minutes, bool endingSoon)
    {
        var session = await StartAsync("mia", minutes: minutes);
        await OpenAsync(session.Id, ssh: null);
        SignInAs("mia");

        var page = RenderInLayout<DebugSessionPage>(("Id", session.Id));

        page.WaitForAssertion(() => Assert.EndsWith("left", page.Find("[role=timer]").TextContent.Trim()), WaitTimeout);
        Assert.Equal(endingSoon, page.Find("[role=timer]").ClassList.Contains("ending"));
    }

    [Fact]
    public async Task An_ended_session_says_why_keeps_its_terminal_and_offers_a_new_one()
    {
        var session = await StartAsync("mia");
        await Sessions.EndAsync(session, AuditLog.System, "timed out");
        SignInAs("mia");

        var page = RenderInLayout<DebugSessionPage>(("Id", session.Id));

        page.WaitForAssertion(() => Assert.Contains("Ended: timed out", page.Find("[data-testid=debug-state]").TextContent), WaitTimeout);
        Assert.Single(page.FindAll("[data-testid=terminal]"));
        Assert.Empty(Buttons(page, "End session"));
        Assert.Empty(page.FindAll("[role=timer]"));
        Assert.Single(Buttons(page, "Start a new debug session"));
    }

    [Fact]
    public async Task Ending_the_session_from_its_page_ends_it()
    {
        var session = await StartAsync("mia");
        SignInAs("mia");
        var page = RenderInLayout<DebugSessionPage>(("Id", session.Id));
        page.WaitForAssertion(() => Assert.Single(Buttons(page, "End session")), WaitTimeout);

        await ClickAsync(page, () => Button(page, "End session"));

        page.WaitForAssertion(() => Assert.Contains("Ended: ended by mia", page.Find("[data-testid=debug-state]").TextContent), WaitTimeout);
        Assert.Equal(DebugStates.Ended, (await Sessions.GetAsync(session.Id))!.Status);
    }

    [Fact]
    public async Task Someone_elses_session_is_not_found_by_a_member_and_an_admin_sees_it_without_its_terminal()
    {
        var session = await StartAsync("mia");

        SignInAs("max");
        var other = RenderInLayout<DebugSessionPage>(("Id", session.Id));
        other.WaitForAssertion(() => Assert.Contains($"There is no debug session {session.Id} of yours.", other.Markup), WaitTimeout);
        await DisposeComponentsAsync();

        SignInAs("ada");
        var admin = RenderInLayout<DebugSessionPage>(("Id", session.Id));
        admin.WaitForAssertion(() => Assert.Contains("only the person who started a debug session can use its terminal", admin.Markup), WaitTimeout);
        Assert.Empty(admin.FindAll("[data-testid=terminal]"));
        Assert.Single(Buttons(admin, "End session"));
    }

    [Theory]
    [InlineData(0, "0:00")]
    [InlineData(999, "0:01")]
    [InlineData(61_000, "1:01")]
    [InlineData(30 * 60_000, "30:00")]
    [InlineData(3_723_000, "1:02:03")]
    [InlineData(-5_000, "0:00")]
    public void Time_left_reads_as_a_clock(long milliseconds, string expected) =>
        Assert.Equal(expected, DebugSessionPage.Countdown(milliseconds));
}
