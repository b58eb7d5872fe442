using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Import;

/// <summary>
/// The Semaphore import end to end: a real git repository with <c>.semaphore/semaphore.yml</c>, the real portal and its
/// embedded runner in the job sandbox, real bash. The imported commands run unchanged with the helper commands.
/// </summary>
public sealed class SemaphoreImportApiTests() : PortalWithRepository(embeddedSlots: 2)
{
    private const string Lock = "left-pad 1.3.0\n";

    private static string Md5(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));

    private static readonly string Pipeline = $$"""
        version: v1.0
        name: Small
        agent:
          machine:
            type: e1-standard-2
            os_image: ubuntu2004
        global_job_config:
          prologue:
            commands:
              - checkout
        blocks:
          - name: Build
            dependencies: []
            task:
              jobs:
                - name: deps
                  commands:
                    - mkdir -p deps && echo "$SEMAPHORE_GIT_BRANCH" > deps/branch.txt
                    - test "$(checksum lock.txt)" = {{Md5(Lock)}}
                    - cache store deps-$SEMAPHORE_GIT_BRANCH-$(checksum lock.txt) deps
                    - cache has_key deps-$SEMAPHORE_GIT_BRANCH-$(checksum lock.txt)
          - name: Test
            dependencies: [Build]
            task:
              jobs:
                - name: use
                  commands:
                    - cd /tmp
                    - checkout --use-cache
                    - test -f lock.txt
                    - cache restore deps-$SEMAPHORE_GIT_BRANCH-$(checksum lock.txt),deps-
                    - test "$(cat deps/branch.txt)" = main
                    - n=0
                    - retry --times 3 '[ $((n += 1)) -ge 2 ]'
                    - if cache has_key no-such-key; then
                    - '  exit 1'
                    - fi
                - name: versions
                  commands:
                    - if sem-version python 3.7 2> err.txt; then exit 1; fi
                    - cat err.txt
                    - "grep -q 'sem-version: python 3.7 is not installable here' err.txt"
        promotions:
          - name: Production
            pipeline_file: deploy.yml
            auto_promote_on:
              - result: passed
                branch:
                  - main
        """;

    private const string Deploy = """
        version: v1.0
        name: Deploy
        blocks:
          - name: Ship
            task:
              jobs:
                - name: ship
                  commands:
                    - checkout
                    - test -f lock.txt
                    - echo shipped $SEMAPHORE_GIT_SHA
        """;

    protected override async Task ArrangeRepositoryAsync() =>
        await _repo.CommitAsync("Semaphore pipeline", (".semaphore/semaphore.yml", Pipeline), (".semaphore/deploy.yml", Deploy), ("lock.txt", Lock));

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private Task<HttpResponseMessage> ImportAsync(string slug, object? body = null, bool apply = false) =>
        _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/import/semaphore{(apply ? "?apply=true" : "")}", body);

    [Fact]
    public async Task A_pipeline_from_the_repository_imports_applies_and_builds_with_the_helper_commands()
    {
        var slug = await _portal.CreateProjectAsync("Semaphore", _repo.Path, PortalHost.OneJob("true"));

        var dry = await ImportAsync(slug);
        Assert.Equal(HttpStatusCode.OK, dry.StatusCode);
        var preview = (await dry.Content.ReadFromJsonAsync<SemaphoreImportResponse>(Json))!;
        Assert.False(preview.Applied);
        Assert.StartsWith("main at ", preview.Source, StringComparison.Ordinal);
        Assert.Equal(["Build", "Test"], preview.Settings.Blocks!.Select(b => b.Name));
        var untranslated = Assert.Single(preview.Untranslated);
        Assert.Equal(("semaphore.yml", 3), (untranslated.File, untranslated.Line));
        Assert.Equal(["true"], (await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{slug}/settings", Json))!.Jobs[0].Commands);

        var applied = await ImportAsync(slug, apply: true);
        Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        Assert.Equal(["Production"], (await applied.Content.ReadFromJsonAsync<SemaphoreImportResponse>(Json))!.Created);
        var servers = (await _portal.Api.GetFromJsonAsync<List<ServerResponse>>($"/api/v1/projects/{slug}/servers", Json))!;
        var server = Assert.Single(servers);
        Assert.Equal((TriggerMode.Automatic, "main"), (server.Trigger.Mode, server.Trigger.Branch));
        Assert.Equal(["checkout", "test -f lock.txt", "echo shipped $SEMAPHORE_GIT_SHA"], server.Commands);
        var audit = await _portal.Api.GetStringAsync("/api/v1/audit");
        Assert.Contains(SemaphoreImportEndpoints.Source, audit, StringComparison.Ordinal);

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 120);
        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        var log = await _portal.LogAsync(build.Jobs.Single(j => j.Name == "use").Id);
        Assert.Contains("retry: [1/3] failed with exit code 1", log, StringComparison.Ordinal);
        Assert.True(log.Contains("cache: restored deps-main-", StringComparison.Ordinal), log);
        var versions = await _portal.LogAsync(build.Jobs.Single(j => j.Name == "versions").Id);
        Assert.Contains("sem-version: python 3.7 is not installable here: ", versions, StringComparison.Ordinal);

        // The promotion deploys the passed build of main by itself, its commands unchanged.
        var deployed = await PortalHost.PollAsync(
            async () => (await _portal.Api.GetFromJsonAsync<List<ServerResponse>>($"/api/v1/projects/{slug}/servers", Json))![0].Latest,
            d => d is not null && (d.Status is DeployStatus.Passed or DeployStatus.Failed or DeployStatus.Canceled),
            d => $"the deploy is {d?.Status ?? "not there"}", timeoutSeconds: 120);
        Assert.Equal(DeployStatus.Passed, deployed!.Status);
    }

    [Fact]
    public async Task Bad_uploads_are_400s_that_name_the_file_and_line()
    {
        var slug = await _portal.CreateProjectAsync("Bad", _repo.Path, PortalHost.OneJob("true"));

        var invalid = await ImportAsync(slug, new { yaml = "version: v1.0\nblocks:\n  - name: a\n   task: [\n" });
        var missing = await ImportAsync(slug, new
        {
            yaml = "version: v1.0\nblocks:\n  - name: a\n    task:\n      jobs:\n        - name: j\n          commands: [x]\npromotions:\n  - name: Prod\n    pipeline_file: prod.yml\n",
        });
        var huge = await ImportAsync(slug, new { yaml = "version: v1.0\n" + string.Concat(Enumerable.Repeat("# filler line\n", 30_000)) });

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("semaphore.yml line 4", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("semaphore.yml line 10, column 20: promotion 'Prod' points to prod.yml", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.Contains("30,002 lines", await huge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["true"], (await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{slug}/settings", Json))!.Jobs[0].Commands);
    }

    [Fact]
    public async Task A_repository_without_a_semaphore_pipeline_is_a_400_that_says_to_upload_one()
    {
        using var plain = await GitRepo.CreateAsync("main");
        await plain.CommitAsync("First", ("readme.txt", "hello\n"));
        var slug = await _portal.CreateProjectAsync("Plain", plain.Path, PortalHost.OneJob("true"));

        var response = await ImportAsync(slug);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("there is no .semaphore/semaphore.yml on main at", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_viewer_may_not_import_and_an_anonymous_visitor_learns_nothing()
    {
        var slug = await _portal.CreateProjectAsync("Guarded", _repo.Path, PortalHost.OneJob("true"));
        var viewer = await Kaizen.Portal.Tests.Teams.TeamsPortal.CreateUserAsync(_portal, "reader", "viewer");
        using var asViewer = Kaizen.Portal.Tests.Teams.TeamsPortal.Client(_portal, viewer.Token);

        var refused = await asViewer.PostAsJsonAsync($"/api/v1/projects/{slug}/import/semaphore?apply=true", new { yaml = Pipeline });
        var anonymous = await _anonymous.PostAsJsonAsync($"/api/v1/projects/{slug}/import/semaphore", new { yaml = Pipeline });

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(["true"], (await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{slug}/settings", Json))!.Jobs[0].Commands);
        Assert.Empty((await _portal.Api.GetFromJsonAsync<List<ServerResponse>>($"/api/v1/projects/{slug}/servers", Json))!);
    }
}
