using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Portal.Api;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>One portal (no runner: builds stay queued) and one repository shared by the API tests.</summary>
public sealed class ApiPortal : IAsyncLifetime
{
    public PortalHost Portal { get; private set; } = null!;
    public GitRepo Repo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Portal = await PortalHost.StartAsync(embeddedSlots: 0);
        Repo = await GitRepo.CreateAsync("main");
        await Repo.CommitAsync("First", ("readme.txt", "hello\n"));
    }

    public async Task DisposeAsync()
    {
        await Portal.DisposeAsync();
        Repo.Dispose();
    }
}

/// <summary>REST API v1 against the real portal: authentication, bad input, and the answers a script relies on.</summary>
public sealed class ApiTests(ApiPortal fixture) : IClassFixture<ApiPortal>
{
    private readonly PortalHost _portal = fixture.Portal;
    private readonly GitRepo _repo = fixture.Repo;

    private static readonly object ValidSettings = new
    {
        setup = Array.Empty<string>(),
        jobs = new[] { new { name = "test", commands = new[] { "true" } } },
        epilogue = Array.Empty<string>(),
    };

    private HttpClient Client(string? token)
    {
        var http = new HttpClient { BaseAddress = _portal.BaseUrl };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<string> NewProjectAsync(string name, object? settings = null)
    {
        var created = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name, gitUrl = _repo.Path });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var slug = (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;
        if (settings is not null)
            Assert.Equal(HttpStatusCode.OK, (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", settings)).StatusCode);
        return slug;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("kzt_wrong_token")]
    [InlineData("")]
    public async Task The_api_refuses_changes_without_a_valid_token_and_shows_anonymous_callers_no_private_project(string? token)
    {
        var slug = await NewProjectAsync("Private One");
        using var http = Client(token);

        using var list = await http.GetAsync("/api/v1/projects");
        using var create = await http.PostAsJsonAsync("/api/v1/projects", new { name = "x", gitUrl = _repo.Path });

        Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
        if (string.IsNullOrEmpty(token))
        {
            // Anonymous: public projects only, and this one is private.
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            var seen = (await list.Content.ReadFromJsonAsync<List<ProjectResponse>>())!;
            Assert.DoesNotContain(seen, p => p.Slug == slug || !p.IsPublic);
        }
        else
        {
            // A wrong token is refused even where anonymous reads are allowed.
            Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        }
    }

    [Fact]
    public async Task A_runner_token_is_not_accepted_by_the_user_api()
    {
        using var anonymous = Client(null);
        using var registered = await RawRunner.RegisterAsync(anonymous, PortalHost.RegistrationToken, "api-probe");
        var runnerToken = (await registered.Content.ReadFromJsonAsync<RegisterResponse>(RunnerJson.Options))!.Token;
        using var http = Client(runnerToken);

        using var list = await http.GetAsync("/api/v1/projects");

        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
    }

    [Fact]
    public async Task A_user_api_token_is_not_accepted_by_the_runner_protocol()
    {
        using var http = Client(PortalHost.AdminToken);

        using var claim = await http.PostAsJsonAsync(RunnerRoutes.Claim, new ClaimRequest(0), RunnerJson.Options);
        using var heartbeat = await http.PostAsJsonAsync(RunnerRoutes.Heartbeat, new HeartbeatRequest([1]), RunnerJson.Options);

        Assert.Equal(HttpStatusCode.Unauthorized, claim.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, heartbeat.StatusCode);
    }

    [Fact]
    public async Task Creating_a_project_from_an_unreachable_repository_is_a_bad_request_that_says_why()
    {
        var missing = Path.Combine(Path.GetTempPath(), "kaizen-no-such-repository-" + Guid.NewGuid().ToString("N"));

        using var response = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name = "Nowhere", gitUrl = missing });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("Could not read the git repository", body);
        Assert.Contains(missing, body);
    }

    [Fact]
    public async Task A_git_remote_helper_url_is_refused_before_git_runs_it()
    {
        using var marker = new TempDirectory();
        var touched = Path.Combine(marker.Path, "pwned");

        using var response = await _portal.Api.PostAsJsonAsync("/api/v1/projects",
            new { name = "Helper", gitUrl = $"ext::sh -c touch% {touched}" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("remote helpers", await response.Content.ReadAsStringAsync());
        Assert.False(File.Exists(touched), "git never ran the helper command");
    }

    [Theory]
    [InlineData("", "name is required")]
    [InlineData("   ", "name is required")]
    public async Task Creating_a_project_without_a_name_is_a_bad_request(string name, string message)
    {
        using var response = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name, gitUrl = _repo.Path });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Creating_a_project_without_a_git_url_is_a_bad_request()
    {
        using var response = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name = "No URL" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("gitUrl is required", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("POST", "/api/v1/projects", "{ \"name\": \"broken\", ")]
    [InlineData("POST", "/api/v1/projects", "{ \"name\": 5, \"gitUrl\": [] }")]
    [InlineData("POST", "/api/v1/projects", "not json at all")]
    [InlineData("PUT", "/api/v1/projects/{slug}/settings", "{ \"jobs\": [ { \"name\": \"a\", ")]
    [InlineData("PUT", "/api/v1/projects/{slug}/settings", "{ \"jobs\": \"test\" }")]
    [InlineData("POST", "/api/v1/projects/{slug}/builds", "{ \"branch\": ")]
    public async Task A_malformed_json_body_is_a_bad_request_not_a_server_error(string method, string route, string body)
    {
        var slug = await NewProjectAsync("Malformed", ValidSettings);
        using var request = new HttpRequestMessage(new HttpMethod(method), route.Replace("{slug}", slug)) { Content = Json(body) };

        using var response = await _portal.Api.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Building_an_unknown_branch_is_not_found()
    {
        var slug = await NewProjectAsync("Branchy", ValidSettings);

        using var response = await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/builds", new { branch = "no-such-branch" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Branch 'no-such-branch' does not exist", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("GET", "/api/v1/projects/no-such-project")]
    [InlineData("GET", "/api/v1/projects/no-such-project/settings")]
    [InlineData("GET", "/api/v1/projects/no-such-project/builds")]
    [InlineData("POST", "/api/v1/projects/no-such-project/builds")]
    [InlineData("PUT", "/api/v1/projects/no-such-project/settings")]
    [InlineData("GET", "/api/v1/builds/987654")]
    [InlineData("POST", "/api/v1/builds/987654/cancel")]
    [InlineData("POST", "/api/v1/builds/987654/rerun")]
    [InlineData("GET", "/api/v1/jobs/987654/log")]
    public async Task Unknown_projects_builds_and_jobs_are_not_found(string method, string route)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), route);
        if (method != "GET") request.Content = JsonContent.Create(ValidSettings);

        using var response = await _portal.Api.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(route.Contains("project") ? "No project 'no-such-project'" : "987654", await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string[]> InvalidSettings => new()
    {
        { "{ \"setup\": [], \"jobs\": [], \"epilogue\": [] }", ["Add at least one job"] },
        { "{ }", ["Add at least one job"] },
        {
            "{ \"jobs\": [ { \"name\": \"test\", \"commands\": [\"true\"] }, { \"name\": \" Test \", \"commands\": [\"true\"] } ] }",
            ["jobs[1]: another job is already named 'Test'"]
        },
        { "{ \"jobs\": [ { \"name\": \"test\", \"commands\": [\"  \"] } ] }", ["jobs[0] ('test') has an empty command"] },
        { "{ \"jobs\": [ { \"name\": \"test\", \"commands\": [] } ] }", ["jobs[0] ('test') needs at least one command"] },
        { "{ \"jobs\": [ { \"name\": \"\", \"commands\": [\"true\"] } ] }", ["jobs[0] needs a name"] },
        {
            "{ \"setup\": [\"\"], \"jobs\": [ { \"name\": \"test\", \"commands\": [\"true\"] } ], \"epilogue\": [\" \"] }",
            ["setup has an empty command", "epilogue has an empty command"]
        },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task Invalid_build_settings_are_a_bad_request_that_lists_every_problem(string settings, string[] messages)
    {
        var slug = await NewProjectAsync("Settings");

        using var response = await _portal.Api.PutAsync($"/api/v1/projects/{slug}/settings", Json(settings));
        var saved = await _portal.Api.GetFromJsonAsync<BuildSettingsBody>($"/api/v1/projects/{slug}/settings");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.All(messages, m => Assert.Contains(m, body));
        Assert.Empty(saved!.Jobs);
    }

    private sealed record BuildSettingsBody(IReadOnlyList<string> Setup, IReadOnlyList<object> Jobs, IReadOnlyList<string> Epilogue);

    [Fact]
    public async Task Building_a_project_without_settings_is_a_bad_request_that_points_to_the_settings()
    {
        var slug = await NewProjectAsync("Unconfigured");

        using var response = await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/builds", new { branch = "main" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"PUT /api/v1/projects/{slug}/settings", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_is_ok_without_signing_in_with_the_database_writable_and_the_free_space_against_its_minimum()
    {
        using var http = Client(null);

        using var response = await http.GetAsync("/healthz");
        var health = await response.Content.ReadFromJsonAsync<Kaizen.Portal.Hosting.HealthResponse>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("ok", true, 512L), (health!.Status, health.DatabaseWritable, health.MinFreeMegabytes));
        Assert.Empty(health.Reasons);
        Assert.True(health.DataFreeMegabytes >= 512, $"{health.DataFreeMegabytes} MB free");
    }

    [Fact]
    public async Task The_openapi_document_describes_the_api()
    {
        using var http = Client(null);

        using var response = await http.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadAsStringAsync();
        Assert.Contains("/api/v1/projects/{slug}/builds", document);
        Assert.Contains("/api/v1/jobs/{id}/log", document);
        Assert.DoesNotContain("/api/runner", document);
    }

    [Fact]
    public async Task Projects_with_the_same_name_get_unique_slugs()
    {
        var first = await NewProjectAsync("Twin Project");
        var second = await NewProjectAsync("Twin Project");
        var third = await NewProjectAsync("twin  project!");

        Assert.Equal(["twin-project", "twin-project-2", "twin-project-3"], [first, second, third]);
        var projects = await _portal.Api.GetFromJsonAsync<List<ProjectResponse>>("/api/v1/projects");
        Assert.Equal(3, projects!.Count(p => p.Slug.StartsWith("twin-project", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_project_is_private_unless_made_public_and_lists_its_branches()
    {
        var created = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name = "Public One", gitUrl = _repo.Path, isPublic = true });
        var publicSlug = (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;
        var privateSlug = await NewProjectAsync("Private One");

        var privateProject = await _portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{privateSlug}");
        var publicProject = await _portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{publicSlug}");

        Assert.False(privateProject!.IsPublic);
        Assert.True(publicProject!.IsPublic);
        Assert.Equal("main", privateProject.DefaultBranch);
        var branch = Assert.Single(privateProject.Branches);
        Assert.Equal(("main", await _repo.GitAsync("rev-parse", "HEAD")), (branch.Name, branch.HeadSha));
    }

    [Fact]
    public async Task A_started_build_is_queued_and_listed_with_its_branch()
    {
        var slug = await NewProjectAsync("Queued", ValidSettings);

        using var response = await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/builds", new { branch = "main" });
        var id = (await response.Content.ReadFromJsonAsync<CreatedResponse>())!.Id;
        var build = await _portal.GetBuildAsync(id);
        var list = await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/api/v1/builds/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(("queued", "main", "api"), (build.Status, build.Branch, build.Trigger));
        Assert.Equal(await _repo.GitAsync("rev-parse", "HEAD"), build.CommitSha);
        Assert.Equal([(id, "queued", "main")], list!.Items.Select(b => (b.Id, b.Status, b.Branch)));
    }
}
