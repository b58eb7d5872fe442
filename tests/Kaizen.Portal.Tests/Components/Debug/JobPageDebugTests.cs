using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Pages.Jobs;
using Kaizen.Portal.Debug;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Debug;

/// <summary>The job page's Debug and Attach buttons: who sees them, the "Debug job" dialog, links to open sessions.</summary>
public sealed class JobPageDebugTests : DebugHarness
{
    [Theory]
    [InlineData("mia", true)]
    [InlineData("ada", true)]
    [InlineData("vic", false)]
    [InlineData(null, false)]
    public void A_finished_job_offers_Debug_to_members_and_admins_only(string? who, bool offered)
    {
        if (who is null) SignOut();
        else SignInAs(who);

        var page = RenderInLayout<JobLogPage>(("Id", JobId));

        page.WaitForAssertion(() => Assert.Contains($"Build #{BuildId}", page.Find(".facts").TextContent), WaitTimeout);
        Assert.Equal(offered ? 1 : 0, Buttons(page, "Debug this job in a shell").Count);
        // A finished job has nothing to attach to.
        Assert.Empty(Buttons(page, "Attach a shell to the running job"));
    }

    [Theory]
    [InlineData("ada", true)]
    [InlineData("mia", false)]
    public async Task A_running_job_offers_Attach_to_admins_only(string who, bool offered)
    {
        var buildId = await Db.CreateBuildAsync(ProjectId, TestDatabase.OneJob());
        var running = await Db.Runners.ClaimAsync(RunnerId, TestDatabase.LeaseSeconds);
        Assert.Equal(Status.Running, (await Db.Builds.FindJobAsync(running!.JobId))!.Status);
        SignInAs(who);

        var page = RenderInLayout<JobLogPage>(("Id", running.JobId));

        page.WaitForAssertion(() => Assert.Contains($"Build #{buildId}", page.Find(".facts").TextContent), WaitTimeout);
        Assert.Equal(offered ? 1 : 0, Buttons(page, "Attach a shell to the running job").Count);
        Assert.Empty(Buttons(page, "Debug this job in a shell"));
    }

    [Fact]
    public async Task The_Debug_dialog_starts_a_session_with_the_chosen_options_and_opens_its_page()
    {
        SignInAs("mia");
        var page = RenderInLayout<JobLogPage>(("Id", JobId));
        page.WaitForAssertion(() => Assert.Single(Buttons(page, "Debug this job in a shell")), WaitTimeout);

        // The button's handler waits for the dialog to close.
        var debugging = ClickAsync(page, () => Button(page, "Debug this job in a shell"));
        page.WaitForAssertion(() => Assert.Contains("Run the job's setup commands first", page.Markup), WaitTimeout);
        Assert.Contains("This session has no secrets: only admins receive them.", page.Markup);
        Assert.Equal("30", Field(page, "Minutes").GetAttribute("value"));
        await ChangeAsync(page, () => page.Find("input[type=checkbox]"), false);
        await ClickAsync(page, () => Button(page, "Start the debug session"));
        await debugging.WaitAsync(WaitTimeout);

        var navigation = Services.GetRequiredService<NavigationManager>();
        page.WaitForAssertion(() => Assert.Matches(@"/debug/\d+$", navigation.Uri), WaitTimeout);
        var id = long.Parse(navigation.Uri[(navigation.Uri.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var session = await Sessions.GetAsync(id);
        Assert.Equal((JobId, DebugKinds.Debug, false, false), (session!.JobId, session.Kind, session.RunSetup, session.WithSecrets));
    }

    [Fact]
    public async Task The_job_page_links_to_the_signed_in_users_open_sessions_of_the_job()
    {
        var mine = await StartAsync("mia");
        await StartAsync("max");
        SignInAs("mia");

        var page = RenderInLayout<JobLogPage>(("Id", JobId));

        page.WaitForAssertion(() => Assert.Single(Buttons(page, $"Open debug session #{mine.Id}")), WaitTimeout);
        Assert.Equal($"/debug/{mine.Id}", Button(page, $"Open debug session #{mine.Id}").GetAttribute("href"));
        Assert.DoesNotContain($"Open debug session #{mine.Id + 1}", page.Markup);
    }
}
