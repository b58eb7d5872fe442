using System.Net;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Runner.Tests.Support;
using Microsoft.AspNetCore.Mvc;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// Hostile build settings against the real portal: a YAML alias bomb, too many jobs, a huge command, a huge document.
/// Each is refused with the limit it broke, quickly, and the settings stored before stay as they were.
/// </summary>
public sealed class SettingsLimitsTests : IAsyncLifetime
{
    private PortalHost _portal = default!;
    private GitRepo _repo = default!;
    private string _slug = "";

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 0);
        _repo = await GitRepo.CreateAsync();
        await _repo.CommitAsync("first commit", ("README.md", "hello"));
        _slug = await _portal.CreateProjectAsync("limits", _repo.Path,
            new { setup = Array.Empty<string>(), jobs = new[] { new { name = "keep", commands = new[] { "make" } } }, epilogue = Array.Empty<string>() });
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task A_yaml_alias_bomb_is_refused_at_the_first_alias()
    {
        var anchor = new string('x', 100_000);
        var yaml = $"setup: [&s \"{anchor}\"{string.Concat(Enumerable.Repeat(", *s", 500))}]\njobs:\n  - name: t\n    commands: [make]\n";

        var put = await _portal.Api.PutAsync($"/api/v1/projects/{_slug}/settings.yaml", new StringContent(yaml, Encoding.UTF8, "text/yaml"));

        await AssertRefusedAsync(put, "yaml", "aliases (*s) are not allowed in build settings");
    }

    [Fact]
    public async Task More_jobs_than_a_build_may_have_are_refused_with_the_limit()
    {
        var jobs = Enumerable.Range(0, BuildSettings.MaxJobs + 1).Select(i => new { name = $"job {i}", commands = new[] { "true" } });

        var put = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{_slug}/settings", new { setup = Array.Empty<string>(), jobs, epilogue = Array.Empty<string>() });

        await AssertRefusedAsync(put, null, $"A build has at most {BuildSettings.MaxJobs} jobs; these settings have {BuildSettings.MaxJobs + 1}.");
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

        await AssertRefusedAsync(tooLong, null, "jobs[0] ('t') commands[0]: a command is at most 100,000 characters", keep: false);
        await AssertRefusedAsync(manyLong, null, "The settings hold 1,080,", keep: false);
        Assert.Equal(HttpStatusCode.OK, thousand.StatusCode);
    }

    private async Task AssertRefusedAsync(HttpResponseMessage put, string? field, string message, bool keep = true)
    {
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var body = await put.Content.ReadAsStringAsync();
        Assert.Contains(message, body);
        if (keep)
        {
            var stored = await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{_slug}/settings");
            Assert.Equal(["keep"], stored!.Jobs.Select(j => j.Name));
        }
        _ = field;
    }
}
