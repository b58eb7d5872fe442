using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.GitHub;

/// <summary>
/// Deliveries built end to end by the real runner: a push, a pull request from the same repository and one from a
/// fork (which gets no secret even when its commands try to print them), with commit statuses reported to a loopback
/// server that answers like GitHub's API.
/// </summary>
public sealed class WebhookBuildTests : IAsyncLifetime
{
    private const string Repository = "octo-org/shop";
    private readonly ConcurrentQueue<(string Path, JsonObject Body, string? Authorization)> _statuses = new();
    private WebApplication _githubApi = null!;
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private HttpClient _github = null!;

    public async Task InitializeAsync()
    {
        (_githubApi, var api) = await LoopbackServer.StartAsync(app => app.MapPost("/repos/{owner}/{repo}/statuses/{sha}",
            async (HttpContext http) =>
            {
                var body = (await JsonNode.ParseAsync(http.Request.Body))!.AsObject();
                _statuses.Enqueue((http.Request.Path, body, http.Request.Headers.Authorization));
                return Results.Json(new { id = _statuses.Count, state = (string?)body["state"] }, statusCode: 201);
            }));

        _portal = await PortalHost.StartAsync(embeddedSlots: 2, settings: new Dictionary<string, string>
        {
            ["Kaizen:GitHub:Token"] = "ghp_test_token",
            ["Kaizen:GitHub:ApiUrl"] = api.ToString().TrimEnd('/'),
            ["Kaizen:PublicUrl"] = "https://ci.example.test",
        });
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
        _github = new HttpClient { BaseAddress = _portal.BaseUrl };
    }

    public async Task DisposeAsync()
    {
        _github.Dispose();
        await _portal.DisposeAsync();
        await _githubApi.DisposeAsync();
        _repo.Dispose();
    }

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..16];

    private static JsonObject PullRequest(int number, string sha, string headRepository, string headRef, string action = "opened")
    {
        var payload = WebhookExamples.Of("pull_request").First(p => (string?)p["action"] == "opened");
        payload["action"] = action;
        payload["number"] = number;
        var pr = payload["pull_request"]!.AsObject();
        pr["number"] = number;
        pr["title"] = $"Change number {number}";
        pr["head"]!["sha"] = sha;
        pr["head"]!["ref"] = headRef;
        pr["head"]!["repo"]!["full_name"] = headRepository;
        pr["base"]!["repo"]!["full_name"] = Repository;
        payload["repository"]!["full_name"] = Repository;
        return payload;
    }

    [SkippableFact]
    public async Task A_fork_pull_request_builds_without_secrets_while_a_push_and_a_same_repository_pull_request_have_them()
    {
        WebhookExamples.Require();
        var marks = Path.Combine(_portal.Exchange, $"marks-{Guid.NewGuid():N}");
        Directory.CreateDirectory(marks);
        var (slug, secret) = await WebhookPayloadTests.LinkedProjectAsync(_portal, _repo.Path, "Shop", Repository,
            "echo \"trying to leak [$DEPLOY_TOKEN] and [$PUBLIC_KEY]\"",
            "printf '%s|%s' \"$DEPLOY_TOKEN\" \"$PUBLIC_KEY\" | sha256sum | cut -c1-16 > " + marks + "/$KAIZEN_BUILD_ID",
            "printf '%s' \"$GREETING\" > " + marks + "/$KAIZEN_BUILD_ID.greeting");
        // This test is about secrets: the fork's build runs without waiting for a member (see ForkApprovalTests).
        (await _portal.Api.PatchAsJsonAsync($"/api/v1/projects/{slug}", new { forkPullRequestApproval = "never" })).EnsureSuccessStatusCode();
        var token = "tok-" + Guid.NewGuid().ToString("N");
        var publicKey = "pk-" + Guid.NewGuid().ToString("N");
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/secrets/DEPLOY_TOKEN", new { value = token })).EnsureSuccessStatusCode();
        (await _portal.Api.PutAsJsonAsync("/api/v1/secrets/PUBLIC_KEY", new { value = publicKey })).EnsureSuccessStatusCode();
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/variables/GREETING", new { value = "hi" })).EnsureSuccessStatusCode();

        // A push to main, then pull requests whose heads exist only as refs/pull/N/head (as on GitHub).
        var mainSha = (await _repo.GitAsync("rev-parse", "HEAD")).Trim();
        var push = WebhookExamples.Of("push").First(p => ((string)p["ref"]!).StartsWith("refs/heads/", StringComparison.Ordinal));
        push["ref"] = "refs/heads/main";
        push["after"] = mainSha;
        push["deleted"] = false;
        push["repository"]!["full_name"] = Repository;
        var pushed = await WebhookExamples.SendAsync(_github, "push", push, secret);
        Assert.Equal(HttpStatusCode.Created, pushed.StatusCode);

        var sameSha = await PullRequestHeadAsync(21, "feature/inside");
        var forkSha = await PullRequestHeadAsync(22, "patch-1");
        Assert.Equal(HttpStatusCode.Created, (await WebhookExamples.SendAsync(_github, "pull_request", PullRequest(21, sameSha, Repository, "feature/inside"), secret)).StatusCode);
        var forked = await WebhookExamples.SendAsync(_github, "pull_request", PullRequest(22, forkSha, "outsider/shop", "patch-1", "synchronize"), secret);
        Assert.Equal(HttpStatusCode.Created, forked.StatusCode);
        Assert.Contains("from a fork: no secrets", await forked.Content.ReadAsStringAsync());

        var builds = (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds"))!.Items;
        var pushBuild = await _portal.WaitForBuildAsync(builds.Single(b => b.Branch == "main").Id);
        var sameBuild = await _portal.WaitForBuildAsync(builds.Single(b => b.Branch == "pull/21").Id);
        var forkBuild = await _portal.WaitForBuildAsync(builds.Single(b => b.Branch == "pull/22").Id);

        foreach (var build in new[] { pushBuild, sameBuild, forkBuild })
            Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Equal(forkSha, forkBuild.CommitSha);
        Assert.Equal("Change number 22", forkBuild.CommitMessage);
        Assert.Equal(Hash(token + "|" + publicKey), Mark(marks, pushBuild.Id));
        Assert.Equal(Hash(token + "|" + publicKey), Mark(marks, sameBuild.Id));
        Assert.Equal(Hash("|"), Mark(marks, forkBuild.Id));
        Assert.Equal("hi", File.ReadAllText(Path.Combine(marks, $"{forkBuild.Id}.greeting")));
        Assert.Contains("trying to leak [] and []", await _portal.LogAsync(forkBuild.Jobs[0].Id));
        Assert.Contains("trying to leak [***] and [***]", await _portal.LogAsync(sameBuild.Jobs[0].Id));
        var row = await _portal.Service<BuildStore>().FindAsync(forkBuild.Id);
        Assert.Equal("PR #22 from fork outsider/patch-1", row!.Source);

        // A fork's build can never be deployed.
        (await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name = "preview", commands = new[] { "true" }, trigger = new { mode = "manual", branch = "" },
        })).EnsureSuccessStatusCode();
        var deploy = await _portal.Api.PostAsJsonAsync($"/api/v1/builds/{forkBuild.Id}/deploys", new { server = "preview" });
        Assert.Equal(HttpStatusCode.Conflict, deploy.StatusCode);

        // The project may allow one named secret for forks; the others stay out.
        (await _portal.Api.PatchAsJsonAsync($"/api/v1/projects/{slug}", new { forkSecrets = new[] { "PUBLIC_KEY" } })).EnsureSuccessStatusCode();
        var reopened = await WebhookExamples.SendAsync(_github, "pull_request", PullRequest(22, forkSha, "outsider/shop", "patch-1", "reopened"), secret);
        Assert.Equal(HttpStatusCode.Created, reopened.StatusCode);
        var again = (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds"))!.Items.First(b => b.Branch == "pull/22");
        await _portal.WaitForBuildAsync(again.Id);
        Assert.Equal(Hash("|" + publicKey), Mark(marks, again.Id));

        // Every build reported its state on its commit: pending first, success last.
        await WaitForAsync(() => _statuses.Count(s => (string?)s.Body["state"] == "success") >= 4);
        var forkStatuses = _statuses.Where(s => s.Path.EndsWith(forkSha, StringComparison.Ordinal)).Select(s => (string)s.Body["state"]!).ToList();
        Assert.Equal("success", forkStatuses[^1]);
        var status = _statuses.First(s => s.Path == $"/repos/{Repository}/statuses/{mainSha}");
        Assert.Equal("Bearer ghp_test_token", status.Authorization);
        Assert.Equal($"kaizen/{slug}", (string)status.Body["context"]!);
        Assert.Equal($"https://ci.example.test/builds/{pushBuild.Id}", (string)status.Body["target_url"]!);
        Directory.Delete(marks, recursive: true);
    }

    private static string Mark(string marks, long buildId) => File.ReadAllText(Path.Combine(marks, buildId.ToString(System.Globalization.CultureInfo.InvariantCulture))).Trim();

    /// <summary>A commit reachable only from refs/pull/N/head, as GitHub keeps a pull request's head.</summary>
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

    private static Task WaitForAsync(Func<bool> condition) =>
        PortalHost.PollAsync(() => Task.FromResult(condition()), met => met, _ => "the condition was not met in 60 s");
}
