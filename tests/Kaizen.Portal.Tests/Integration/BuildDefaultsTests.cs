using Kaizen.Portal.Builds;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>The operator's time limits for projects that name none (<c>Kaizen:Builds</c>), with a real portal, runner and bash.</summary>
public sealed class BuildDefaultsTests
{
    [Fact]
    public async Task The_portals_default_job_limit_stops_a_job_whose_settings_name_none_and_a_projects_own_limit_wins()
    {
        // Arrange
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 2,
            settings: new Dictionary<string, string> { ["Kaizen:Builds:DefaultJobTimeLimit"] = "3s" });
        using var repo = await GitRepo.CreateAsync("main");
        await repo.CommitAsync("First", ("readme.txt", "hello\n"));
        var unlimited = await portal.CreateProjectAsync("No limit written", repo.Path, new
        {
            setup = Array.Empty<string>(), epilogue = Array.Empty<string>(),
            jobs = new[] { new { name = "hangs", commands = new[] { "sleep 120" } } },
        });
        var own = await portal.CreateProjectAsync("Own limit", repo.Path, new
        {
            setup = Array.Empty<string>(), epilogue = Array.Empty<string>(), timeLimit = "10m",
            jobs = new[] { new { name = "slow", commands = new[] { "sleep 5", "echo done" } } },
        });

        // Act
        var stopped = await portal.WaitForBuildAsync(await portal.StartBuildAsync(unlimited));
        var passed = await portal.WaitForBuildAsync(await portal.StartBuildAsync(own));

        // Assert
        var hangs = Assert.Single(stopped.Jobs);
        Assert.Equal((Status.Failed, "time limit of 3 s reached"), (hangs.Status, hangs.Error));
        Assert.Equal(Status.Passed, passed.Status);
    }

    [Theory]
    [InlineData("Kaizen:Builds:DefaultJobTimeLimit", "ten minutes", "is not a time limit")]
    [InlineData("Kaizen:Builds:DefaultJobTimeLimit", "48h", "longer than the most allowed, 24 h")]
    [InlineData("Kaizen:Builds:DefaultBuildTimeLimit", "soon", "is not a time limit")]
    public async Task A_default_limit_that_does_not_read_stops_the_portal_at_start_naming_the_key(string key, string value, string why)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var portal = await PortalHost.StartAsync(embeddedSlots: 0, settings: new Dictionary<string, string> { [key] = value });
        });

        var message = error is AggregateException a ? a.Flatten().InnerExceptions[0].Message : error.Message;
        Assert.Contains(key, message);
        Assert.Contains(why, message);
    }
}
