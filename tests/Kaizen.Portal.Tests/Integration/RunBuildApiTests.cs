using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Hosting;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// Run build through the API (<c>POST /api/v1/projects/{slug}/builds</c> with <c>ref</c> and <c>variables</c>), reruns of
/// failed jobs and who canceled a build, end to end: the real portal, its embedded runner, real bash, and a real git
/// repository with two commits on main and an annotated tag on the first.
/// </summary>
public sealed class RunBuildApiTests() : PortalWithRepository(embeddedSlots: 2)
{
    private string _first = "";
    private string _second = "";

    protected override async Task ArrangeRepositoryAsync()
    {
        _first = await _repo.GitAsync("rev-parse", "HEAD");
        await _repo.GitAsync("tag", "-a", "v1.0", "-m", "Release 1.0");
        _second = await _repo.CommitAsync("Second", ("readme.txt", "world\n"));
    }

    /// <summary>One job that prints the file the commits change and the variables the tests give.</summary>
    private Task<string> ProjectAsync(bool isPublic = false) => _portal.CreateProjectAsync("Run", _repo.Path,
        PortalHost.OneJob("cat readme.txt", "echo \"GREETING=[$GREETING] NAME=[$NAME]\""), isPublic);

    private async Task<HttpResponseMessage> RunAsync(string slug, object body, HttpClient? client = null) =>
        await (client ?? _portal.Api).PostAsJsonAsync($"/api/v1/projects/{slug}/builds", body);

    private static async Task<long> CreatedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<CreatedResponse>())!.Id;
    }

    private async Task<long> BuildCountAsync(string slug) =>
        (await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds"))!.Total;

    [Fact]
    public async Task A_tag_is_built_at_its_commit_and_the_build_records_the_tag()
    {
        var slug = await ProjectAsync();

        var build = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = "v1.0" })));

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Equal(RefKinds.Tag, build.Ref);
        Assert.Equal("v1.0", build.Tag);
        Assert.Equal(_first, build.CommitSha);
        Assert.Equal("First", build.CommitMessage);
        var log = await _portal.LogAsync(build.Jobs.Single().Id);
        Assert.Contains("hello", log);
        Assert.DoesNotContain("world", log);
    }

    [Fact]
    public async Task A_tag_pushed_after_the_project_was_created_is_found_and_built()
    {
        var slug = await ProjectAsync();
        await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = "v1.0" })));
        await _repo.GitAsync("tag", "v2.0");

        var build = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = "refs/tags/v2.0" })));

        Assert.Equal("v2.0", build.Tag);
        Assert.Equal(_second, build.CommitSha);
        Assert.Contains("world", await _portal.LogAsync(build.Jobs.Single().Id));
    }

    [Fact]
    public async Task An_abbreviated_commit_id_builds_that_commit_filed_under_the_branch_that_holds_it()
    {
        var slug = await ProjectAsync();

        var build = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = _first[..9] })));

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Equal(RefKinds.Commit, build.Ref);
        Assert.Null(build.Tag);
        Assert.Equal(_first, build.CommitSha);
        Assert.Equal("main", build.Branch);
        Assert.Contains("hello", await _portal.LogAsync(build.Jobs.Single().Id));
    }

    [Fact]
    public async Task A_branch_given_as_ref_builds_its_head()
    {
        var slug = await ProjectAsync();

        var build = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = "main" })));

        Assert.Equal(RefKinds.Branch, build.Ref);
        Assert.Equal(_second, build.CommitSha);
        Assert.Contains("world", await _portal.LogAsync(build.Jobs.Single().Id));
    }

    [Fact]
    public async Task A_build_of_an_older_commit_never_deploys_automatically_while_its_branchs_own_build_does()
    {
        var slug = await ProjectAsync();
        using (var server = await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name = "production", commands = new[] { "true" }, trigger = new { mode = "automatic", branch = "main" }, approvals = 0,
        }))
            Assert.Equal(HttpStatusCode.Created, server.StatusCode);

        var old = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = _first })));
        var head = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = "main" })));
        await PortalHost.PollAsync(() => _portal.Api.GetFromJsonAsync<List<System.Text.Json.JsonElement>>($"/api/v1/builds/{head.Id}/deploys"),
            d => d!.Count == 1, _ => "the branch's build did not deploy automatically");

        Assert.Equal((Status.Passed, "main"), (old.Status, old.Branch));
        Assert.Empty((await _portal.Api.GetFromJsonAsync<List<System.Text.Json.JsonElement>>($"/api/v1/builds/{old.Id}/deploys"))!);
    }

    [Theory]
    [InlineData("no-such-branch", "no branch, tag or commit 'no-such-branch'")]
    [InlineData("refs/tags/v9", "no tag 'refs/tags/v9'")]
    [InlineData("0123456789abcdef", "no branch, tag or commit '0123456789abcdef'")]
    [InlineData("--upload-pack=touch", "is not a branch, tag or commit name")]
    [InlineData("main..v1.0", "is not a branch, tag or commit name")]
    public async Task An_unknown_or_malformed_ref_is_a_400_that_names_the_field_and_never_a_server_path(string reference, string expected)
    {
        var slug = await ProjectAsync();

        using var response = await RunAsync(slug, new { @ref = reference });

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("ref: ", text);
        Assert.Contains(expected, text);
        Assert.DoesNotContain(_repo.Path, text);
        Assert.DoesNotContain(_portal.DataDirectory, text);
        Assert.DoesNotContain("fatal:", text);
        Assert.Equal(0, await BuildCountAsync(slug));
    }

    [Fact]
    public async Task Extra_variables_reach_the_job_over_the_projects_own_and_show_in_the_build()
    {
        var slug = await ProjectAsync();
        using (var set = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/variables/GREETING", new { value = "from-project" }))
            Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());

        var id = await CreatedAsync(await RunAsync(slug, new { @ref = "main", variables = new Dictionary<string, string>
        {
            ["GREETING"] = "from-run", ["NAME"] = "two words",
        } }));
        var build = await _portal.WaitForBuildAsync(id);

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Contains("GREETING=[from-run] NAME=[two words]", await _portal.LogAsync(build.Jobs.Single().Id));
        Assert.Equal(new Dictionary<string, string> { ["GREETING"] = "from-run", ["NAME"] = "two words" }, build.Variables);
        Assert.Equal(Bootstrap.AdminName, build.TriggeredBy);

        // The audit says who built what with which names; the values are the build's, not the audit's.
        var entry = (await _portal.Api.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=1000"))!
            .Single(e => e.Action == AuditActions.BuildStarted && e.Target == $"project:{slug}/build:{id}");
        Assert.Equal(Bootstrap.AdminName, entry.Actor);
        Assert.Contains("branch main", entry.Details);
        Assert.Contains("variables GREETING, NAME", entry.Details);
        Assert.DoesNotContain("from-run", entry.Details);
    }

    [Fact]
    public async Task A_builds_variable_cannot_replace_a_secret_of_the_same_name()
    {
        var slug = await ProjectAsync();
        using (var set = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/secrets/GREETING", new { value = "secret-greeting-42" }))
            Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());

        var build = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new
        {
            @ref = "main", variables = new Dictionary<string, string> { ["GREETING"] = "from-run" },
        })));

        var log = await _portal.LogAsync(build.Jobs.Single().Id);
        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.DoesNotContain("from-run", log);
        Assert.DoesNotContain("secret-greeting-42", log);
        Assert.Contains("GREETING=[***]", log);
    }

    [Fact]
    public async Task A_build_without_variables_gets_the_projects_value()
    {
        var slug = await ProjectAsync();
        using (var set = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/variables/GREETING", new { value = "from-project" }))
            Assert.True(set.IsSuccessStatusCode);

        var build = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = "v1.0" })));

        Assert.Contains("GREETING=[from-project]", await _portal.LogAsync(build.Jobs.Single().Id));
        Assert.Empty(build.Variables);
    }

    [Theory]
    [InlineData("CI")]
    [InlineData("KAIZEN_BUILD_ID")]
    [InlineData("kaizen_commit_sha")]
    [InlineData("SEMAPHORE_GIT_BRANCH")]
    [InlineData("PATH")]
    [InlineData("HOME")]
    [InlineData("1NOT_A_NAME")]
    [InlineData("WITH-DASH")]
    public async Task Reserved_and_invalid_variable_names_are_refused_naming_the_variable(string name)
    {
        var slug = await ProjectAsync();

        using var response = await RunAsync(slug, new { @ref = "main", variables = new Dictionary<string, string> { [name] = "x" } });

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"variables.{name}: ", text);
        Assert.Equal(0, await BuildCountAsync(slug));
    }

    [Fact]
    public async Task Variables_that_are_not_text_too_many_or_too_large_are_refused_and_nothing_starts()
    {
        var slug = await ProjectAsync();

        using var list = await RunAsync(slug, new { @ref = "main", variables = new[] { "A=1" } });
        using var number = await RunAsync(slug, new { @ref = "main", variables = new { A = 1 } });
        using var many = await RunAsync(slug, new { @ref = "main",
            variables = Enumerable.Range(0, RunVariables.MaxCount + 1).ToDictionary(i => $"V{i}", i => "x") });
        using var large = await RunAsync(slug, new { @ref = "main",
            variables = new Dictionary<string, string> { ["BIG"] = new string('x', RunVariables.MaxValueBytes + 1) } });
        using var twice = await RunAsync(slug, new { @ref = "main", variables = new Dictionary<string, string> { ["Same"] = "1", ["SAME"] = "2" } });

        Assert.Contains("variables: send an object of names to text values", await list.Content.ReadAsStringAsync());
        Assert.Contains("variables: send an object of names to text values", await number.Content.ReadAsStringAsync());
        Assert.Contains($"at most {RunVariables.MaxCount} variables", await many.Content.ReadAsStringAsync());
        Assert.Contains("variables.BIG: the value is larger than 4 KiB", await large.Content.ReadAsStringAsync());
        Assert.Contains("variables.SAME: the name is given twice", await twice.Content.ReadAsStringAsync());
        Assert.All(new[] { list, number, many, large, twice }, r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        Assert.Equal(0, await BuildCountAsync(slug));
    }

    [Fact]
    public async Task Viewers_and_anonymous_visitors_of_a_public_project_cannot_start_builds_or_rerun_them()
    {
        var slug = await ProjectAsync(isPublic: true);
        var original = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = "main" })));
        using var created = await _portal.Api.PostAsJsonAsync("/api/v1/users", new { name = "reader", role = "viewer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var viewer = new HttpClient { BaseAddress = _portal.BaseUrl };
        viewer.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", (await created.Content.ReadFromJsonAsync<CreatedUserResponse>())!.Token);

        foreach (var client in new[] { viewer, _anonymous })
        {
            using var run = await RunAsync(slug, new { @ref = "v1.0", variables = new { X = "1" } }, client);
            using var rerun = await client.PostAsync($"/api/v1/builds/{original.Id}/rerun-failed", null);
            using var cancel = await client.PostAsync($"/api/v1/builds/{original.Id}/cancel", null);
            Assert.Contains(run.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden });
            Assert.Contains(rerun.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden });
            Assert.Contains(cancel.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden });
        }
        Assert.Equal(1, await BuildCountAsync(slug));
    }

    [Fact]
    public async Task Rerun_failed_jobs_runs_only_the_failed_job_and_what_depends_on_it_and_says_of_which_build()
    {
        var marks = Path.Combine(_portal.Exchange, $"rerun-{Guid.NewGuid():N}");
        Directory.CreateDirectory(marks);
        var slug = await _portal.CreateProjectAsync("Rerun", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            epilogue = Array.Empty<string>(),
            blocks = new object[]
            {
                new
                {
                    name = "checks",
                    jobs = new object[]
                    {
                        new { name = "steady", commands = new[] { $"echo ran >> {marks}/steady" } },
                        new { name = "flaky", commands = new[] { $"echo ran >> {marks}/flaky", $"test -f {marks}/fixed" } },
                    },
                },
                new { name = "after", dependencies = new[] { "checks" }, jobs = new[] { new { name = "report", commands = new[] { $"echo ran >> {marks}/report" } } } },
            },
        });
        var original = await _portal.WaitForBuildAsync(await CreatedAsync(await RunAsync(slug, new { @ref = "main", variables = new { NAME = "kept" } })));
        Assert.Equal(Status.Failed, original.Status);
        Assert.Equal(Status.Skipped, original.Jobs.Single(j => j.Name == "report").Status);
        await File.WriteAllTextAsync(Path.Combine(marks, "fixed"), "");

        using var response = await _portal.Api.PostAsync($"/api/v1/builds/{original.Id}/rerun-failed", null);
        var rerun = await _portal.WaitForBuildAsync(await CreatedAsync(response));

        Assert.True(rerun.Status == Status.Passed, await _portal.DescribeAsync(rerun));
        Assert.Equal(original.Id, rerun.RerunOf);
        Assert.True(rerun.RerunFailed);
        Assert.Equal(Bootstrap.AdminName, rerun.TriggeredBy);
        Assert.Equal(original.CommitSha, rerun.CommitSha);
        Assert.Equal(original.Variables, rerun.Variables);
        var steady = rerun.Jobs.Single(j => j.Name == "steady");
        Assert.Equal(Status.Skipped, steady.Status);
        Assert.True(steady.Reused);
        Assert.Equal($"skipped: passed in build {original.Id}, not run again", steady.Error);
        Assert.Equal(Status.Passed, rerun.Jobs.Single(j => j.Name == "flaky").Status);
        Assert.Equal(Status.Passed, rerun.Jobs.Single(j => j.Name == "report").Status);
        // What ran, counted by the jobs themselves: steady once, flaky twice, report once (only in the rerun).
        Assert.Single(await File.ReadAllLinesAsync(Path.Combine(marks, "steady")));
        Assert.Equal(2, (await File.ReadAllLinesAsync(Path.Combine(marks, "flaky"))).Length);
        Assert.Single(await File.ReadAllLinesAsync(Path.Combine(marks, "report")));

        // A build with nothing that failed has nothing to rerun.
        using var nothing = await _portal.Api.PostAsync($"/api/v1/builds/{rerun.Id}/rerun-failed", null);
        Assert.Equal(HttpStatusCode.Conflict, nothing.StatusCode);
        Assert.Contains("no failed or canceled jobs", await nothing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_rerun_says_of_which_build_and_a_canceled_build_says_who_canceled_it()
    {
        var slug = await _portal.CreateProjectAsync("Cancel", _repo.Path, PortalHost.OneJob("sleep 60"));
        var first = await CreatedAsync(await RunAsync(slug, new { @ref = "v1.0" }));
        await _portal.WaitForBuildAsync(first, b => b.Jobs.Any(j => j.Status == Status.Running));

        using (var cancel = await _portal.Api.PostAsync($"/api/v1/builds/{first}/cancel", null))
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var canceled = await _portal.WaitForBuildAsync(first);

        Assert.Equal(Status.Canceled, canceled.Status);
        Assert.Equal(Bootstrap.AdminName, canceled.CanceledBy);
        Assert.NotNull(canceled.CanceledAt);

        using var response = await _portal.Api.PostAsync($"/api/v1/builds/{first}/rerun", null);
        var rerunId = await CreatedAsync(response);
        var rerun = await _portal.GetBuildAsync(rerunId);
        Assert.Equal(first, rerun.RerunOf);
        Assert.False(rerun.RerunFailed);
        Assert.Equal(RefKinds.Tag, rerun.Ref);
        Assert.Equal("v1.0", rerun.Tag);
        Assert.Null(rerun.CanceledBy);
        using (await _portal.Api.PostAsync($"/api/v1/builds/{rerunId}/cancel", null)) { }

        var audit = (await _portal.Api.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=1000"))!;
        Assert.Contains(audit, e => e.Action == AuditActions.BuildCanceled && e.Target == $"project:{slug}/build:{first}");
        Assert.Contains(audit, e => e.Action == AuditActions.BuildRerun && e.Target == $"project:{slug}/build:{rerunId}"
            && e.Details!.Contains($"build {first}"));
    }
}
