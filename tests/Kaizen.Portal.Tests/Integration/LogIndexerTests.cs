using Kaizen.Portal.Logs;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>The portal indexes a running job's log as its output arrives, before anyone opens the job's page.</summary>
public sealed class LogIndexerTests
{
    [Fact]
    public async Task A_running_jobs_log_is_indexed_as_it_arrives_without_a_viewer()
    {
        // Arrange
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        using var repo = await GitRepo.CreateAsync("main");
        await repo.CommitAsync("chatty", ("README.md", "x\n"));
        var slug = await portal.CreateProjectAsync("Indexed", repo.Path,
            PortalHost.OneJob("for i in $(seq 1 30); do echo \"line $i\"; sleep 0.2; done", "echo the end"));
        var views = portal.Service<LogViews>();

        // Act
        var buildId = await portal.StartBuildAsync(slug);
        var running = await portal.WaitForBuildAsync(buildId, b => b.Jobs.Single().Status == "running", 60);
        var jobId = running.Jobs.Single().Id;
        var whileRunning = await PortalHost.PollAsync(() => Task.FromResult(views.Peek(jobId)), o => o is { LineCount: >= 5 },
            o => $"the running job's index has {o?.LineCount.ToString() ?? "no"} lines", timeoutSeconds: 30);
        var build = await portal.WaitForBuildAsync(buildId, timeoutSeconds: 120);
        var finished = await PortalHost.PollAsync(() => Task.FromResult(views.Peek(jobId)),
            o => o?.Section(LogSectionKind.Command, 1) is { Count: 1 }, o => "the finished job's index lacks its last command", timeoutSeconds: 30);

        // Assert: indexed while running, and complete once the job ended; nobody opened the page.
        Assert.Equal("passed", build.Status);
        Assert.True(whileRunning!.LineCount < finished!.LineCount);
        Assert.Equal(30, finished.Section(LogSectionKind.Command, 0)!.Count);
        var last = (await (await views.OpenAsync(jobId, CancellationToken.None)).ReadAsync([finished.LastNumber], CancellationToken.None))[finished.LastNumber];
        Assert.Equal("the end", last.Text);
    }
}
