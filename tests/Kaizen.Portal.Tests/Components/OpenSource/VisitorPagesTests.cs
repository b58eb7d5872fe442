using Bunit;
using Kaizen.Portal.Components.Pages.Dashboard;
using Kaizen.Portal.Components.Pages.Jobs;
using Kaizen.Portal.Components.Pages.Projects;
using Kaizen.Portal.Delivery;
using Microsoft.Extensions.DependencyInjection;
using BuildPage = Kaizen.Portal.Components.Pages.Builds.BuildPage;

namespace Kaizen.Portal.Tests.Components.OpenSource;

/// <summary>Visitors (nobody signed in) read a public project's pages without the members' actions; a private project,
/// its builds and a deploy's log are not found, worded exactly like something missing.</summary>
public sealed class VisitorPagesTests : OpenSourceHarness
{
    [Fact]
    public void The_dashboard_lists_only_public_projects_to_visitors_and_every_project_to_people_signed_in()
    {
        SignOut();
        var visitor = Render<Dashboard>();
        visitor.WaitForAssertion(() => Assert.Single(visitor.FindAll("[data-project=open]")), WaitTimeout);
        Assert.Empty(visitor.FindAll("[data-project=closed]"));
        Assert.DoesNotContain("New project", visitor.Markup);

        SignIn("vic", "viewer");
        var viewer = Render<Dashboard>();
        viewer.WaitForAssertion(() => Assert.Single(viewer.FindAll("[data-project=closed]")), WaitTimeout);
        Assert.Single(viewer.FindAll("[data-project=open]"));
    }

    [Fact]
    public void A_visitor_reads_a_public_projects_builds_without_run_buttons_or_the_members_sections()
    {
        SignOut();
        var cut = RenderInLayout<ProjectPage>(("Slug", "open"));

        cut.WaitForAssertion(() => Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == $"/builds/{PublicBuildId}"), WaitTimeout);
        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Contains("Run build"));

        // The project's sections in the navigation drawer: the members' ones are not there.
        var nav = Render<Kaizen.Portal.Components.Layout.ProjectNav>(p => p.Add(x => x.Project, ProjectAsync("open").Result).Add(x => x.SignedIn, false));
        var sections = nav.FindAll("a").Select(a => a.TextContent.Trim()).ToList();
        Assert.Equal(["Builds", "Branches", "Downloads", "Coverage", "Insights"], sections);
    }

    [Fact]
    public async Task A_private_project_and_its_build_are_not_found_for_a_visitor_exactly_like_missing_ones()
    {
        SignOut();
        var closed = RenderInLayout<ProjectPage>(("Slug", "closed"));
        closed.WaitForAssertion(() => Assert.Contains("There is no project 'closed'.", closed.Markup), WaitTimeout);
        await DisposeComponentsAsync();
        var missing = RenderInLayout<ProjectPage>(("Slug", "nowhere"));
        missing.WaitForAssertion(() => Assert.Contains("There is no project 'nowhere'.", missing.Markup), WaitTimeout);
        await DisposeComponentsAsync();

        var build = RenderInLayout<BuildPage>(("Id", PrivateBuildId));
        build.WaitForAssertion(() => Assert.Contains($"There is no build #{PrivateBuildId}.", build.Markup), WaitTimeout);
        await DisposeComponentsAsync();
        var job = (await Db.Builds.JobsAsync(PrivateBuildId)).Single();
        var log = RenderInLayout<JobLogPage>(("Id", job.Id));
        log.WaitForAssertion(() => Assert.Contains($"There is no job {job.Id}.", log.Markup), WaitTimeout);
        Assert.DoesNotContain("Sign in", log.Markup);
    }

    [Fact]
    public async Task A_visitor_reads_a_public_build_and_its_log_without_cancel_rerun_or_deploy()
    {
        SignOut();
        var build = RenderInLayout<BuildPage>(("Id", PublicBuildId));
        build.WaitForAssertion(() => Assert.Contains($"Build #{PublicBuildId}", build.Markup), WaitTimeout);
        foreach (var hidden in new[] { "Cancel", "Rerun", "Deploy to…" }) Assert.Empty(Buttons(build, hidden));
        await DisposeComponentsAsync();

        var job = (await Db.Builds.JobsAsync(PublicBuildId)).Single();
        var log = RenderInLayout<JobLogPage>(("Id", job.Id));
        log.WaitForAssertion(() => Assert.Contains($"Build #{PublicBuildId}", log.Find(".facts").TextContent), WaitTimeout);
    }

    [Fact]
    public async Task A_deploys_log_of_a_public_project_is_not_found_for_a_visitor_but_shown_to_people_signed_in()
    {
        var deploys = Services.GetRequiredService<DeployService>();
        var server = await deploys.CreateServerAsync(await ProjectAsync("open"),
            new ServerSpec("production", ["./deploy.sh"], TriggerMode.Manual, "", 0, Deployers.Members), new Actor("admin", "admin"));
        var deploy = await deploys.RequestAsync(PublicBuildId, server.Value!.Name, new Actor("admin", "admin"));
        Assert.True(deploy.Ok, deploy.Message);
        var jobId = (await Services.GetRequiredService<DeployStore>().FindDeployAsync(deploy.Value!.Id))!.JobId!.Value;

        SignOut();
        var visitor = RenderInLayout<JobLogPage>(("Id", jobId));
        visitor.WaitForAssertion(() => Assert.Contains($"There is no job {jobId}.", visitor.Markup), WaitTimeout);
        await DisposeComponentsAsync();

        SignIn("vic", "viewer");
        var viewer = RenderInLayout<JobLogPage>(("Id", jobId));
        viewer.WaitForAssertion(() => Assert.Contains($"Build #{PublicBuildId}", viewer.Find(".facts").TextContent), WaitTimeout);
        // The job of a deploy leads to its deploy (approvals, server) as well as to the build it deployed.
        Assert.Equal($"/deploys/{deploy.Value.Id}", viewer.Find($".facts a[href='/deploys/{deploy.Value.Id}']").GetAttribute("href"));
        Assert.Contains($"Deploy #{deploy.Value.Id} of Build #{PublicBuildId}", viewer.Find(".facts").TextContent);
    }
}
