using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Pages.Dashboard;
using Kaizen.Portal.Components.Pages.Projects;
using Kaizen.Portal.Components.Projects;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Data;
using MudBlazor;
using BuildPage = Kaizen.Portal.Components.Pages.Builds.BuildPage;

namespace Kaizen.Portal.Tests.Components.OpenSource;

/// <summary>A fork's pull request build that waits for approval: its page says so and offers members (only) to approve
/// it, its status reads "awaiting approval" in the lists, and admins choose which fork builds wait.</summary>
public sealed class ForkApprovalPageTests : OpenSourceHarness
{
    private const string Banner =
        "Waiting for approval: this pull request comes from a fork (outsider). Its code runs only after a member approves it.";

    /// <summary>A build of the public project's pull request #50 by "outsider" from a fork, held for approval.</summary>
    private Task<long> WaitingBuildAsync()
    {
        var plan = BuildStore.Plan(PublicId, TestDatabase.OneJob(), "pull/50", new string('a', 40), "Fix a typo", "outsider", Trigger.PullRequest, null)
            with { FromFork = true, PullRequest = 50, PullRequestSource = "outsider/patch-1", PullRequestAuthor = "outsider", AwaitingApproval = true };
        return Db.Builds.CreateAsync(plan);
    }

    private static string Text(AngleSharp.Dom.IElement element) => string.Join(' ', element.TextContent.Split((char[])[' ', '\n', '\r', '\t'],
        StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public async Task A_member_sees_the_waiting_banner_approves_and_then_the_banner_says_who_approved()
    {
        // Arrange
        var id = await WaitingBuildAsync();
        SignIn("mia", "member");
        var cut = RenderInLayout<BuildPage>(("Id", id));
        cut.WaitForAssertion(() => Assert.Equal(Banner, Text(cut.Find("[data-testid=approval-text]"))), WaitTimeout);

        // Act
        await ClickAsync(cut, () => Button(cut, "Approve and run"));

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("Approved by mia", Text(cut.Find("[data-testid=approval-note]"))), WaitTimeout);
        Assert.Empty(cut.FindAll("[data-testid=approval-banner]"));
        Assert.Empty(Buttons(cut, "Approve and run"));
        var build = (await Db.Builds.FindAsync(id))!;
        Assert.Equal((Status.Queued, "mia"), (build.Status, build.ApprovedBy));
        Assert.All(await Db.Builds.JobsAsync(id), j => Assert.Equal(Status.Queued, j.Status));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("viewer")]
    public async Task Visitors_and_viewers_see_the_waiting_banner_without_an_approve_button(string? role)
    {
        // Arrange
        var id = await WaitingBuildAsync();
        if (role is null) SignOut();
        else SignIn("vic", role);

        // Act
        var cut = RenderInLayout<BuildPage>(("Id", id));

        // Assert
        cut.WaitForAssertion(() => Assert.Equal(Banner, Text(cut.Find("[data-testid=approval-text]"))), WaitTimeout);
        Assert.Empty(Buttons(cut, "Approve and run"));
        Assert.Equal("awaiting approval", cut.Find("[data-status=awaiting_approval]").TextContent.Trim());
        Assert.Equal(Status.AwaitingApproval, (await Db.Builds.FindAsync(id))!.Status);
    }

    [Fact]
    public async Task The_project_history_and_the_dashboard_show_a_waiting_build_as_awaiting_approval()
    {
        // Arrange
        var id = await WaitingBuildAsync();
        SignOut();

        // Act
        var project = RenderInLayout<ProjectPage>(("Slug", "open"));
        var dashboard = Render<Dashboard>();

        // Assert
        project.WaitForAssertion(() => Assert.Contains(project.FindAll($"a[href='/builds/{id}']"), a => a.TextContent.Contains("#")), WaitTimeout);
        Assert.Contains(project.FindAll("[data-status=awaiting_approval]"), c => c.TextContent.Trim() == "awaiting approval");
        dashboard.WaitForAssertion(() => Assert.Contains(dashboard.FindAll("[data-status=awaiting_approval]"), c => c.TextContent.Trim() == "awaiting approval"), WaitTimeout);
        Assert.Contains("Running now and waiting for approval", dashboard.Markup);
    }

    [Fact]
    public async Task An_admin_chooses_which_fork_pull_requests_wait_in_the_github_panel_and_the_change_is_audited()
    {
        // Arrange
        var cut = RenderInLayout<GithubPanel>(("Project", await ProjectAsync("open")));
        cut.WaitForAssertion(() => Assert.Contains(ForkApproval.Describe(ForkApproval.Always), cut.Markup), WaitTimeout);
        var select = cut.FindComponents<MudSelect<string>>().Single(c => c.Instance.Label == "Fork pull request approval");

        // Act
        await cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(ForkApproval.FirstTime));

        // Assert
        Assert.Equal(ForkApproval.FirstTime, (await ProjectAsync("open")).ForkApproval);
        cut.WaitForAssertion(() => Assert.Contains(ForkApproval.Describe(ForkApproval.FirstTime), cut.Markup), WaitTimeout);
        Assert.Equal(["project.changed: fork pull request approval: first-time"], await AuditOfAsync("open"));
    }
}
