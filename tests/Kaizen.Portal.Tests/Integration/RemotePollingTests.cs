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
        // The branch appears with its commit at once (made on a detached head first): a poll between "checkout -b" and the
        // commit would see a new branch at main's head, which is rightly built too.
        await _repo.GitAsync("checkout", "-q", "--detach");
        var feature = await _repo.CommitAsync("On a feature", ("c.txt", "c\n"));
        await _repo.GitAsync("branch", "feature", feature);

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

    [Fact]
    public async Task The_build_filter_leaves_other_branches_to_be_built_by_hand_for_polling_and_pushes_alike()
    {
        // Arrange: only main and release branches build by themselves.
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Filtered App", _repo.Path, OneJob("true"));
        var member = await Teams.TeamsPortal.CreateUserAsync(portal, "mona", "member");
        var viewer = await Teams.TeamsPortal.CreateUserAsync(portal, "vic", "viewer");
        using var asMember = Teams.TeamsPortal.Client(portal, member.Token);
        using var asViewer = Teams.TeamsPortal.Client(portal, viewer.Token);
        using var anonymous = new HttpClient { BaseAddress = portal.BaseUrl };
        Assert.True((await portal.Api.GetFromJsonAsync<BuildFilterResponse>($"/api/v1/projects/{slug}/build-filter"))!.EveryBranch);

        // Act: who may set it, and what a bad pattern gets.
        var byViewer = await asViewer.PutAsJsonAsync($"/api/v1/projects/{slug}/build-filter", new { branches = "main" });
        var byVisitor = await anonymous.PutAsJsonAsync($"/api/v1/projects/{slug}/build-filter", new { branches = "main" });
        var bad = await asMember.PutAsJsonAsync($"/api/v1/projects/{slug}/build-filter", new { branches = "main,,rel~1" });
        var missing = await asMember.PutAsJsonAsync($"/api/v1/projects/{slug}/build-filter", new { });
        var set = await asMember.PutAsJsonAsync($"/api/v1/projects/{slug}/build-filter", new { branches = " main ,release/* " });

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, byVisitor.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("$.branches: The branch pattern has an empty entry", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("$.branches", await missing.Content.ReadAsStringAsync());
        set.EnsureSuccessStatusCode();
        var filter = (await set.Content.ReadFromJsonAsync<BuildFilterResponse>())!;
        Assert.Equal(("main, release/*", false, "mona"), (filter.Branches, filter.EveryBranch, filter.ChangedBy));
        var audit = await portal.Api.GetFromJsonAsync<List<Kaizen.Portal.Audit.AuditEntry>>("/api/v1/audit?limit=1000");
        Assert.Contains(audit!, e => e.Actor == "mona" && e.Details == "builds by themselves: every branch → main, release/*");

        // Act: new commits on a feature branch, a release branch and main, seen by Refresh.
        var onMain = await _repo.CommitAsync("Second", ("b.txt", "b\n"));
        await _repo.GitAsync("checkout", "-q", "-b", "feature/login");
        await _repo.CommitAsync("Login", ("l.txt", "l\n"));
        await _repo.GitAsync("checkout", "-q", "-b", "release/1.0", "main");
        var onRelease = await _repo.CommitAsync("Release", ("r.txt", "r\n"));
        var refreshed = (await (await portal.Api.PostAsync($"/api/v1/projects/{slug}/refresh", null)).Content.ReadFromJsonAsync<RefreshResponse>())!;

        // Assert: the feature branch is known but not built; main and the release are.
        Assert.Contains("feature/login", refreshed.NewBranches);
        Assert.Equal(["feature/login"], refreshed.NotBuilt);
        var built = await Task.WhenAll(refreshed.StartedBuilds.Select(portal.GetBuildAsync));
        Assert.Equal([("main", onMain), ("release/1.0", onRelease)], built.Select(b => (b.Branch, b.CommitSha)).Order());
        Assert.Contains((await portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{slug}"))!.Branches!, b => b.Name == "feature/login");

        // Run build still builds the feature branch by hand.
        var byHand = await portal.StartBuildAsync(slug, "feature/login");
        Assert.Equal("feature/login", (await portal.GetBuildAsync(byHand)).Branch);

        // Back to every branch.
        (await asMember.PutAsJsonAsync($"/api/v1/projects/{slug}/build-filter", new { branches = "" })).EnsureSuccessStatusCode();
        Assert.True((await portal.Api.GetFromJsonAsync<BuildFilterResponse>($"/api/v1/projects/{slug}/build-filter"))!.EveryBranch);
    }
}
