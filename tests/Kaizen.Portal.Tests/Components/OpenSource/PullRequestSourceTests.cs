using Bunit;
using Kaizen.Portal.Builds;
using BuildPage = Kaizen.Portal.Components.Pages.Builds.BuildPage;
using Kaizen.Portal.Components.Pages.Dashboard;
using Kaizen.Portal.Components.Pages.Projects;
using Kaizen.Portal.Components.Shared;
using MudBlazor;

namespace Kaizen.Portal.Tests.Components.OpenSource;

/// <summary>A pull request's build reads as one wherever its branch would show: "PR #22 from fork outsider/patch-1",
/// marked as a fork's, and its page says it ran without secrets and cannot be deployed.</summary>
public sealed class PullRequestSourceTests : OpenSourceHarness
{
    [Fact]
    public async Task A_forks_pull_request_reads_as_such_with_a_fork_badge_and_a_branch_build_as_its_branch()
    {
        var fork = (await Db.Builds.FindAsync(await PullRequestBuildAsync(PublicId, 22, "outsider/patch-1", fromFork: true)))!;
        var own = (await Db.Builds.FindAsync(await PullRequestBuildAsync(PublicId, 23, "open/feature", fromFork: false)))!;
        var branch = (await Db.Builds.FindAsync(PublicBuildId))!;

        var forkSource = Render<BuildSource>(p => p.Add(x => x.Build, fork));
        var ownSource = Render<BuildSource>(p => p.Add(x => x.Build, own));
        var branchSource = Render<BuildSource>(p => p.Add(x => x.Build, branch));

        Assert.Equal("PR #22 from fork outsider/patch-1", forkSource.Find(".kz-source").TextContent);
        Assert.Equal("fork", forkSource.Find("[data-fork]").TextContent.Trim());
        Assert.Equal("PR #23 from open/feature", ownSource.Find(".kz-source").TextContent);
        Assert.Empty(ownSource.FindAll("[data-fork]"));
        Assert.Equal("main", branchSource.Find(".kz-source").TextContent);
        Assert.Empty(branchSource.FindAll("[data-fork]"));
    }

    [Fact]
    public async Task The_build_page_of_a_forks_pull_request_says_it_ran_without_secrets_and_cannot_be_deployed()
    {
        var id = await PullRequestBuildAsync(PublicId, 22, "outsider/patch-1", fromFork: true);

        var cut = RenderInLayout<BuildPage>(("Id", id));

        cut.WaitForAssertion(() => Assert.Contains("PR #22 from fork outsider/patch-1", cut.Find("[data-testid=build-source]").TextContent), WaitTimeout);
        Assert.NotEmpty(cut.Find("[data-testid=build-source]").QuerySelectorAll("[data-fork]"));
        var note = cut.Find("[data-testid=fork-note]").TextContent;
        Assert.Contains("ran without the project's secrets", note);
        Assert.Contains("cannot be deployed", note);
    }

    [Fact]
    public async Task A_branch_builds_page_has_no_fork_note()
    {
        var cut = RenderInLayout<BuildPage>(("Id", PublicBuildId));

        cut.WaitForAssertion(() => Assert.Contains("branch", cut.Find("[data-testid=build-source]").TextContent), WaitTimeout);
        Assert.Contains("main", cut.Find("[data-testid=build-source]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=fork-note]"));
    }

    [Fact]
    public async Task The_project_history_and_the_dashboards_running_builds_show_the_pull_request_and_the_branch_filter_offers_it()
    {
        await PullRequestBuildAsync(PublicId, 22, "outsider/patch-1", fromFork: true);
        SignOut();

        var project = RenderInLayout<ProjectPage>(("Slug", "open"));
        var dashboard = Render<Dashboard>();

        project.WaitForAssertion(() => Assert.Contains(project.FindAll("td .kz-source"), s => s.TextContent == "PR #22 from fork outsider/patch-1"), WaitTimeout);
        Assert.Contains(project.FindAll("td .kz-source"), s => s.TextContent == "main");
        dashboard.WaitForAssertion(() => Assert.Contains(dashboard.FindAll("td .kz-source"), s => s.TextContent == "PR #22 from fork outsider/patch-1"), WaitTimeout);


        // Filtering by the pull request's branch shows it as people read it, and only its builds.
        var branchFilter = project.FindComponents<MudSelect<string>>().Single(c => c.Instance.Label == "Branch");
        await project.InvokeAsync(() => branchFilter.Instance.ValueChanged.InvokeAsync("pull/22"));
        project.WaitForAssertion(() => Assert.Equal("PR #22 from fork outsider/patch-1", project.Find("input[aria-label=Branch]").GetAttribute("value")), WaitTimeout);
        Assert.All(project.FindAll("td .kz-source"), s => Assert.Equal("PR #22 from fork outsider/patch-1", s.TextContent));
        Assert.Equal(Status.Queued, (await Db.Builds.ActiveAsync()).Single().Status);
    }
}
