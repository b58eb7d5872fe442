using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Secrets;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Secrets;

/// <summary>The Data Protection keys that encrypt secrets, across restarts and configured places.</summary>
public sealed class SecretKeysTests : OneCommitRepository
{
    [Fact]
    public async Task A_saved_secret_still_decrypts_after_the_portal_restarts_on_the_same_data_folder()
    {
        // Arrange
        using var data = new TempDirectory();
        long projectId;
        await using (var first = await PortalHost.StartAsync(embeddedSlots: 0, dataDirectory: data.Path))
        {
            var slug = await first.CreateProjectAsync("Web", _repo.Path, OneJob("true"));
            using var put = await first.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/secrets/SURVIVES_RESTART",
                new { value = "still here", file = "cfg/token" });
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            projectId = (await first.Service<ProjectStore>().FindBySlugAsync(slug))!.Id;
        }

        // Act
        await using var second = await PortalHost.StartAsync(embeddedSlots: 0, dataDirectory: data.Path);
        var (_, secrets) = await second.Service<JobEnvironmentProvider>().ForBuildJobAsync(projectId, CancellationToken.None);

        // Assert
        Assert.Equal([new JobSecret("SURVIVES_RESTART", "still here", "cfg/token")], secrets);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(data.Path, "keys"), "key-*.xml"));
    }

    [Fact]
    public async Task Keys_go_to_the_configured_folder_readable_only_by_the_portals_user()
    {
        // Arrange
        using var keys = new TempDirectory();
        var folder = Path.Combine(keys.Path, "kaizen-keys");
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0,
            settings: new Dictionary<string, string> { ["Kaizen:Secrets:KeysDirectory"] = folder });

        // Act
        using var put = await portal.Api.PutAsJsonAsync("/api/v1/secrets/ELSEWHERE", new { value = "value-kept-elsewhere" });

        // Assert
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.NotEmpty(Directory.GetFiles(folder, "key-*.xml"));
        Assert.False(Directory.Exists(Path.Combine(portal.DataDirectory, "keys")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
    }
}
