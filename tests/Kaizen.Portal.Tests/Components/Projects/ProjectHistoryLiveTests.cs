using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Pages.Projects;
using Kaizen.Portal.Tests.Components.OpenSource;
using Kaizen.Portal.Tests.Data;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Projects;

/// <summary>The project page's history follows its builds' jobs as runners start and finish them, without a reload.</summary>
public sealed class ProjectHistoryLiveTests : OpenSourceHarness
{
    [Fact]
    public async Task A_build_in_the_history_turns_from_queued_to_passed_when_its_job_finishes()
    {
        var buildId = await Db.CreateBuildAsync(PublicId, TestDatabase.OneJob());
        SignOut(); // a visitor of the public project: the history without the members' tabs
        var cut = RenderInLayout<ProjectPage>(("Slug", "open"));
        string Row() => cut.FindAll("tbody tr").Single(r => r.InnerHtml.Contains($"/builds/{buildId}\"", StringComparison.Ordinal)).TextContent;
        cut.WaitForAssertion(() => Assert.Contains("queued", Row()), WaitTimeout);

        // What the runner endpoints do when a job finishes: the runner store's change, then the dashboard's notice.
        var runnerId = await Db.RegisterRunnerAsync("runner-2");
        var job = await Db.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds);
        await Db.Runners.CompleteAsync(runnerId, job!.JobId, job.LeaseToken, JobOutcome.Passed, 0, null);
        Services.GetRequiredService<LiveUpdates>().Publish(LiveUpdates.Keys.Build(buildId), LiveUpdates.Keys.Dashboard);

        cut.WaitForAssertion(() => Assert.Contains("passed", Row()), WaitTimeout);
    }
}
