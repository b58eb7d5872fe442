using System.Net;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// Requests the API cannot use, against the real portal: each answers 400 saying what was wrong and where, never a bare
/// "Bad Request", an internal error or a server path, and changes nothing. Hostile build settings (a YAML alias bomb,
/// too many jobs, a huge command or document) are refused with the limit they broke.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private PortalHost _portal = default!;
    private GitRepo _repo = default!;
    private string _slug = "";

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 0);
        _repo = await GitRepo.CreateAsync();
        await _repo.CommitAsync("first commit", ("README.md", "hello"));
        _slug = await _portal.CreateProjectAsync("bad input", _repo.Path,
            new { setup = Array.Empty<string>(), jobs = new[] { new { name = "keep", commands = new[] { "make" } } }, epilogue = Array.Empty<string>() });
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("""{"setup":[],"jobs":[{"name":"t","commands":"make"}],"epilogue":[]}""", "$.jobs[0].commands: expected an array of strings.")]
    [InlineData("""{"setup":[],"jobs":{"name":"t"},"epilogue":[]}""", "$.jobs: expected an array.")]
    [InlineData("""[1, 2]""", "$: expected an object.")]
    [InlineData("""{"setup": [], "jobs": [""", "The body is not valid JSON at $.jobs")]
    [InlineData("""{"setup":[],"jobs":[{"name":"t","comands":["make"]}],"epilogue":[]}""", "unknown key 'comands'")]
    [InlineData("""{"setup":[],"jobs":[{"name":"t","commands":["make"],"services":[{"image":"redis:7","alias":"db","command":"x"}]}]}""", "unknown key 'command'")]
    [InlineData("""{"setup":[],"jobz":[],"epilogue":[]}""", "unknown key 'jobz'")]
    public async Task Settings_of_the_wrong_shape_are_refused_with_the_path_and_what_was_expected(string body, string detail)
    {
        var put = await _portal.Api.PutAsync($"/api/v1/projects/{_slug}/settings", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains(detail, await put.Content.ReadAsStringAsync());
        Assert.Contains("\"keep\"", await _portal.Api.GetStringAsync($"/api/v1/projects/{_slug}/settings"));
    }

    [Fact]
    public async Task A_secret_whose_file_is_not_text_is_refused_naming_the_field_and_nothing_is_stored()
    {
        var put = await _portal.Api.PutAsync($"/api/v1/projects/{_slug}/secrets/DEPLOY_KEY", Json("""{"value":"k","file":true}"""));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var text = await put.Content.ReadAsStringAsync();
        Assert.True(text.Contains("$.file: expected a string", StringComparison.Ordinal), text);
        Assert.DoesNotContain("DEPLOY_KEY", await _portal.Api.GetStringAsync($"/api/v1/projects/{_slug}/secrets"));
    }

    [Fact]
    public async Task An_unknown_status_filter_names_the_statuses_and_a_bad_page_names_the_parameter()
    {
        var bogus = await _portal.Api.GetAsync($"/api/v1/projects/{_slug}/builds?status=bogus");
        var page = await _portal.Api.GetAsync($"/api/v1/projects/{_slug}/builds?page=abc");

        Assert.Equal(HttpStatusCode.BadRequest, bogus.StatusCode);
        Assert.Contains("status must be one of queued, awaiting_approval, running, passed, failed, canceled", await bogus.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains("page", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_megabyte_branch_name_is_refused_before_git_runs_and_the_answer_shows_no_server_path()
    {
        var huge = await _portal.Api.PostAsync($"/api/v1/projects/{_slug}/builds", Json($$"""{"branch":"{{new string('b', 1_000_000)}}"}"""));
        var invalid = await _portal.Api.PostAsync($"/api/v1/projects/{_slug}/builds", Json("""{"branch":"--upload-pack=touch /tmp/x"}"""));

        var hugeText = await huge.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.Contains("A branch name is at most 255 characters; this one has 1,000,000.", hugeText);
        Assert.True(hugeText.Length < 2000, "the answer does not echo the name");
        Assert.DoesNotContain(_portal.DataDirectory, hugeText);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("cannot contain spaces", await invalid.Content.ReadAsStringAsync());
        Assert.Equal(0, (await _portal.Api.GetStringAsync($"/api/v1/projects/{_slug}/builds")).Split("\"id\"").Length - 1);
    }

    [Theory]
    [InlineData("gnp\u202Eexe.png", "bidirectional text controls (U+202E)")]
    [InlineData("bell\u0007", "control characters (U+0007)")]
    [InlineData("nul\u0000name", "control characters (U+0000)")]
    public async Task Names_with_control_or_bidirectional_characters_are_refused_for_projects_jobs_and_runners(string name, string problem)
    {
        var project = await _portal.Api.PostAsync("/api/v1/projects",
            Json(System.Text.Json.JsonSerializer.Serialize(new { name, gitUrl = _repo.Path })));
        var job = await _portal.Api.PutAsync($"/api/v1/projects/{_slug}/settings",
            Json(System.Text.Json.JsonSerializer.Serialize(new { setup = Array.Empty<string>(), jobs = new[] { new { name, commands = new[] { "make" } } }, epilogue = Array.Empty<string>() })));
        using var http = new HttpClient { BaseAddress = _portal.BaseUrl };
        var runner = await http.PostAsync(Kaizen.Runner.Protocol.RunnerRoutes.Register,
            Json(System.Text.Json.JsonSerializer.Serialize(new { registrationToken = PortalHost.RegistrationToken, name, slots = 1, version = "test" })));

        foreach (var response in new[] { project, job, runner })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(problem, await response.Content.ReadAsStringAsync());
        }
        Assert.Contains("\"keep\"", await _portal.Api.GetStringAsync($"/api/v1/projects/{_slug}/settings"));
    }

    [Theory]
    [InlineData("gnp\u202Eexe.png", "bidirectional text controls (U+202E)")]
    [InlineData("bell\u0007", "control characters (U+0007)")]
    [InlineData("nul\u0000name", "control characters (U+0000)")]
    [InlineData("isolate\u2066x", "bidirectional text controls (U+2066)")]
    public async Task Names_with_control_or_bidirectional_characters_are_refused_for_servers_and_shared_scripts(string name, string problem)
    {
        var server = await _portal.Api.PostAsync($"/api/v1/projects/{_slug}/servers", Json(System.Text.Json.JsonSerializer.Serialize(
            new { name, commands = new[] { "echo deploy" }, trigger = new { mode = "manual" }, approvals = 0, deployers = "members" })));
        var script = await _portal.Api.PutAsync($"/api/v1/scripts/{Uri.EscapeDataString(name)}",
            Json(System.Text.Json.JsonSerializer.Serialize(new { body = "echo hi", description = "fine" })));
        var description = await _portal.Api.PutAsync("/api/v1/scripts/described",
            Json(System.Text.Json.JsonSerializer.Serialize(new { body = "echo hi", description = $"line one\n{name}" })));

        // A script's name travels in the path, where the web server itself refuses a NUL (400) before the portal reads it.
        var explained = name.Contains('\0') ? new[] { (server, "A server name"), (description, "A script description") }
            : new[] { (server, "A server name"), (script, "A script name"), (description, "A script description") };
        Assert.Equal(HttpStatusCode.BadRequest, script.StatusCode);
        foreach (var (response, what) in explained)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains($"{what} cannot contain {problem}", await response.Content.ReadAsStringAsync());
        }
        Assert.DoesNotContain("described", await _portal.Api.GetStringAsync("/api/v1/scripts"));
        Assert.Equal("[]", await _portal.Api.GetStringAsync($"/api/v1/projects/{_slug}/servers"));
    }

    [Fact]
    public async Task A_script_description_of_several_lines_is_kept()
    {
        var saved = await _portal.Api.PutAsync("/api/v1/scripts/multi-line",
            Json(System.Text.Json.JsonSerializer.Serialize(new { body = "echo hi", description = "first line\n\tsecond line" })));

        Assert.True(saved.IsSuccessStatusCode, await saved.Content.ReadAsStringAsync());
        Assert.Contains("first line\\n\\tsecond line", await _portal.Api.GetStringAsync("/api/v1/scripts/multi-line"));
    }

    [Fact]
    public async Task A_yaml_alias_bomb_is_refused_at_the_first_alias()
    {
        var anchor = new string('x', 100_000);
        var yaml = $"setup: [&s \"{anchor}\"{string.Concat(Enumerable.Repeat(", *s", 500))}]\njobs:\n  - name: t\n    commands: [make]\n";

        var put = await _portal.Api.PutAsync($"/api/v1/projects/{_slug}/settings.yaml", new StringContent(yaml, Encoding.UTF8, "text/yaml"));

        await AssertRefusedAsync(put, "aliases (*s) are not allowed in build settings");
    }

    [Fact]
    public async Task More_jobs_than_a_build_may_have_are_refused_with_the_limit()
    {
        var jobs = Enumerable.Range(0, BuildSettings.MaxJobs + 1).Select(i => new { name = $"job {i}", commands = new[] { "true" } });

        var put = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{_slug}/settings", new { setup = Array.Empty<string>(), jobs, epilogue = Array.Empty<string>() });

        await AssertRefusedAsync(put, $"A build has at most {BuildSettings.MaxJobs} jobs; these settings have {BuildSettings.MaxJobs + 1}.");
    }

    [Fact]
    public async Task A_huge_command_or_document_is_refused_with_the_limit_and_a_thousand_commands_still_fit()
    {
        var huge = new string('y', 25_000_000);
        var tooLong = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{_slug}/settings",
            new { setup = Array.Empty<string>(), jobs = new[] { new { name = "t", commands = new[] { "echo " + huge } } }, epilogue = Array.Empty<string>() });
        var manyLong = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{_slug}/settings",
            new { setup = Enumerable.Repeat(new string('z', 90_000), 12), jobs = new[] { new { name = "t", commands = new[] { "true" } } }, epilogue = Array.Empty<string>() });
        var thousand = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{_slug}/settings",
            new { setup = Array.Empty<string>(), jobs = new[] { new { name = "many", commands = Enumerable.Repeat("true", 1000) } }, epilogue = Array.Empty<string>() });

        await AssertRefusedAsync(tooLong, "jobs[0] ('t') commands[0]: a command is at most 100,000 characters", keep: false);
        await AssertRefusedAsync(manyLong, "The settings hold 1,080,", keep: false);
        Assert.Equal(HttpStatusCode.OK, thousand.StatusCode);
    }

    private async Task AssertRefusedAsync(HttpResponseMessage put, string message, bool keep = true)
    {
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var body = await put.Content.ReadAsStringAsync();
        Assert.Contains(message, body);
        if (keep)
        {
            var stored = await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{_slug}/settings");
            Assert.Equal(["keep"], stored!.Jobs.Select(j => j.Name));
        }
    }
}
