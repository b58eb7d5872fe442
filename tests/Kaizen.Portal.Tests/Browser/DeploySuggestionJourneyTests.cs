using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Plugins;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>A server's deploy commands taken from a stack plugin in the Add server dialog, with the keys it still lacks.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DeploySuggestionJourneyTests : ServerlessService
{
    [SkippableFact]
    public async Task An_admin_takes_the_serverless_plugins_deploy_commands_for_a_new_server()
    {
        var slug = await CreateProjectAsync("Orders");
        (await _portal.Api.PutAsJsonAsync("/api/v1/secrets/AWS_ACCESS_KEY_ID", new { value = "AKIA-not-real" })).EnsureSuccessStatusCode();
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}");

        await browser.ProjectSection("Servers").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add server" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("staging");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Suggest from detected stacks" }).ClickAsync();
        var suggestion = dialog.GetByRole(AriaRole.Region, new() { Name = "Suggested deploy commands" }).Locator("[data-suggestion='serverless']");
        await Assertions.Expect(suggestion).ToContainTextAsync("serverless deploy --stage staging", new() { Timeout = 30_000 });
        await Assertions.Expect(suggestion).ToContainTextAsync("Needs AWS_SECRET_ACCESS_KEY, not defined yet");
        await suggestion.GetByRole(AriaRole.Button, new() { Name = "Use the Serverless Framework commands" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Add server" }).ClickAsync();
        await Assertions.Expect(dialog).ToHaveCountAsync(0);

        var server = await _portal.Api.GetFromJsonAsync<ServerResponse>($"/api/v1/projects/{slug}/servers/staging");
        Assert.Contains(server!.Commands, c => c.StartsWith("kaizen tool use serverless", StringComparison.Ordinal));
        Assert.Contains(server.Commands, c => c.Contains("serverless deploy --stage staging", StringComparison.Ordinal));
    }
}
