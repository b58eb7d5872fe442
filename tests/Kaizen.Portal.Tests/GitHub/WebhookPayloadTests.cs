using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.GitHub;

/// <summary>
/// Every real example payload of the events Kaizen uses, and bad deliveries: unsigned, wrongly signed, malformed,
/// incomplete, huge. No runner here: builds stay queued, so what a delivery did is read from the build list.
/// </summary>
public sealed class WebhookPayloadTests() : PortalWithRepository(embeddedSlots: 0)
{
    /// <summary>A project built from the local repository but linked to <paramref name="repository"/> on GitHub; returns its slug and secret.</summary>
    internal static async Task<(string Slug, string Secret)> LinkedProjectAsync(PortalHost portal, string gitPath, string name, string repository,
        params string[] commands)
    {
        var slug = await portal.CreateProjectAsync(name, gitPath, PortalHost.OneJob(commands.Length == 0 ? ["true"] : commands));
        (await portal.Api.PatchAsJsonAsync($"/api/v1/projects/{slug}", new { githubRepository = repository })).EnsureSuccessStatusCode();
        var project = await portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{slug}");
        return (slug, project!.WebhookSecret!);
    }

    private async Task<IReadOnlyList<BuildSummary>> BuildsAsync(string slug) =>
        (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds?pageSize=100"))!.Items;

    [SkippableFact]
    public async Task Every_example_of_the_used_events_is_understood_and_does_what_its_event_means()
    {
        WebhookExamples.Require();
        var projects = new Dictionary<string, (string Slug, string Secret)>(StringComparer.OrdinalIgnoreCase);
        var checkedCount = 0;
        foreach (var @event in new[] { "ping", "push", "pull_request", "create", "delete" })
        {
            foreach (var payload in WebhookExamples.Of(@event))
            {
                var repository = (string?)payload["repository"]?["full_name"];
                if (repository is null) continue; // A ping of an organization hook names no repository.
                if (!projects.TryGetValue(repository, out var project))
                    projects[repository] = project = await LinkedProjectAsync(_portal, _repo.Path, $"Example {projects.Count + 1}", repository);
                var before = (await BuildsAsync(project.Slug)).Count;

                var response = await WebhookExamples.SendAsync(_anonymous, @event, payload, project.Secret);
                var body = await response.Content.ReadAsStringAsync();
                var builds = await BuildsAsync(project.Slug);
                var what = $"{@event} {(string?)payload["action"]} {(string?)payload["ref"]}: {(int)response.StatusCode} {body}";
                checkedCount++;

                Assert.True((int)response.StatusCode < 300, what);
                var shouldBuild = @event switch
                {
                    "push" => ((string)payload["ref"]!).StartsWith("refs/heads/", StringComparison.Ordinal) && payload["deleted"]?.GetValue<bool>() != true,
                    "pull_request" => (string?)payload["action"] is "opened" or "synchronize" or "reopened",
                    _ => false,
                };
                Assert.True(shouldBuild == (builds.Count == before + 1), what);
                if (shouldBuild && @event == "push") Assert.Equal((string)payload["after"]!, builds[0].CommitSha);
                if (shouldBuild && @event == "pull_request")
                {
                    Assert.Equal((string)payload["pull_request"]!["head"]!["sha"]!, builds[0].CommitSha);
                    Assert.Equal($"pull/{(int)payload["number"]!}", builds[0].Branch);
                    Assert.Equal(Trigger.PullRequest, builds[0].Trigger);
                }
            }
        }
        Assert.True(checkedCount >= 20, $"only {checkedCount} examples were replayed");
    }

    [SkippableFact]
    public async Task Unsigned_wrongly_signed_or_foreign_deliveries_are_refused_with_401_and_change_nothing()
    {
        var push = WebhookExamples.Of("push").First(p => ((string)p["ref"]!).StartsWith("refs/heads/", StringComparison.Ordinal));
        var repository = (string)push["repository"]!["full_name"]!;
        var (slug, secret) = await LinkedProjectAsync(_portal, _repo.Path, "Guarded", repository);
        var (_, otherSecret) = await LinkedProjectAsync(_portal, _repo.Path, "Elsewhere", "someone-else/elsewhere");
        var body = Encoding.UTF8.GetBytes(push.ToJsonString());

        var unsigned = await WebhookExamples.SendAsync(_anonymous, "push", body, secret: null);
        var wrong = await WebhookExamples.SendAsync(_anonymous, "push", body, "not-the-secret");
        var other = await WebhookExamples.SendAsync(_anonymous, "push", body, otherSecret);
        var tampered = await WebhookExamples.SendAsync(_anonymous, "push", Encoding.UTF8.GetBytes(push.ToJsonString().Replace("refs/heads", "refs/heads/x", StringComparison.Ordinal)),
            secret, signatureOverride: WebhookExamples.Sign(secret, body));
        var garbage = await WebhookExamples.SendAsync(_anonymous, "push", body, secret, signatureOverride: "sha256=zz");

        foreach (var response in new[] { unsigned, wrong, other, tampered, garbage })
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("not signed", await unsigned.Content.ReadAsStringAsync());
        Assert.Empty(await BuildsAsync(slug));
        Assert.Equal(HttpStatusCode.Created, (await WebhookExamples.SendAsync(_anonymous, "push", body, secret)).StatusCode);
        Assert.Single(await BuildsAsync(slug));
    }

    [SkippableFact]
    public async Task Malformed_incomplete_or_huge_deliveries_get_a_clear_error()
    {
        var push = WebhookExamples.Of("push").First(p => ((string)p["ref"]!).StartsWith("refs/heads/", StringComparison.Ordinal));
        var repository = (string)push["repository"]!["full_name"]!;
        var (slug, secret) = await LinkedProjectAsync(_portal, _repo.Path, "Picky", repository);

        var notJson = await WebhookExamples.SendAsync(_anonymous, "push", Encoding.UTF8.GetBytes("{ this is not json"), secret);
        var noRepository = await WebhookExamples.SendAsync(_anonymous, "push", new JsonObject { ["ref"] = "refs/heads/main" }, secret);
        var noRef = push.DeepClone().AsObject();
        noRef.Remove("ref");
        var missingRef = await WebhookExamples.SendAsync(_anonymous, "push", noRef, secret);
        var wrongType = push.DeepClone().AsObject();
        wrongType["after"] = 42;
        var numberSha = await WebhookExamples.SendAsync(_anonymous, "push", wrongType, secret);
        var pr = WebhookExamples.Of("pull_request").First(p => (string?)p["action"] == "opened");
        pr["repository"]!["full_name"] = repository;
        pr.Remove("number");
        var prWithoutNumber = await WebhookExamples.SendAsync(_anonymous, "pull_request", pr, secret);
        var huge = new byte[GithubWebhook.MaxBodyBytes + 1024];
        Array.Fill(huge, (byte)' ');
        var tooBig = await WebhookExamples.SendAsync(_anonymous, "push", huge, secret);
        var noEvent = await _anonymous.PostAsync("/webhooks/github", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Contains("not JSON", await notJson.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, noRepository.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, missingRef.StatusCode);
        Assert.Contains("ref is missing", await missingRef.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, numberSha.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, prWithoutNumber.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noEvent.StatusCode);
        Assert.Empty(await BuildsAsync(slug));
        var deliveries = await _portal.Api.GetFromJsonAsync<List<WebhookDeliveryResponse>>($"/api/v1/projects/{slug}/webhook-deliveries");
        Assert.Contains(deliveries!, d => d.StatusCode == 400 && d.Outcome.Contains("ref is missing", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Deleting_a_branch_cancels_its_queued_builds_and_a_ping_is_answered()
    {
        var ping = WebhookExamples.Of("ping").First(p => p["repository"] is not null);
        var repository = (string)ping["repository"]!["full_name"]!;
        var (slug, secret) = await LinkedProjectAsync(_portal, _repo.Path, "Pruned", repository);
        await _repo.GitAsync("branch", "feature/gone");
        var queued = await _portal.StartBuildAsync(slug, "feature/gone");
        var kept = await _portal.StartBuildAsync(slug, "main");
        await _repo.GitAsync("branch", "-D", "feature/gone");
        var delete = WebhookExamples.Of("delete").First();
        delete["ref"] = "feature/gone";
        delete["ref_type"] = "branch";
        delete["repository"]!["full_name"] = repository;

        var pong = await WebhookExamples.SendAsync(_anonymous, "ping", ping, secret);
        var deleted = await WebhookExamples.SendAsync(_anonymous, "delete", delete, secret);

        Assert.Equal(HttpStatusCode.OK, pong.StatusCode);
        Assert.Contains("pong", await pong.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Contains("1 queued build(s) canceled", await deleted.Content.ReadAsStringAsync());
        Assert.Equal(Status.Canceled, (await _portal.GetBuildAsync(queued)).Status);
        Assert.Equal(Status.Queued, (await _portal.GetBuildAsync(kept)).Status);
        var project = await _portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{slug}");
        Assert.DoesNotContain(project!.Branches, b => b.Name == "feature/gone");
        var deliveries = await _portal.Api.GetFromJsonAsync<List<WebhookDeliveryResponse>>($"/api/v1/projects/{slug}/webhook-deliveries");
        Assert.Equal(["delete", "ping"], deliveries!.Select(d => d.Event));
    }

    [Theory]
    [InlineData("https://github.com/octo-org/web.git", "octo-org/web")]
    [InlineData("https://github.com/octo-org/web", "octo-org/web")]
    [InlineData("git@github.com:octo-org/web.git", "octo-org/web")]
    [InlineData("ssh://git@github.com/octo-org/web.js.git", "octo-org/web.js")]
    [InlineData("https://gitlab.com/octo-org/web.git", null)]
    [InlineData("/srv/git/web.git", null)]
    public void A_anonymous_repository_is_read_from_its_urls(string url, string? expected) =>
        Assert.Equal(expected, GithubRepositoryName.FromUrl(url));
}
