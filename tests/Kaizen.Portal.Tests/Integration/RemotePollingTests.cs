using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// A repository that sends no webhook: the portal reads it on a schedule (and on Refresh), shows new branches and
/// builds each branch's new head once, and keeps going when one remote cannot be read.
/// </summary>
public sealed class RemotePollingTests : OneCommitRepository
{
    private static async Task<List<BuildSummary>> BuildsAsync(PortalHost portal, string slug) =>
        (await portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds?pageSize=100"))!.Items.ToList();

    [Fact]
    public async Task Polling_builds_a_new_commit_and_a_new_branch_once_and_skips_a_remote_that_went_away()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1,
            settings: new Dictionary<string, string> { ["Kaizen:Git:PollSeconds"] = "1" });
        var slug = await portal.CreateProjectAsync("Polled App", _repo.Path, OneJob("git log -1 --format=%s"));
        using var gone = await Runner.Tests.Support.GitRepo.CreateAsync("main");
        await gone.CommitAsync("First", ("a.txt", "a\n"));
        var goneSlug = await portal.CreateProjectAsync("Gone App", gone.Path, OneJob("true"));
        Directory.Delete(gone.Path, recursive: true); // this remote cannot be read any more

        await Task.Delay(TimeSpan.FromSeconds(2)); // the poller has seen both projects as they were
        var pushed = await _repo.CommitAsync("Second", ("b.txt", "b\n"));
        await _repo.GitAsync("checkout", "-q", "-b", "feature");
        var feature = await _repo.CommitAsync("On a feature", ("c.txt", "c\n"));

        var builds = await PortalHost.PollAsync(() => BuildsAsync(portal, slug), b => b.Count >= 2,
            b => $"{b.Count} builds: {string.Join(", ", b.Select(x => $"{x.Branch}@{x.CommitSha[..7]}"))}", timeoutSeconds: 30);
        await Task.Delay(TimeSpan.FromSeconds(3)); // more polls: nothing is built twice

        builds = await BuildsAsync(portal, slug);
        Assert.Equal([("feature", feature), ("main", pushed)], builds.Select(b => (b.Branch, b.CommitSha)).Order());
        Assert.All(builds, b => Assert.Equal(Trigger.Poll, b.Trigger));
        var project = await portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{slug}");
        Assert.Contains(project!.Branches!, b => b.Name == "feature");
        Assert.Empty(await BuildsAsync(portal, goneSlug));
        foreach (var b in builds)
            Assert.Equal(Status.Passed, (await portal.WaitForBuildAsync(b.Id, timeoutSeconds: 60)).Status);
    }

    [Fact]
    public async Task Refresh_reads_the_repository_at_once_and_says_what_it_found()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Refreshed App", _repo.Path, OneJob("true"));
        await _repo.GitAsync("checkout", "-q", "-b", "topic");
        var topic = await _repo.CommitAsync("Topic work", ("t.txt", "t\n"));

        var first = await portal.Api.PostAsync($"/api/v1/projects/{slug}/refresh", null);
        var second = await portal.Api.PostAsync($"/api/v1/projects/{slug}/refresh", null);

        first.EnsureSuccessStatusCode();
        var found = (await first.Content.ReadFromJsonAsync<RefreshResponse>())!;
        Assert.Equal(["topic"], found.NewBranches);
        var build = await portal.GetBuildAsync(Assert.Single(found.StartedBuilds));
        Assert.Equal(("topic", topic, Trigger.Poll), (build.Branch, build.CommitSha, build.Trigger));
        var again = (await second.Content.ReadFromJsonAsync<RefreshResponse>())!;
        Assert.Empty(again.NewBranches);
        Assert.Empty(again.StartedBuilds);

        using var anonymous = new HttpClient { BaseAddress = portal.BaseUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/api/v1/projects/{slug}/refresh", null)).StatusCode);
    }
}
