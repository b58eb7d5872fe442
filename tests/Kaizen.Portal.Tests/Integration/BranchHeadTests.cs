using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>Which commit a build of a branch gets: the branch's head when it was requested, unless an operator
/// accepts a head the portal confirmed moments ago (Kaizen:Git:BranchHeadMaxAgeSeconds).</summary>
public sealed class BranchHeadTests : IAsyncLifetime
{
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("version.txt", "one\n"));
    }

    public Task DisposeAsync()
    {
        _repo.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_branch_build_requested_right_after_a_push_builds_the_pushed_commit()
    {
        // Arrange: a build of main a moment ago, then a push
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Fresh", _repo.Path, PortalHost.OneJob("true"));
        var before = await portal.GetBuildAsync(await portal.StartBuildAsync(slug));
        var pushed = await _repo.CommitAsync("Second", ("version.txt", "two\n"));

        // Act
        var after = await portal.GetBuildAsync(await portal.StartBuildAsync(slug));

        // Assert
        Assert.NotEqual(pushed, before.CommitSha);
        Assert.Equal(pushed, after.CommitSha);
    }

    [Fact]
    public async Task With_a_reuse_window_a_branch_build_takes_the_head_confirmed_moments_ago_and_asks_again_after_it()
    {
        // Arrange: heads confirmed when the project was made; a push the portal is not told of
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1,
            settings: new Dictionary<string, string> { ["Kaizen:Git:BranchHeadMaxAgeSeconds"] = "3" });
        var slug = await portal.CreateProjectAsync("Window", _repo.Path, PortalHost.OneJob("true"));
        var first = await portal.GetBuildAsync(await portal.StartBuildAsync(slug));
        var pushed = await _repo.CommitAsync("Second", ("version.txt", "two\n"));

        // Act
        var within = await portal.GetBuildAsync(await portal.StartBuildAsync(slug));
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        var after = await portal.GetBuildAsync(await portal.StartBuildAsync(slug));

        // Assert
        Assert.Equal(first.CommitSha, within.CommitSha);
        Assert.Equal(pushed, after.CommitSha);
    }
}
