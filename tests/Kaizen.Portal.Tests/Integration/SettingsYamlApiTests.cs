using System.Net;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Runner.Tests.Support;
using Microsoft.AspNetCore.Mvc;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>GET and PUT of <c>/api/v1/projects/{slug}/settings.yaml</c> against the real portal.</summary>
public sealed class SettingsYamlApiTests : IAsyncLifetime
{
    private PortalHost _portal = default!;
    private GitRepo _repo = default!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 0);
        _repo = await GitRepo.CreateAsync();
        await _repo.CommitAsync("first commit", ("README.md", "hello"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    private static StringContent Yaml(string text) => new(text, Encoding.UTF8, "text/yaml");

    [Fact]
    public async Task Settings_can_be_read_and_replaced_as_yaml()
    {
        var slug = await _portal.CreateProjectAsync("yaml", _repo.Path,
            new { setup = new[] { "echo setup" }, jobs = new[] { new { name = "test", commands = new[] { "pytest" } } }, epilogue = Array.Empty<string>() });

        var get = await _portal.Api.GetAsync($"/api/v1/projects/{slug}/settings.yaml");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("text/yaml", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal("setup:\n- echo setup\njobs:\n- name: test\n  commands:\n  - pytest\nepilogue: []\n",
            await get.Content.ReadAsStringAsync());

        var put = await _portal.Api.PutAsync($"/api/v1/projects/{slug}/settings.yaml", Yaml("""
            jobs:
              - name: " lint "
                commands:
                  - |
                    flake8
                    black --check .
              - name: test
                commands: [pytest]
            """));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var json = await _portal.Api.GetFromJsonAsync<Builds.BuildSettings>($"/api/v1/projects/{slug}/settings");
        Assert.Equal(["lint", "test"], json!.Jobs.Select(j => j.Name));
        Assert.Equal(["flake8\nblack --check .\n"], json.Jobs[0].Commands);
        Assert.Empty(json.Setup);
        Assert.Contains("- name: lint", await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml"));
    }

    [Theory]
    [InlineData("jobs: [\n", "yaml", "Line 2, column 1:")]
    [InlineData("jobs:\n  - name: test\n    run: [x]\n", "yaml", "Line 3, column 5: unknown key 'run' in a job.")]
    [InlineData("jobs:\n  - name: test\n    commands: []\n", "settings", "jobs[0] ('test') needs at least one command.")]
    [InlineData("", "yaml", "The YAML is empty.")]
    [InlineData("blocks:\n- name: deploy\n  dependencies: [l\n  jobs:\n    - name: ship\n      commands: [x]\n", "yaml", "Line 3, column 17: the YAML cannot be read after this point; is a [ or { not closed?")]
    public async Task Invalid_yaml_is_refused_with_what_to_fix_and_nothing_changes(string yaml, string field, string message)
    {
        var slug = await _portal.CreateProjectAsync("yaml", _repo.Path,
            new { setup = Array.Empty<string>(), jobs = new[] { new { name = "keep", commands = new[] { "make" } } }, epilogue = Array.Empty<string>() });

        var put = await _portal.Api.PutAsync($"/api/v1/projects/{slug}/settings.yaml", Yaml(yaml));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var problem = await put.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains(problem!.Errors[field], e => e.StartsWith(message, StringComparison.Ordinal));
        Assert.Contains("name: keep", await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml"));
    }

    [Fact]
    public async Task An_unknown_project_is_not_found_and_anonymous_callers_are_refused()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _portal.Api.GetAsync("/api/v1/projects/nope/settings.yaml")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound,
            (await _portal.Api.PutAsync("/api/v1/projects/nope/settings.yaml", Yaml("jobs: []"))).StatusCode);

        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _portal.BaseUrl };
        var response = await anonymous.PutAsync("/api/v1/projects/nope/settings.yaml", Yaml("jobs: []"));
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden, HttpStatusCode.Redirect });
    }
}
