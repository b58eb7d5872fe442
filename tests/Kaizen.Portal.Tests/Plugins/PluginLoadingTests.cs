using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>plugins.json with a third-party plugin built out of tree, a missing one, a throwing one and a disabled one.</summary>
public sealed class PluginLoadingTests(OutOfTreePlugins plugins) : IClassFixture<OutOfTreePlugins>, IAsyncLifetime
{
    private readonly TempDirectory _config = new();
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        var file = _config.Combine("plugins.json");
        await File.WriteAllTextAsync(file, $$"""
            {
              "plugins": [
                { "id": "hello", "path": "{{plugins.GoodPluginFolder}}", "enabled": true, "settings": { "greeting": "bonjour" } },
                { "id": "missing", "path": "does/not/exist", "enabled": true },
                { "id": "thrower", "path": "{{plugins.ThrowingPluginFolder}}", "enabled": true },
                { "id": "sleepy", "path": "whatever", "enabled": false }
              ]
            }
            """);
        _portal = await PortalHost.StartAsync(settings: new Dictionary<string, string> { ["Kaizen:Plugins:File"] = file });
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Greetings", ("HELLO", "world\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
        _config.Dispose();
    }

    [Fact]
    public async Task Every_plugin_is_listed_with_its_status_and_the_reason_of_a_failure()
    {
        var list = await _portal.Api.GetFromJsonAsync<List<PluginResponse>>("/api/v1/plugins");

        var byId = list!.ToDictionary(p => p.Id);
        Assert.Equal(("loaded", "Hello files", "1.2.3", "Acme"), (byId["hello"].Status, byId["hello"].Name, byId["hello"].Version, byId["hello"].Author));
        Assert.Equal("failed", byId["missing"].Status);
        Assert.Contains("nothing to load", byId["missing"].Error);
        Assert.Equal("disabled", byId["sleepy"].Status);
        Assert.Equal("loaded", byId["thrower"].Status);
    }

    [Fact]
    public async Task A_third_party_plugin_built_against_the_packed_sdk_contributes_a_step_that_runs()
    {
        var slug = await _portal.CreateProjectAsync("Greeter", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "own", commands = new[] { "true" } } },
            epilogue = Array.Empty<string>(),
        });

        var stacks = await _portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");
        var applied = await _portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null);
        var again = await _portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null);
        var settings = await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{slug}/settings");
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        var hello = Assert.Single(stacks!);
        Assert.Equal(("hello", "a HELLO file"), (hello.PluginId, hello.Summary));
        applied.EnsureSuccessStatusCode();
        again.EnsureSuccessStatusCode();
        Assert.Equal(["own", "hello: greet"], settings!.Jobs.Select(j => j.Name));
        Assert.Equal(Status.Passed, build.Status);
        var greet = build.Jobs.Single(j => j.Name == "hello: greet");
        Assert.Contains("bonjour from the plugin\nworld", await _portal.LogAsync(greet.Id));
        // Applying is a change of settings like any other: once in the audit log, by who applied, with the added job.
        var audit = await _portal.Api.GetFromJsonAsync<List<Kaizen.Portal.Audit.AuditEntry>>("/api/v1/audit?limit=1000");
        var applyEntry = Assert.Single(audit!, e => e.Target == $"project:{slug}/settings" && e.Details!.StartsWith("via applied stack suggestions"));
        Assert.Equal("admin", applyEntry.Actor);
        Assert.Contains("hello: greet", applyEntry.Details);
    }

    [Fact]
    public async Task A_plugin_that_throws_is_marked_failed_and_harms_nothing_else()
    {
        var slug = await _portal.CreateProjectAsync("Still Works", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "test", commands = new[] { "echo fine" } } },
            epilogue = Array.Empty<string>(),
        });

        var stacks = await _portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");
        var list = await _portal.Api.GetFromJsonAsync<List<PluginResponse>>("/api/v1/plugins");
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.Equal("hello", Assert.Single(stacks!).PluginId);
        var thrower = list!.Single(p => p.Id == "thrower");
        Assert.Equal("failed", thrower.Status);
        Assert.Contains("the detector is broken", thrower.Error);
        Assert.Equal("loaded", list!.Single(p => p.Id == "hello").Status);
        Assert.Equal(Status.Passed, build.Status);
    }
}
