using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Teams;
using Kaizen.Runner.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Kaizen.Portal.Tests.GitHub;

/// <summary>
/// Builds of pull requests from forks wait for a member's approval before any of their code runs: signed deliveries to
/// the real portal on loopback (no embedded runner, so nothing runs unless a test starts a runner), a real git
/// repository whose pull request heads exist as refs/pull/N/head, and a loopback server answering like GitHub's API.
/// </summary>
public sealed class ForkApprovalTests : IAsyncLifetime
{
    private const string Repository = "octo-org/shop";
    private readonly ConcurrentQueue<(string Path, JsonObject Body)> _statuses = new();
    private WebApplication _githubApi = null!;
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private HttpClient _anonymous = null!;
    private string _slug = "";
    private string _secret = "";

    public async Task InitializeAsync()
    {
        (_githubApi, var api) = await LoopbackServer.StartAsync(app => app.MapPost("/repos/{owner}/{repo}/statuses/{sha}",
            async (HttpContext http) =>
            {
                var body = (await JsonNode.ParseAsync(http.Request.Body))!.AsObject();
                _statuses.Enqueue((http.Request.Path, body));
                return Results.Json(new { id = _statuses.Count }, statusCode: 201);
            }));
        _portal = await PortalHost.StartAsync(embeddedSlots: 0, settings: new Dictionary<string, string>
        {
            ["Kaizen:GitHub:Token"] = "ghp_test_token",
            ["Kaizen:GitHub:ApiUrl"] = api.ToString().TrimEnd('/'),
        });
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
        _anonymous = new HttpClient { BaseAddress = _portal.BaseUrl };
        (_slug, _secret) = await WebhookPayloadTests.LinkedProjectAsync(_portal, _repo.Path, "Shop", Repository, "echo fork code ran");
    }

    public async Task DisposeAsync()
    {
        _anonymous.Dispose();
        await _portal.DisposeAsync();
        await _githubApi.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task A_signed_fork_pull_request_creates_a_build_awaiting_approval_whose_jobs_no_runner_can_claim()
    {
        // Arrange
        using var runner = await RawRunner.RegisterAsync(_portal, "eager");

        // Act
        var (response, build) = await OpenPullRequestAsync(31, "outsider", fromFork: true);
        using var claim = await runner.ClaimAsync(waitSeconds: 2);

        // Assert
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains("waiting for approval by a member (from a fork: no secrets)", await response.Content.ReadAsStringAsync());
        Assert.Equal(Status.AwaitingApproval, build.Status);
        Assert.All(build.Jobs, j => Assert.Equal((Status.AwaitingApproval, "waiting for approval by a member"), (j.Status, j.Waiting)));
        Assert.Equal(("outsider", (string?)null), (build.PullRequestAuthor, build.ApprovedBy));
        Assert.Equal(HttpStatusCode.NoContent, claim.StatusCode);
        Assert.DoesNotContain(await _portal.Service<BuildStore>().ActiveAsync(), b => b.Id == build.Id && b.Status == Status.Queued);
        Assert.Null((await _portal.Service<BuildStore>().FindAsync(build.Id))!.StartedAt);
    }

    [Fact]
    public async Task A_member_approves_a_waiting_fork_build_which_a_real_runner_then_runs_to_completion_and_the_approval_is_audited()
    {
        // Arrange
        var (_, waiting) = await OpenPullRequestAsync(32, "outsider", fromFork: true);
        var member = await TeamsPortal.CreateUserAsync(_portal, "mia", "member");
        using var asMember = TeamsPortal.Client(_portal, member.Token);

        // Act
        using var approve = await asMember.PostAsync($"/api/v1/builds/{waiting.Id}/approve", null);
        var approved = await approve.Content.ReadFromJsonAsync<BuildResponse>();
        _portal.StartRunner("after-approval");
        var finished = await _portal.WaitForBuildAsync(waiting.Id);

        // Assert
        Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
        Assert.Equal((Status.Queued, "mia"), (approved!.Status, approved.ApprovedBy));
        Assert.NotNull(approved.ApprovedAt);
        Assert.True(finished.Status == Status.Passed, await _portal.DescribeAsync(finished));
        Assert.Contains("fork code ran", await _portal.LogAsync(finished.Jobs[0].Id));
        Assert.Equal("mia", finished.ApprovedBy);
        var entry = (await _portal.Service<AuditLog>().NewestAsync(50)).Single(e => e.Action == AuditActions.BuildApproved);
        Assert.Equal(("mia", $"project:{_slug}/build:{waiting.Id}"), (entry.Actor, entry.Target));
        Assert.Contains("PR #32 from fork outsider/patch-32 by outsider", entry.Details);
    }

    [Fact]
    public async Task Anonymous_callers_and_viewers_cannot_approve_and_the_build_keeps_waiting()
    {
        // Arrange
        var (_, waiting) = await OpenPullRequestAsync(33, "outsider", fromFork: true);
        var viewer = await TeamsPortal.CreateUserAsync(_portal, "vic", "viewer");
        using var asViewer = TeamsPortal.Client(_portal, viewer.Token);

        // Act
        using var anonymousPrivate = await _anonymous.PostAsync($"/api/v1/builds/{waiting.Id}/approve", null);
        using var anonymousMissing = await _anonymous.PostAsync("/api/v1/builds/987654/approve", null);
        (await _portal.Api.PatchAsJsonAsync($"/api/v1/projects/{_slug}", new { @public = true })).EnsureSuccessStatusCode();
        using var anonymousPublic = await _anonymous.PostAsync($"/api/v1/builds/{waiting.Id}/approve", null);
        using var byViewer = await asViewer.PostAsync($"/api/v1/builds/{waiting.Id}/approve", null);
        using var runner = await RawRunner.RegisterAsync(_portal, "eager");
        using var claim = await runner.ClaimAsync(waitSeconds: 1);

        // Assert: a private project's build answers anonymous callers exactly like one that does not exist.
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousPrivate.StatusCode);
        Assert.Equal(anonymousMissing.StatusCode, anonymousPrivate.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousPublic.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, claim.StatusCode);
        var now = await _portal.GetBuildAsync(waiting.Id);
        Assert.Equal((Status.AwaitingApproval, (string?)null), (now.Status, now.ApprovedBy));
        Assert.DoesNotContain(await _portal.Service<AuditLog>().NewestAsync(50), e => e.Action == AuditActions.BuildApproved);
    }

    [Fact]
    public async Task Approving_twice_or_approving_a_build_that_never_waited_answers_409_and_changes_nothing()
    {
        // Arrange
        var (_, waiting) = await OpenPullRequestAsync(34, "outsider", fromFork: true);
        var (_, inside) = await OpenPullRequestAsync(35, "insider", fromFork: false);
        using var first = await _portal.Api.PostAsync($"/api/v1/builds/{waiting.Id}/approve", null);
        var afterFirst = await _portal.GetBuildAsync(waiting.Id);

        // Act
        using var second = await _portal.Api.PostAsync($"/api/v1/builds/{waiting.Id}/approve", null);
        using var neverHeld = await _portal.Api.PostAsync($"/api/v1/builds/{inside.Id}/approve", null);

        // Assert
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Contains($"Build {waiting.Id} was already approved by admin", await second.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, neverHeld.StatusCode);
        Assert.Contains("is not awaiting approval (it is queued)", await neverHeld.Content.ReadAsStringAsync());
        var afterSecond = await _portal.GetBuildAsync(waiting.Id);
        Assert.Equal((afterFirst.Status, afterFirst.ApprovedBy, afterFirst.ApprovedAt, afterFirst.QueuedAt),
            (afterSecond.Status, afterSecond.ApprovedBy, afterSecond.ApprovedAt, afterSecond.QueuedAt));
        Assert.Single(await _portal.Service<AuditLog>().NewestAsync(50), e => e.Action == AuditActions.BuildApproved);
    }

    [Fact]
    public async Task A_waiting_fork_build_can_be_canceled_and_then_no_longer_approved()
    {
        // Arrange
        var (_, waiting) = await OpenPullRequestAsync(36, "outsider", fromFork: true);

        // Act
        using var cancel = await _portal.Api.PostAsync($"/api/v1/builds/{waiting.Id}/cancel", null);
        using var approve = await _portal.Api.PostAsync($"/api/v1/builds/{waiting.Id}/approve", null);

        // Assert
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, approve.StatusCode);
        var canceled = await _portal.GetBuildAsync(waiting.Id);
        Assert.Equal(Status.Canceled, canceled.Status);
        Assert.All(canceled.Jobs, j => Assert.Equal(Status.Canceled, j.Status));
        Assert.All(canceled.Jobs.SelectMany(j => j.Commands), c => Assert.Equal(Status.Skipped, c.Status));
    }

    [Fact]
    public async Task With_never_a_fork_pull_request_builds_at_once()
    {
        // Arrange
        var (_, before) = await OpenPullRequestAsync(37, "outsider", fromFork: true);
        (await _portal.Api.PatchAsJsonAsync($"/api/v1/projects/{_slug}", new { forkPullRequestApproval = "never" })).EnsureSuccessStatusCode();
        using var runner = await RawRunner.RegisterAsync(_portal, "eager");

        // Act
        var (response, build) = await OpenPullRequestAsync(137, "outsider", fromFork: true);
        var claimed = await runner.ClaimJobAsync();

        // Assert: the build from before the change still waits; the new one was claimed.
        Assert.Equal(Status.AwaitingApproval, before.Status);
        Assert.Equal(Status.AwaitingApproval, (await _portal.GetBuildAsync(before.Id)).Status);
        Assert.Contains("queued (from a fork: no secrets)", await response.Content.ReadAsStringAsync());
        Assert.Equal(Status.Queued, build.Status);
        Assert.Equal(build.Jobs[0].Id, claimed.JobId);
    }

    [Fact]
    public async Task With_first_time_a_new_author_waits_and_an_author_approved_before_does_not()
    {
        // Arrange
        (await _portal.Api.PatchAsJsonAsync($"/api/v1/projects/{_slug}", new { forkPullRequestApproval = "first-time" })).EnsureSuccessStatusCode();

        // Act
        var (_, firstOfNewcomer) = await OpenPullRequestAsync(38, "Newcomer", fromFork: true);
        (await _portal.Api.PostAsync($"/api/v1/builds/{firstOfNewcomer.Id}/approve", null)).EnsureSuccessStatusCode();
        var (_, secondOfNewcomer) = await OpenPullRequestAsync(39, "newcomer", fromFork: true);
        var (_, firstOfStranger) = await OpenPullRequestAsync(40, "stranger", fromFork: true);

        // Assert: GitHub logins are not case-sensitive.
        Assert.Equal(Status.AwaitingApproval, firstOfNewcomer.Status);
        Assert.Equal(Status.Queued, secondOfNewcomer.Status);
        Assert.Equal(Status.AwaitingApproval, firstOfStranger.Status);
    }

    [Fact]
    public async Task Same_repository_pull_requests_and_pushes_are_not_held()
    {
        // Arrange: the default, every fork build waits.
        var project = await _portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{_slug}");

        // Act
        var (response, inside) = await OpenPullRequestAsync(41, "insider", fromFork: false);
        var (_, fork) = await OpenPullRequestAsync(141, "outsider", fromFork: true);
        var mainSha = (await _repo.GitAsync("rev-parse", "HEAD")).Trim();
        using var push = await WebhookExamples.SendAsync(_anonymous, "push", new JsonObject
        {
            ["ref"] = "refs/heads/main",
            ["after"] = mainSha,
            ["repository"] = new JsonObject { ["full_name"] = Repository },
            ["head_commit"] = new JsonObject { ["message"] = "First", ["author"] = new JsonObject { ["name"] = "insider" } },
            ["pusher"] = new JsonObject { ["name"] = "insider" },
        }, _secret);
        var pushed = await _portal.GetBuildAsync(
            (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{_slug}/builds?branch=main"))!.Items.Single().Id);

        // Assert
        Assert.Equal(ForkApproval.Always, project!.ForkPullRequestApproval);
        Assert.Contains("of PR #41 at", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        Assert.Equal(Status.Queued, inside.Status);
        Assert.Equal(Status.Queued, pushed.Status);
        Assert.Equal(Status.AwaitingApproval, fork.Status);
    }

    [Fact]
    public async Task A_waiting_builds_commit_status_is_pending_and_says_it_waits_for_a_member()
    {
        // Act
        var (_, waiting) = await OpenPullRequestAsync(42, "outsider", fromFork: true);

        // Assert
        var status = await PortalHost.PollAsync(() => Task.FromResult(_statuses.FirstOrDefault(s => s.Path.EndsWith(waiting.CommitSha, StringComparison.Ordinal))),
            s => s.Body is not null, _ => "no commit status was reported in 60 s");
        Assert.Equal($"/repos/{Repository}/statuses/{waiting.CommitSha}", status.Path);
        Assert.Equal("pending", (string?)status.Body["state"]);
        Assert.Equal("Waiting for approval by a member", (string?)status.Body["description"]);
        Assert.Equal($"kaizen/{_slug}", (string?)status.Body["context"]);
    }

    [Fact]
    public async Task Only_admins_change_the_fork_approval_setting_and_only_to_one_of_its_three_values()
    {
        // Arrange
        var member = await TeamsPortal.CreateUserAsync(_portal, "mia", "member");
        using var asMember = TeamsPortal.Client(_portal, member.Token);

        // Act
        using var byMember = await asMember.PatchAsJsonAsync($"/api/v1/projects/{_slug}", new { forkPullRequestApproval = "never" });
        using var invalid = await _portal.Api.PatchAsJsonAsync($"/api/v1/projects/{_slug}", new { forkPullRequestApproval = "sometimes" });
        using var byAdmin = await _portal.Api.PatchAsJsonAsync($"/api/v1/projects/{_slug}", new { forkPullRequestApproval = "first-time" });

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, byMember.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("'sometimes' is not a fork pull request approval; use one of: always, first-time, never.", await invalid.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
        Assert.Equal(ForkApproval.FirstTime, (await byAdmin.Content.ReadFromJsonAsync<ProjectResponse>())!.ForkPullRequestApproval);
        var entry = (await _portal.Service<AuditLog>().NewestAsync(50)).First(e => e.Action == AuditActions.ProjectChanged);
        Assert.Equal("fork pull request approval: first-time", entry.Details);
    }

    /// <summary>Sends a signed "opened" delivery of pull request <paramref name="number"/> by <paramref name="author"/>, whose
    /// head is a new commit kept as refs/pull/N/head (as on GitHub); returns the answer and the build it made.</summary>
    private async Task<(HttpResponseMessage Response, BuildResponse Build)> OpenPullRequestAsync(int number, string author, bool fromFork)
    {
        var headRef = $"patch-{number}";
        var sha = await PullRequestHeadAsync(number, headRef);
        var payload = new JsonObject
        {
            ["action"] = "opened",
            ["number"] = number,
            ["pull_request"] = new JsonObject
            {
                ["number"] = number,
                ["title"] = $"Change number {number}",
                ["user"] = new JsonObject { ["login"] = author },
                ["head"] = new JsonObject
                {
                    ["sha"] = sha,
                    ["ref"] = headRef,
                    ["repo"] = new JsonObject { ["full_name"] = fromFork ? $"{author.ToLowerInvariant()}/shop" : Repository },
                },
                ["base"] = new JsonObject { ["ref"] = "main", ["repo"] = new JsonObject { ["full_name"] = Repository } },
            },
            ["repository"] = new JsonObject { ["full_name"] = Repository },
            ["sender"] = new JsonObject { ["login"] = author },
        };
        var response = await WebhookExamples.SendAsync(_anonymous, "pull_request", payload, _secret);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var listed = (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{_slug}/builds?branch=pull/{number}"))!.Items;
        return (response, await _portal.GetBuildAsync(listed[0].Id));
    }

    private async Task<string> PullRequestHeadAsync(int number, string branch)
    {
        await _repo.GitAsync("checkout", "-q", "-b", branch);
        await _repo.CommitAsync($"Change {number}", ($"change-{number}.txt", "x\n"));
        var sha = (await _repo.GitAsync("rev-parse", "HEAD")).Trim();
        await _repo.GitAsync("update-ref", $"refs/pull/{number}/head", sha);
        await _repo.GitAsync("checkout", "-q", "main");
        await _repo.GitAsync("branch", "-q", "-D", branch);
        return sha;
    }
}
