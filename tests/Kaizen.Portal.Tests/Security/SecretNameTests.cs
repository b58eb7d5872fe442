using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Tests.Plugins;
using Kaizen.Portal.Tests.Secrets;
using Kaizen.Portal.Tests.Teams;

namespace Kaizen.Portal.Tests.Security;

/// <summary>
/// Only admins see secret names: a member probing with variable names, or reading deploy suggestions, learns nothing
/// about which secrets exist.
/// </summary>
public sealed class SecretNameTests(SecretsPortal fixture) : IClassFixture<SecretsPortal>
{
    [Fact]
    public async Task A_member_whose_variable_name_clashes_with_a_secret_is_told_to_choose_another_name_without_hearing_of_the_secret()
    {
        // Arrange
        var name = "HIDDEN_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        (await fixture.Portal.Api.PutAsJsonAsync($"/api/v1/projects/{fixture.Slug}/secrets/{name}", new { value = "s3cr3t-value" }))
            .EnsureSuccessStatusCode();
        using var member = fixture.Client(fixture.MemberToken);

        // Act
        using var asMember = await member.PutAsJsonAsync($"/api/v1/projects/{fixture.Slug}/variables/{name}", new { value = "x" });
        using var asAdmin = await fixture.Portal.Api.PutAsJsonAsync($"/api/v1/projects/{fixture.Slug}/variables/{name}", new { value = "x" });

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, asMember.StatusCode);
        var told = await asMember.Content.ReadAsStringAsync();
        Assert.Contains("choose another name", told);
        Assert.DoesNotContain("secret", told, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Conflict, asAdmin.StatusCode);
        Assert.Contains("for a secret", await asAdmin.Content.ReadAsStringAsync());
    }
}

/// <summary>Deploy suggestions plan with secret names for admins only, so they read the same to a member whatever secrets exist.</summary>
public sealed class DeploySuggestionSecretNameTests : ServerlessService
{
    [Fact]
    public async Task A_members_deploy_suggestion_is_the_same_before_and_after_an_admin_adds_the_secrets_it_needs()
    {
        // Arrange
        var slug = await CreateProjectAsync("Hidden Keys");
        var member = await TeamsPortal.CreateUserAsync(_portal, "suggestion-member", "member");
        using var http = TeamsPortal.Client(_portal, member.Token);
        (await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers",
            new { name = "production", commands = new[] { "true" }, trigger = new { mode = "manual", branch = "main" } })).EnsureSuccessStatusCode();
        var before = await http.GetStringAsync($"/api/v1/projects/{slug}/deploy-suggestions?server=production");

        // Act
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/servers/production/secrets/AWS_SECRET_ACCESS_KEY",
            new { value = "not-a-real-secret-key" })).EnsureSuccessStatusCode();
        (await _portal.Api.PutAsJsonAsync("/api/v1/secrets/AWS_ACCESS_KEY_ID", new { value = "AKIA-not-real" })).EnsureSuccessStatusCode();
        var after = await http.GetStringAsync($"/api/v1/projects/{slug}/deploy-suggestions?server=production");
        var asAdmin = await _portal.Api.GetFromJsonAsync<List<DeploySuggestionResponse>>(
            $"/api/v1/projects/{slug}/deploy-suggestions?server=production");

        // Assert
        Assert.Equal(before, after);
        Assert.Contains("\"secretsCounted\":false", after);
        var serverless = Assert.Single(asAdmin!, s => s.PluginId == "serverless");
        Assert.True(serverless.SecretsCounted);
        Assert.Empty(serverless.MissingVariables);
    }
}
