using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Data;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Delivery;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Projects;

/// <summary>
/// Renaming a project, pointing it at another repository and deleting it over the API, through the real portal, real
/// git, the real runner and real bash. What could a member with bad intent or an anonymous visitor do with these? Nothing:
/// each is refused and the project stays as it was.
/// </summary>
public sealed class ProjectLifecycleApiTests(DeliveryPortal fixture) : IClassFixture<DeliveryPortal>
{
    private PortalHost Portal => fixture.Portal;

    private async Task<ProjectResponse> GetAsync(string slug) =>
        (await Portal.Api.GetFromJsonAsync<ProjectResponse>($"/api/v1/projects/{slug}"))!;

    private Task<HttpResponseMessage> PatchAsync(HttpClient client, string slug, object body) =>
        client.PatchAsJsonAsync($"/api/v1/projects/{slug}", body);

    private async Task<List<AuditEntry>> AuditOfAsync(string slug) =>
        (await Portal.Service<AuditLog>().NewestAsync(AuditLog.MaxLimit)).Where(e => e.Target == $"project:{slug}").Reverse().ToList();

    [Fact]
    public async Task A_rename_keeps_the_slug_and_every_address_and_is_audited()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();

        // Act
        using var renamed = await PatchAsync(Portal.Api, slug, new { name = "  Payments service  " });

        // Assert
        Assert.True(renamed.StatusCode == HttpStatusCode.OK, await renamed.Content.ReadAsStringAsync());
        var project = await GetAsync(slug);
        Assert.Equal(("Payments service", slug), (project.Name, project.Slug));
        var entry = Assert.Single(await AuditOfAsync(slug), e => e.Action == AuditActions.ProjectRenamed);
        Assert.Contains("to 'Payments service'", entry.Details);
        Assert.Equal("admin", entry.Actor);
    }

    [Theory]
    [InlineData("", "name is required")]
    [InlineData("   ", "name is required")]
    [InlineData("bell\u0007", "control characters")]
    [InlineData("right-to-left \u202Egnp.exe", "bidirectional")]
    public async Task A_name_that_cannot_be_shown_is_refused_naming_the_field_and_nothing_changes(string name, string expected)
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        var before = await GetAsync(slug);

        // Act
        using var response = await PatchAsync(Portal.Api, slug, new { name, @public = true });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(expected, problem.GetProperty("errors").GetProperty("name")[0].GetString());
        Assert.StartsWith("name", problem.GetProperty("detail").GetString());
        var after = await GetAsync(slug);
        Assert.Equal((before.Name, before.IsPublic), (after.Name, after.IsPublic));
    }

    [Fact]
    public async Task A_name_longer_than_creation_allows_is_refused()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();

        // Act
        using var response = await PatchAsync(Portal.Api, slug, new { name = new string('n', ProjectService.MaxNameLength + 1) });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"{ProjectService.MaxNameLength} characters or fewer", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_project_pointed_at_another_repository_builds_that_repository_and_forgets_the_old_branches()
    {
        // Arrange: the second repository has its own file, its own branch and another default branch.
        var first = await fixture.NewRepositoryAsync();
        await first.GitAsync("checkout", "-q", "-b", "old-feature");
        await first.CommitAsync("Old", ("old.txt", "old\n"));
        await first.GitAsync("checkout", "-q", "main");
        var slug = await fixture.CreateProjectAsync(first, "cat origin.txt 2>/dev/null || echo 'no origin.txt'");
        using var second = await GitRepo.CreateAsync("trunk");
        await second.CommitAsync("Moved", ("origin.txt", "from the second repository\n"));
        await second.GitAsync("branch", "release-2");
        var before = await GetAsync(slug);
        Assert.Contains(before.Branches, b => b.Name == "old-feature");

        // Act
        using var moved = await PatchAsync(Portal.Api, slug, new { gitUrl = second.Path });
        var build = await Portal.WaitForBuildAsync(await Portal.StartBuildAsync(slug));

        // Assert
        Assert.True(moved.StatusCode == HttpStatusCode.OK, await moved.Content.ReadAsStringAsync());
        var project = await GetAsync(slug);
        Assert.Equal((second.Path, "trunk"), (project.GitUrl, project.DefaultBranch));
        Assert.Equal(["release-2", "trunk"], project.Branches.Select(b => b.Name).Order(StringComparer.Ordinal));
        Assert.True(build.Status == Status.Passed, await Portal.DescribeAsync(build));
        Assert.Equal("trunk", build.Branch);
        Assert.Contains("from the second repository", await Portal.LogAsync(build.Jobs.Single().Id));
        var entry = Assert.Single(await AuditOfAsync(slug), e => e.Action == AuditActions.ProjectGitUrlChanged);
        Assert.Contains(second.Path, entry.Details);
        var mirror = Portal.Service<GitMirror>().MirrorPath(project.Id);
        Assert.DoesNotContain("old-feature", await GitRepo.RunGitAsync(mirror, "branch", "--list"));
    }

    [Theory]
    [InlineData("", "gitUrl is required")]
    [InlineData("ftp://example.com/repo.git", "not supported")]
    [InlineData("--upload-pack=touch /tmp/owned", "must not start with '-'")]
    [InlineData("ext::sh -c touch% /tmp/owned", "remote helpers")]
    public async Task A_git_url_that_creation_would_refuse_is_refused_and_neither_name_nor_url_changes(string gitUrl, string expected)
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        var before = await GetAsync(slug);

        // Act
        using var response = await PatchAsync(Portal.Api, slug, new { name = "Renamed meanwhile", gitUrl });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(expected, problem.GetProperty("errors").GetProperty("gitUrl")[0].GetString());
        var after = await GetAsync(slug);
        Assert.Equal((before.Name, before.GitUrl), (after.Name, after.GitUrl));
        Assert.DoesNotContain(await AuditOfAsync(slug), e => e.Action is AuditActions.ProjectRenamed or AuditActions.ProjectGitUrlChanged);
    }

    [Fact]
    public async Task A_git_url_where_no_repository_answers_is_refused()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        using var empty = new TempDirectory();

        // Act
        using var response = await PatchAsync(Portal.Api, slug, new { gitUrl = empty.Path });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("gitUrl", await response.Content.ReadAsStringAsync());
        Assert.NotEqual(empty.Path, (await GetAsync(slug)).GitUrl);
    }

    [Fact]
    public async Task Deleting_a_project_removes_its_builds_logs_artifacts_caches_servers_and_secrets_with_their_files()
    {
        // Arrange: a build that pushed an artifact and stored a cache, a deploy, a server, a secret and a variable.
        var repo = await fixture.NewRepositoryAsync();
        var slug = await fixture.CreateProjectAsync(repo,
            "mkdir -p out deps && echo made > out/app.txt && echo dep > deps/lib.txt",
            "kaizen artifact push out",
            "kaizen cache store --key deps-1 -- deps");
        var build = await fixture.PassedBuildAsync(slug);
        await fixture.CreateServerAsync(slug, "staging", ["echo deployed"]);
        var deploy = await Deploys.WaitAsync(fixture.Admin, (await Deploys.RequestOkAsync(fixture.Admin, build.Id, "staging")).Id);
        Assert.Equal(DeployStatus.Passed, deploy.Status);
        await PutOkAsync($"/api/v1/projects/{slug}/secrets/API_KEY", new { value = "s3cret" });
        await PutOkAsync($"/api/v1/projects/{slug}/variables/REGION", new { value = "eu" });
        await PutOkAsync($"/api/v1/projects/{slug}/servers/staging/secrets/DEPLOY_KEY", new { value = "deploy-key" });
        var project = await GetAsync(slug);
        var kaizen = Portal.Service<IOptions<KaizenOptions>>().Value;
        var files = await StoredFilesAsync(project.Id);
        Assert.Equal(2, files.Count);
        Assert.All(files, f => Assert.True(File.Exists(f), f));
        var mirror = Portal.Service<GitMirror>().MirrorPath(project.Id);
        Assert.True(Directory.Exists(mirror));
        var other = await fixture.SharedProjectAsync();

        // Act
        using var deleted = await Portal.Api.DeleteAsync($"/api/v1/projects/{slug}?confirm={Uri.EscapeDataString(project.Name)}");

        // Assert
        Assert.True(deleted.StatusCode == HttpStatusCode.OK, await deleted.Content.ReadAsStringAsync());
        var removed = (await deleted.Content.ReadFromJsonAsync<DeletedProjectResponse>())!;
        Assert.Equal((slug, 1, 1, 1, 1), (removed.Slug, removed.Builds, removed.Artifacts, removed.Caches, removed.Servers));
        Assert.Equal(2, removed.Jobs);
        Assert.Equal(HttpStatusCode.NotFound, (await Portal.Api.GetAsync($"/api/v1/projects/{slug}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Portal.Api.GetAsync($"/api/v1/builds/{build.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Portal.Api.GetAsync($"/api/v1/jobs/{build.Jobs[0].Id}/log")).StatusCode);
        Assert.DoesNotContain((await Portal.Api.GetFromJsonAsync<List<ProjectResponse>>("/api/v1/projects"))!, p => p.Slug == slug);
        Assert.All(files, f => Assert.False(File.Exists(f), $"{f} is still on disk"));
        Assert.False(Directory.Exists(mirror), "the git mirror is still on disk");
        Assert.Empty(await RowsOfAsync(project.Id, build.Id));
        var entry = Assert.Single(await AuditOfAsync(slug), e => e.Action == AuditActions.ProjectDeleted);
        Assert.Contains(project.Name, entry.Details);
        Assert.Equal(HttpStatusCode.OK, (await Portal.Api.GetAsync($"/api/v1/projects/{other}")).StatusCode);
        Assert.True(Directory.Exists(kaizen.Artifacts.ResolveDirectory(kaizen)));
    }

    private async Task PutOkAsync(string path, object body)
    {
        using var response = await Portal.Api.PutAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The files on disk of the project's artifacts and caches.</summary>
    private async Task<List<string>> StoredFilesAsync(long projectId)
    {
        var kaizen = Portal.Service<IOptions<KaizenOptions>>().Value;
        await using var c = await Portal.Service<Database>().OpenAsync();
        var artifacts = await c.QueryAsync<string>("SELECT storage_key FROM artifacts WHERE project_id = @projectId", new { projectId });
        var caches = await c.QueryAsync<string>("SELECT storage_key FROM cache_entries WHERE project_id = @projectId", new { projectId });
        return artifacts.Select(k => Path.Combine(kaizen.Artifacts.ResolveDirectory(kaizen), k))
            .Concat(caches.Select(k => Path.Combine(kaizen.Caches.ResolveDirectory(kaizen), k))).ToList();
    }

    /// <summary>"table: count" of every table that still has a row of the project or its build.</summary>
    private async Task<List<string>> RowsOfAsync(long projectId, long buildId)
    {
        await using var c = await Portal.Service<Database>().OpenAsync();
        var left = new List<string>();
        foreach (var table in ProjectRemoval.Tables)
        {
            var columns = (await c.QueryAsync<string>($"SELECT name FROM pragma_table_info('{table}')")).ToHashSet();
            var where = new List<string>();
            if (columns.Contains("project_id")) where.Add("project_id = @projectId");
            if (columns.Contains("build_id")) where.Add("build_id = @buildId");
            if (table == "projects") where.Add("id = @projectId");
            if (table == "variables") where.Add("(scope_kind = 'project' AND scope_id = @projectId)");
            if (where.Count == 0) continue;
            var count = await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE {string.Join(" OR ", where)}", new { projectId, buildId });
            if (count > 0) left.Add($"{table}: {count}");
        }
        var servers = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM variables WHERE scope_kind = 'server' AND scope_id NOT IN (SELECT id FROM servers)");
        if (servers > 0) left.Add($"variables of deleted servers: {servers}");
        return left;
    }

    [Theory]
    [InlineData("", "confirm is required")]
    [InlineData("?confirm=", "confirm is required")]
    [InlineData("?confirm=another-project", "is neither the project's name nor its slug")]
    public async Task Deleting_without_typing_the_projects_name_is_refused_and_deletes_nothing(string query, string expected)
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.PassedBuildAsync(slug);

        // Act
        using var response = await Portal.Api.DeleteAsync($"/api/v1/projects/{slug}{query}");

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
        Assert.Single((await Portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds"))!.Items);
    }

    [Fact]
    public async Task The_slug_confirms_a_deletion_as_well_as_the_name()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();

        // Act
        using var response = await Portal.Api.DeleteAsync($"/api/v1/projects/{slug}?confirm={slug}");

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Portal.Api.DeleteAsync($"/api/v1/projects/{slug}?confirm={slug}")).StatusCode);
    }

    [Fact]
    public async Task A_project_with_a_running_job_is_kept_until_its_build_is_canceled()
    {
        // Arrange
        var marks = fixture.NewMarks();
        var slug = await fixture.CreateProjectAsync(await fixture.NewRepositoryAsync(), $"touch '{marks}/started'; sleep 120");
        var buildId = await Portal.StartBuildAsync(slug);
        await PortalHost.PollAsync(() => Task.FromResult(File.Exists(Path.Combine(marks, "started"))), s => s, _ => "the job did not start");

        // Act
        using var refused = await Portal.Api.DeleteAsync($"/api/v1/projects/{slug}?confirm={slug}");
        (await Portal.Api.PostAsync($"/api/v1/builds/{buildId}/cancel", null)).EnsureSuccessStatusCode();
        await Portal.WaitForBuildAsync(buildId);
        using var deleted = await Portal.Api.DeleteAsync($"/api/v1/projects/{slug}?confirm={slug}");

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains($"Build {buildId}", await refused.Content.ReadAsStringAsync());
        Assert.Contains("cancel it", await refused.Content.ReadAsStringAsync());
        Assert.True(deleted.StatusCode == HttpStatusCode.OK, await deleted.Content.ReadAsStringAsync());
    }

    public static TheoryData<string> NotAdmins => new() { "member", "viewer", "anonymous" };

    [Theory]
    [MemberData(nameof(NotAdmins))]
    public async Task Someone_who_is_not_an_admin_cannot_rename_move_or_delete_a_project(string who)
    {
        // Arrange: what they would try: take the name, point the builds at a path on the portal's machine, delete it.
        var slug = await fixture.CreateProjectAsync();
        var before = await GetAsync(slug);
        using var anonymous = new HttpClient { BaseAddress = Portal.BaseUrl };
        var client = who switch { "member" => fixture.Member, "viewer" => fixture.Viewer, _ => anonymous };
        var expected = who == "anonymous" ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden;

        // Act
        using var rename = await PatchAsync(client, slug, new { name = "Taken over" });
        using var move = await PatchAsync(client, slug, new { gitUrl = Portal.DataDirectory });
        using var delete = await client.DeleteAsync($"/api/v1/projects/{slug}?confirm={slug}");

        // Assert
        Assert.Equal([expected, expected, expected], new[] { rename.StatusCode, move.StatusCode, delete.StatusCode });
        var after = await GetAsync(slug);
        Assert.Equal((before.Name, before.GitUrl), (after.Name, after.GitUrl));
    }

    [Fact]
    public async Task An_admin_cannot_point_a_project_at_the_portals_own_data_folder()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();

        // Act
        using var response = await PatchAsync(Portal.Api, slug, new { gitUrl = Portal.DataDirectory });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("data folder", await response.Content.ReadAsStringAsync());
    }
}
