using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Scripts;

/// <summary>What the script tests do over the real API.</summary>
internal static class ScriptsApi
{
    /// <summary>Saves a script; returns the version it is at now.</summary>
    public static async Task<int> SaveAsync(this PortalHost portal, string name, string body, string description = "")
    {
        using var response = await portal.Api.PutAsJsonAsync($"/api/v1/scripts/{name}", new { body, description });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32();
    }

    /// <summary>The commands of a build's job by name, in order.</summary>
    public static IReadOnlyList<CommandResponse> Commands(this BuildResponse build, string job = "test") =>
        build.Jobs.Single(j => j.Name == job).Commands.OrderBy(c => c.Index).ToList();

    /// <summary>Builds a project and waits for the build to finish.</summary>
    public static async Task<BuildResponse> BuildAsync(this PortalHost portal, string slug) =>
        await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 90);

    public static async Task<string> DetailAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString() ?? "";
}
