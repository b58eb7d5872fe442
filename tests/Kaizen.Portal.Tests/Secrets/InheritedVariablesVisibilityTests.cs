using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Secrets;

/// <summary>
/// The organization's values shown on a project's Variables section are for signed-in people: an anonymous visitor of a
/// public project reaches neither the section nor the values through any page or API.
/// </summary>
public sealed class InheritedVariablesVisibilityTests(SecretsPortal fixture) : IClassFixture<SecretsPortal>
{
    [Fact]
    public async Task An_anonymous_visitor_of_a_public_project_sees_no_organization_variable()
    {
        // Arrange
        var value = "org-value-" + Guid.NewGuid().ToString("N");
        (await fixture.Portal.Api.PutAsJsonAsync("/api/v1/variables/ORG_REGION", new { value })).EnsureSuccessStatusCode();
        var slug = await fixture.Portal.CreateProjectAsync("Open " + Guid.NewGuid().ToString("N")[..6], fixture.Repo.Path,
            PortalHost.OneJob("true"), isPublic: true);
        using var anonymous = fixture.Client(null);
        using var viewer = fixture.Client(fixture.ViewerToken);

        // Act
        var pages = new List<string>();
        foreach (var path in new[] { $"/projects/{slug}/variables", $"/projects/{slug}", $"/projects/{slug}/builds", $"/projects/{slug}/settings" })
        {
            using var page = await anonymous.GetAsync(path);
            pages.Add($"{path}: {(int)page.StatusCode} {await page.Content.ReadAsStringAsync()}");
        }
        using var projectVariables = await anonymous.GetAsync($"/api/v1/projects/{slug}/variables");
        using var orgVariables = await anonymous.GetAsync("/api/v1/variables");
        using var signedIn = await viewer.GetAsync("/api/v1/variables/ORG_REGION");

        // Assert
        Assert.All(pages, page => Assert.DoesNotContain(value, page));
        Assert.All(pages, page => Assert.DoesNotContain("ORG_REGION", page));
        Assert.Equal(HttpStatusCode.Unauthorized, projectVariables.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, orgVariables.StatusCode);
        // The same value is there for someone signed in, so the checks above could have found it.
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        Assert.Contains(value, await signedIn.Content.ReadAsStringAsync());
    }
}
