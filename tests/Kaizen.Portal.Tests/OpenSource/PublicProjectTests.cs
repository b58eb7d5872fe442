using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.OpenSource;

/// <summary>Anyone reads a public project's builds and logs; its deployment details stay private, and a private
/// project does not exist for anonymous callers.</summary>
public sealed class PublicProjectTests() : PortalWithRepository(embeddedSlots: 1)
{
    private Task<string> CreateAsync(string name, bool isPublic) =>
        _portal.CreateProjectAsync(name, _repo.Path, PortalHost.OneJob("echo \"public output, secret is [$HIDDEN]\""), isPublic);

    [Fact]
    public async Task Anonymous_callers_read_a_public_projects_builds_and_logs_but_not_its_servers_secrets_or_deploy_logs()
    {
        var slug = await CreateAsync("Open Tool", isPublic: true);
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/secrets/HIDDEN", new { value = "sekrit-value-1" })).EnsureSuccessStatusCode();
        (await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name = "production", commands = new[] { "echo deploying" }, trigger = new { mode = "manual", branch = "main" },
        })).EnsureSuccessStatusCode();
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        Assert.Equal(Status.Passed, build.Status);
        var deploy = await (await _portal.Api.PostAsJsonAsync($"/api/v1/builds/{build.Id}/deploys", new { server = "production" }))
            .Content.ReadFromJsonAsync<DeployResponse>();
        var deployJob = await WaitForDeployJobAsync(deploy!.Id);

        var projects = await _anonymous.GetFromJsonAsync<List<ProjectResponse>>("/api/v1/projects");
        var project = await _anonymous.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{slug}");
        var builds = await _anonymous.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds");
        var seen = await _anonymous.GetFromJsonAsync<BuildResponse>($"/api/v1/builds/{build.Id}");
        var log = await _anonymous.GetStringAsync($"/api/v1/jobs/{build.Jobs[0].Id}/log");

        Assert.Contains(projects!, p => p.Slug == slug);
        Assert.Equal("main", project!.DefaultBranch);
        Assert.Null(project.WebhookSecret);
        Assert.Equal(build.Id, builds!.Items.Single().Id);
        Assert.Equal(Status.Passed, seen!.Status);
        Assert.Contains("public output, secret is [***]", log);
        foreach (var hidden in new[]
                 {
                     $"/api/v1/projects/{slug}/servers", $"/api/v1/projects/{slug}/servers/production", $"/api/v1/projects/{slug}/secrets",
                     $"/api/v1/projects/{slug}/variables", $"/api/v1/projects/{slug}/settings", $"/api/v1/builds/{build.Id}/deploys",
                     $"/api/v1/deploys/{deploy.Id}", $"/api/v1/deploys/{deploy.Id}/log", "/api/v1/approvals", "/api/v1/secrets", "/api/v1/audit",
                 })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.GetAsync(hidden)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync($"/api/v1/jobs/{deployJob}/log")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync($"/api/v1/jobs/{deployJob}/log?sections=true")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync($"/api/v1/jobs/{deployJob}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _portal.Api.GetAsync($"/api/v1/jobs/{deployJob}/log")).StatusCode);
    }

    [Fact]
    public async Task A_private_project_is_not_found_for_anonymous_callers_and_found_when_signed_in()
    {
        var slug = await CreateAsync("Closed Tool", isPublic: false);
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        var projects = await _anonymous.GetFromJsonAsync<List<ProjectResponse>>("/api/v1/projects");
        Assert.DoesNotContain(projects!, p => p.Slug == slug);
        foreach (var url in new[] { $"/api/v1/projects/{slug}", $"/api/v1/projects/{slug}/builds", $"/api/v1/builds/{build.Id}", $"/api/v1/jobs/{build.Jobs[0].Id}/log" })
        {
            var response = await _anonymous.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            // Exactly what a project that does not exist answers.
            Assert.DoesNotContain("sign in", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
        static async Task<string> ProblemAsync(HttpResponseMessage r)
        {
            var problem = System.Text.Json.Nodes.JsonNode.Parse(await r.Content.ReadAsStringAsync())!.AsObject();
            return $"{(int)r.StatusCode} {problem["title"]} {problem["detail"]}";
        }
        Assert.Equal(
            (await ProblemAsync(await _anonymous.GetAsync("/api/v1/projects/no-such-project"))).Replace("no-such-project", slug, StringComparison.Ordinal),
            await ProblemAsync(await _anonymous.GetAsync($"/api/v1/projects/{slug}")));
        Assert.Equal(HttpStatusCode.OK, (await _portal.Api.GetAsync($"/api/v1/projects/{slug}")).StatusCode);
    }

    [Fact]
    public async Task Anonymous_callers_cannot_start_cancel_or_rerun_builds_even_of_a_public_project()
    {
        var slug = await CreateAsync("Open Builds", isPublic: true);
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.PostAsJsonAsync($"/api/v1/projects/{slug}/builds", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.PostAsync($"/api/v1/builds/{build.Id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.PostAsync($"/api/v1/builds/{build.Id}/rerun", null)).StatusCode);
        Assert.Equal(1, (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds"))!.Total);
    }

    [Fact]
    public async Task Admins_switch_a_project_between_public_and_private_and_see_its_webhook_secret()
    {
        var slug = await CreateAsync("Switching", isPublic: false);

        var patched = await _portal.Api.PatchAsJsonAsync($"/api/v1/projects/{slug}", new { @public = true, githubRepository = "octo-org/switching" });
        var asAdmin = await _portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{slug}");
        var asAnyone = await _anonymous.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{slug}");
        var invalid = await _portal.Api.PatchAsJsonAsync($"/api/v1/projects/{slug}", new { githubRepository = "not a repository" });

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.True(asAdmin!.IsPublic);
        Assert.Equal("octo-org/switching", asAdmin.GithubRepository);
        Assert.StartsWith("kzw_", asAdmin.WebhookSecret);
        Assert.Null(asAnyone!.WebhookSecret);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("owner/name", await invalid.Content.ReadAsStringAsync());
        // The secret stays the same until rotated.
        Assert.Equal(asAdmin.WebhookSecret, (await _portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{slug}"))!.WebhookSecret);
        var rotated = await (await _portal.Api.PostAsync($"/api/v1/projects/{slug}/webhook-secret", null)).Content.ReadFromJsonAsync<WebhookSecretResponse>();
        Assert.NotEqual(asAdmin.WebhookSecret, rotated!.Secret);
        Assert.EndsWith("/webhooks/github", rotated.Url);
    }

    private async Task<long> WaitForDeployJobAsync(long deployId)
    {
        var deploy = await PortalHost.PollAsync(
            async () => (await _portal.Api.GetFromJsonAsync<DeployResponse>($"/api/v1/deploys/{deployId}"))!,
            d => d.JobId is not null && d.Status is "passed" or "failed", d => $"deploy {deployId} is {d.Status}");
        return deploy.JobId!.Value;
    }
}
