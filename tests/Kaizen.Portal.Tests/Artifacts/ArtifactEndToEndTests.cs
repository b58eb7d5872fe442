using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Artifacts;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Delivery;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Artifacts;

/// <summary>Artifacts through the real portal, the real runner and real bash: <c>kaizen artifact push|pull</c> in jobs,
/// a deploy pulling its build's artifacts, and the stable download URLs.</summary>
public sealed class ArtifactEndToEndTests : IAsyncLifetime
{
    private readonly DeliveryPortal _delivery = new();

    private PortalHost Portal => _delivery.Portal;

    public Task InitializeAsync() => _delivery.InitializeAsync();

    public Task DisposeAsync() => _delivery.DisposeAsync();

    [Fact]
    public async Task An_artifact_pushed_by_one_job_is_pulled_by_a_waiting_job_and_by_a_deploy_of_the_build()
    {
        // Arrange: "make" pushes only once the test saw "use" waiting for it.
        var go = Path.Combine(_delivery.Marks, "go");
        var repo = await _delivery.NewRepositoryAsync();
        var slug = await Portal.CreateProjectAsync("Artifacts " + Guid.NewGuid().ToString("N")[..6], repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[]
            {
                new { name = "make", commands = new[]
                {
                    "mkdir -p out && echo \"built by $KAIZEN_JOB_NAME\" > out/app.txt",
                    $"while [ ! -f '{go}' ]; do sleep 0.1; done",
                    "kaizen artifact push out",
                } },
                new { name = "use", commands = new[] { "kaizen artifact pull --wait 120 out.tar.gz", "cat out/app.txt" } },
            },
            epilogue = Array.Empty<string>(),
        });
        await _delivery.CreateServerAsync(slug, "staging", ["kaizen artifact pull out.tar.gz site", "cat site/app.txt"]);
        var buildId = await Portal.StartBuildAsync(slug);
        var use = await PortalHost.PollAsync(() => Portal.GetBuildAsync(buildId), b => b.Jobs.Any(j => j.Name == "use"),
            _ => "the build has no job 'use'");
        var useJob = use.Jobs.Single(j => j.Name == "use").Id;
        await PortalHost.PollAsync(() => Portal.LogAsync(useJob), log => log.Contains("artifact: waiting up to 120s for out.tar.gz"),
            log => $"The job 'use' did not wait for the artifact:\n{log}");

        // Act
        await File.WriteAllTextAsync(go, "");
        var build = await Portal.WaitForBuildAsync(buildId);
        var deploy = await Deploys.RequestOkAsync(_delivery.Admin, buildId, "staging");
        deploy = await Deploys.WaitAsync(_delivery.Admin, deploy.Id);

        // Assert
        Assert.True(build.Status == Status.Passed, await Portal.DescribeAsync(build));
        Assert.Contains("built by make", await Portal.LogAsync(useJob));
        Assert.Equal(DeployStatus.Passed, deploy.Status);
        Assert.Contains("built by make", await Portal.LogAsync(deploy.JobId!.Value));
        var listed = await _delivery.Admin.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/builds/{buildId}/artifacts");
        var artifact = Assert.Single(listed!);
        Assert.Equal((ArtifactScope.Build, "out.tar.gz", true, "make"), (artifact.Scope, artifact.Name, artifact.Folder, artifact.JobName));
        Assert.NotNull(artifact.ExpiresAt);
        using var download = await _delivery.Admin.GetAsync(artifact.Url);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(artifact.Size, (await download.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Project_downloads_have_stable_latest_urls_that_anyone_can_fetch_of_a_public_project_only()
    {
        // Arrange
        var commands = new[]
        {
            "mkdir -p dist && echo one > dist/cli-1.0.0.tar.gz && echo two > dist/cli-1.1.0.tar.gz && echo notes > dist/NOTES.md",
            "kaizen artifact push --project dist/cli-1.0.0.tar.gz cli/cli-1.0.0.tar.gz",
            "kaizen artifact push --project dist/cli-1.1.0.tar.gz cli/cli-1.1.0.tar.gz",
            "kaizen artifact push --project dist/NOTES.md cli/NOTES.md",
            "kaizen artifact pull --project cli/latest.tar.gz got.tar.gz && grep -qx two got.tar.gz",
        };
        var repo = await _delivery.NewRepositoryAsync();
        var open = await Portal.CreateProjectAsync("Open " + Guid.NewGuid().ToString("N")[..6], repo.Path, PortalHost.OneJob(commands), isPublic: true);
        var closed = await Portal.CreateProjectAsync("Closed " + Guid.NewGuid().ToString("N")[..6], repo.Path, PortalHost.OneJob(commands), isPublic: false);
        using var anonymous = new HttpClient { BaseAddress = Portal.BaseUrl };

        // Act
        var openBuild = await Portal.WaitForBuildAsync(await Portal.StartBuildAsync(open));
        var closedBuild = await Portal.WaitForBuildAsync(await Portal.StartBuildAsync(closed));

        // Assert
        Assert.True(openBuild.Status == Status.Passed, await Portal.DescribeAsync(openBuild));
        Assert.True(closedBuild.Status == Status.Passed, await Portal.DescribeAsync(closedBuild));
        using var latest = await anonymous.GetAsync($"/downloads/{open}/cli/latest.tar.gz");
        Assert.Equal(HttpStatusCode.OK, latest.StatusCode);
        Assert.Equal("two\n", await latest.Content.ReadAsStringAsync());
        Assert.Equal("cli-1.1.0.tar.gz", latest.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.NotNull(latest.Headers.ETag);
        using var head = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/downloads/{open}/cli/latest.tar.gz"));
        Assert.Equal((HttpStatusCode.OK, 4L), (head.StatusCode, head.Content.Headers.ContentLength ?? -1));
        Assert.Equal("one\n", await anonymous.GetStringAsync($"/downloads/{open}/cli/cli-1.0.0.tar.gz"));
        Assert.Equal("notes\n", await anonymous.GetStringAsync($"/downloads/{open}/cli/latest.md"));
        var listed = await anonymous.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/projects/{open}/downloads");
        Assert.Equal(["cli/NOTES.md", "cli/cli-1.1.0.tar.gz", "cli/cli-1.0.0.tar.gz"], listed!.Select(a => a.Name));
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/downloads/{closed}/cli/latest.tar.gz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/v1/projects/{closed}/downloads")).StatusCode);
        Assert.Equal("two\n", await _delivery.Viewer.GetStringAsync($"/downloads/{closed}/cli/latest.tar.gz"));
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/downloads/{open}/cli/latest.zip")).StatusCode);
    }

    [Fact]
    public async Task A_forks_build_may_push_build_artifacts_but_never_project_downloads()
    {
        // Arrange
        var repo = await _delivery.NewRepositoryAsync();
        var slug = await Portal.CreateProjectAsync("Fork " + Guid.NewGuid().ToString("N")[..6], repo.Path, PortalHost.OneJob(
            "echo report > report.txt && kaizen artifact push report.txt",
            "echo 'not ours' > evil.tar.gz && kaizen artifact push --project evil.tar.gz cli/cli-9.9.9.tar.gz"), isPublic: true);
        var project = (await Portal.Service<Kaizen.Portal.Projects.ProjectStore>().FindBySlugAsync(slug))!;

        // Act
        var started = await Portal.Service<BuildService>().StartAsync(project, "main", Trigger.PullRequest, "outsider",
            CancellationToken.None, fromFork: true);
        var build = await Portal.WaitForBuildAsync(started.Value);

        // Assert: the build artifact went up, the download was refused and failed the command that tried.
        Assert.Equal(Status.Failed, build.Status);
        Assert.Contains("A fork's build may not publish project downloads", await Portal.LogAsync(build.Jobs[0].Id));
        var artifacts = await _delivery.Admin.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/builds/{build.Id}/artifacts");
        Assert.Equal(["report.txt"], artifacts!.Select(a => a.Name));
        Assert.Empty((await _delivery.Admin.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/projects/{slug}/downloads"))!);
    }

    [Fact]
    public async Task A_deploys_own_artifacts_are_hidden_from_visitors_of_a_public_project()
    {
        // Arrange
        var repo = await _delivery.NewRepositoryAsync();
        var slug = await Portal.CreateProjectAsync("Deployed " + Guid.NewGuid().ToString("N")[..6], repo.Path,
            PortalHost.OneJob("echo app > app.txt && kaizen artifact push app.txt"), isPublic: true);
        await _delivery.CreateServerAsync(slug, "production", ["echo 'deployed to prod-db-7' > receipt.txt", "kaizen artifact push --job receipt.txt"]);
        var build = await Portal.WaitForBuildAsync(await Portal.StartBuildAsync(slug));
        using var anonymous = new HttpClient { BaseAddress = Portal.BaseUrl };

        // Act
        var deploy = await Deploys.WaitAsync(_delivery.Admin, (await Deploys.RequestOkAsync(_delivery.Admin, build.Id, "production")).Id);

        // Assert
        Assert.Equal(DeployStatus.Passed, deploy.Status);
        var signedIn = await _delivery.Viewer.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/builds/{build.Id}/artifacts");
        var visitor = await anonymous.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/builds/{build.Id}/artifacts");
        Assert.Equal(["app.txt", "receipt.txt"], signedIn!.Select(a => a.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["app.txt"], visitor!.Select(a => a.Name));
        var receipt = signedIn!.Single(a => a.Name == "receipt.txt");
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(receipt.Url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _delivery.Viewer.GetAsync(receipt.Url)).StatusCode);
    }

    [Fact]
    public async Task Members_delete_downloads_and_viewers_cannot()
    {
        // Arrange
        var repo = await _delivery.NewRepositoryAsync();
        var slug = await Portal.CreateProjectAsync("Deletes " + Guid.NewGuid().ToString("N")[..6], repo.Path,
            PortalHost.OneJob("echo x > x.txt && kaizen artifact push --project x.txt"), isPublic: true);
        var build = await Portal.WaitForBuildAsync(await Portal.StartBuildAsync(slug));
        Assert.True(build.Status == Status.Passed, await Portal.DescribeAsync(build));
        var artifact = Assert.Single((await _delivery.Viewer.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/projects/{slug}/downloads"))!);

        // Act
        using var byViewer = await _delivery.Viewer.DeleteAsync($"/api/v1/artifacts/{artifact.Id}");
        using var byMember = await _delivery.Member.DeleteAsync($"/api/v1/artifacts/{artifact.Id}");

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, byMember.StatusCode);
        Assert.Empty((await _delivery.Viewer.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/projects/{slug}/downloads"))!);
        Assert.Equal(HttpStatusCode.NotFound, (await _delivery.Viewer.GetAsync($"/downloads/{slug}/x.txt")).StatusCode);
    }

    [Fact]
    public async Task Bad_names_missing_artifacts_and_a_finished_jobs_token_are_refused_with_clear_messages()
    {
        // Arrange: a runner without the sandbox, where the job's shell holds its own token (in a sandbox only the
        // runner's kaizen calls do), so the job can also call the portal by hand with it.
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1,
            settings: new Dictionary<string, string> { ["Kaizen:Runners:Embedded:Sandbox"] = "false" });
        var token = Path.Combine(portal.Exchange, "token");
        var api = "\"$KAIZEN_PORTAL_URL/api/jobs/artifacts";
        var auth = "-H \"Authorization: Bearer $KAIZEN_JOB_TOKEN\"";
        var repo = await _delivery.NewRepositoryAsync();
        var slug = await portal.CreateProjectAsync("Refusals " + Guid.NewGuid().ToString("N")[..6], repo.Path, PortalHost.OneJob(
            "echo hi > f",
            "kaizen artifact push f ../x || echo \"dotdot exit $?\"",
            "kaizen artifact push f /etc/x || echo \"absolute exit $?\"",
            "kaizen artifact push f \"$(printf 'a\\tb')\" || echo \"control exit $?\"",
            "kaizen artifact push --nope f || echo \"option exit $?\"",
            "kaizen artifact pull missing.txt || echo \"missing exit $?\"",
            $"echo \"nul $(curl -s -o /dev/null -w '%{{http_code}}' -T f {auth} {api}/build/a%00b\")\"",
            $"echo \"newline $(curl -s -o /dev/null -w '%{{http_code}}' -T f {auth} {api}/build/a%0Ab\")\"",
            $"echo \"encoded-dotdot $(curl -s -o /dev/null -w '%{{http_code}}' -T f {auth} {api}/build/x/%2E%2E/%2E%2E/y\")\"",
            $"echo \"scope $(curl -s -o /dev/null -w '%{{http_code}}' -T f {auth} {api}/elsewhere/y\")\"",
            $"echo \"runner-path $(curl -s -o /dev/null -w '%{{http_code}}' {auth} -H 'Content-Type: application/json' -d '{{}}' \"$KAIZEN_PORTAL_URL/api/runner/heartbeat\")\"",
            $"echo \"$KAIZEN_JOB_TOKEN\"; printf '%s' \"$KAIZEN_JOB_TOKEN\" > '{token}'"));

        // Act
        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        var log = await portal.LogAsync(build.Jobs.Single().Id);
        using var late = new HttpClient { BaseAddress = portal.BaseUrl };
        late.DefaultRequestHeaders.Authorization = new("Bearer", await File.ReadAllTextAsync(token));
        using var afterwards = await late.PutAsync("/api/jobs/artifacts/build/late.txt", new StringContent("late"));

        // Assert
        Assert.True(build.Status == Status.Passed, $"{await portal.DescribeAsync(build)}\n{log}");
        Assert.Contains("artifact push: '../x' holds a '..' segment", log);
        Assert.Contains("dotdot exit 2", log);
        Assert.Contains("'/etc/x' is an absolute path", log);
        Assert.Contains("control exit 2", log);
        Assert.Contains("option exit 2", log);
        Assert.Contains("no other job of the build is queued or running", log);
        Assert.Contains("missing exit 1", log);
        Assert.Contains("nul 400", log);
        Assert.Contains("newline 400", log);
        Assert.Matches("encoded-dotdot (400|404)", log);
        Assert.Contains("scope 400", log);
        Assert.True(log.Contains("runner-path 401"), log);
        Assert.DoesNotContain(await File.ReadAllTextAsync(token), log);
        Assert.Equal(HttpStatusCode.Unauthorized, afterwards.StatusCode);
        Assert.Empty((await portal.Api.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/builds/{build.Id}/artifacts"))!);
    }

    [Fact]
    public async Task A_50_MB_artifact_streams_up_and_back_intact()
    {
        // Arrange
        var repo = await _delivery.NewRepositoryAsync();
        var slug = await Portal.CreateProjectAsync("Big " + Guid.NewGuid().ToString("N")[..6], repo.Path, PortalHost.OneJob(
            "head -c 52428800 /dev/urandom > big.bin",
            "kaizen artifact push --job big.bin",
            "kaizen artifact push big.bin",
            "kaizen artifact pull big.bin back.bin && cmp big.bin back.bin && echo same"));

        // Act
        var build = await Portal.WaitForBuildAsync(await Portal.StartBuildAsync(slug), timeoutSeconds: 120);

        // Assert
        var log = await Portal.LogAsync(build.Jobs.Single().Id);
        Assert.True(build.Status == Status.Passed, $"{await Portal.DescribeAsync(build)}\n{log}");
        Assert.Contains("same", log);
        var listed = (await _delivery.Admin.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/builds/{build.Id}/artifacts"))!;
        Assert.Equal([(ArtifactScope.Build, 52428800L), (ArtifactScope.Job, 52428800L)],
            listed.OrderBy(a => a.Scope).Select(a => (a.Scope, a.Size)));
    }

    [Fact]
    public async Task A_disk_error_fails_the_push_with_a_clear_message()
    {
        // Arrange: the artifact folder is a file, so nothing can be stored under it.
        var blocker = Path.Combine(_delivery.Marks, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "");
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1,
            settings: new Dictionary<string, string> { ["Kaizen:Artifacts:Directory"] = blocker });
        var repo = await _delivery.NewRepositoryAsync();
        var slug = await portal.CreateProjectAsync("Disk", repo.Path, PortalHost.OneJob("echo x > x.txt", "kaizen artifact push x.txt"));

        // Act
        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));

        // Assert
        var log = await portal.LogAsync(build.Jobs.Single().Id);
        Assert.Equal(Status.Failed, build.Status);
        Assert.Contains("artifact push: the portal refused 'x.txt' (507): The portal could not store the artifact", log);
    }
}
