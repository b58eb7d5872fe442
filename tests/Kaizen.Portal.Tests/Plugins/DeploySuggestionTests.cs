using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>A server's deploy commands can come from a stack plugin, which also says which variables are still missing.</summary>
public sealed class DeploySuggestionTests : ServerlessService
{
    [Fact]
    public async Task The_serverless_plugin_suggests_a_deploy_to_the_stage_named_after_the_server_and_names_the_missing_keys()
    {
        var slug = await CreateProjectAsync("Orders");

        var before = await SuggestionAsync(slug, "production");

        Assert.Contains(before.Commands, c => c.StartsWith("kaizen tool use serverless", StringComparison.Ordinal));
        Assert.Contains(before.Commands, c => c.Contains("serverless deploy --stage production", StringComparison.Ordinal));
        Assert.Contains("AWS_ACCESS_KEY_ID", before.MissingVariables);
        Assert.Contains("AWS_SECRET_ACCESS_KEY", before.MissingVariables);

        // Once the server exists with its keys (and the organization holds one of them), nothing is missing.
        (await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers",
            new { name = "production", commands = before.Commands, trigger = new { mode = "manual", branch = "main" } })).EnsureSuccessStatusCode();
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/production/secrets/AWS_SECRET_ACCESS_KEY",
            new { value = "not-a-real-secret-key" })).EnsureSuccessStatusCode();
        (await _portal.Api.PutAsJsonAsync("/api/v1/secrets/AWS_ACCESS_KEY_ID", new { value = "AKIA-not-real" })).EnsureSuccessStatusCode();
        var after = await SuggestionAsync(slug, "production");

        Assert.Empty(after.MissingVariables);
        Assert.Equal(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], after.RequiredVariables.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Asking_without_a_server_or_for_an_unknown_project_says_what_is_wrong()
    {
        var missing = await _portal.Api.GetAsync("/api/v1/projects/nothing-here/deploy-suggestions?server=production");
        var slug = await CreateProjectAsync("Orders Two");
        var noServer = await _portal.Api.GetAsync($"/api/v1/projects/{slug}/deploy-suggestions");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noServer.StatusCode);
        Assert.Contains("?server=", await noServer.Content.ReadAsStringAsync());
    }

    private async Task<DeploySuggestionResponse> SuggestionAsync(string slug, string server)
    {
        var suggestions = await _portal.Api.GetFromJsonAsync<List<DeploySuggestionResponse>>(
            $"/api/v1/projects/{slug}/deploy-suggestions?server={server}");
        return Assert.Single(suggestions!, s => s.PluginId == "serverless");
    }
}
