using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Plugins;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Security;

/// <summary>
/// plugins.json loads code into the portal, so it is read from one fixed place (the content root, or
/// <c>Kaizen:Plugins:File</c>): one left in a folder above where the portal runs is never loaded.
/// </summary>
public sealed class PluginsFileTests
{
    [Fact]
    public async Task A_plugins_json_planted_above_the_working_directory_is_not_loaded()
    {
        // Arrange: the folder above the working directory gets a plugins.json naming a plugin of its own.
        var planted = Path.Combine(Directory.GetParent(Directory.GetCurrentDirectory())!.FullName, "plugins.json");
        Assert.False(File.Exists(planted), $"{planted} exists already");
        await File.WriteAllTextAsync(planted, """{ "plugins": [ { "id": "planted", "path": "planted-plugin" } ] }""");
        try
        {
            // Act
            await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
            var plugins = await portal.Api.GetFromJsonAsync<List<PluginResponse>>("/api/v1/plugins");

            // Assert
            Assert.DoesNotContain(plugins!, p => p.Id == "planted");
            Assert.Equal(Path.Combine(AppContext.BaseDirectory, "plugins.json"), portal.Service<PluginHost>().File);
            Assert.Contains(plugins!, p => p.Id == "python" && p.Status == "loaded");
        }
        finally
        {
            File.Delete(planted);
        }
    }

    [Fact]
    public async Task A_configured_plugins_file_is_the_only_one_read()
    {
        // Arrange
        using var folder = new Kaizen.Runner.Tests.Support.TempDirectory();
        var file = Path.Combine(folder.Path, "plugins.json");
        await File.WriteAllTextAsync(file, """{ "plugins": [ { "id": "configured", "path": "nowhere", "enabled": false } ] }""");

        // Act
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0,
            settings: new Dictionary<string, string> { ["Kaizen:Plugins:File"] = file });
        var plugins = await portal.Api.GetFromJsonAsync<List<PluginResponse>>("/api/v1/plugins");

        // Assert
        Assert.Equal(["configured"], plugins!.Select(p => p.Id));
    }
}
