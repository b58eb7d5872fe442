using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Teams;

namespace Kaizen.Portal.Tests.Scripts;

/// <summary>The scripts API over real HTTP: who may do what, versions, refusals with reasons, and the audit log.</summary>
public sealed class ScriptApiTests() : PortalWithRepository(embeddedSlots: 0)
{
    [Fact]
    public async Task Members_save_versions_viewers_read_and_anonymous_callers_get_nothing()
    {
        // Arrange
        var member = TeamsPortal.Client(_portal, (await TeamsPortal.CreateUserAsync(_portal, "maria", "member")).Token);
        var viewer = TeamsPortal.Client(_portal, (await TeamsPortal.CreateUserAsync(_portal, "victor", "viewer")).Token);

        // Act
        using var first = await member.PutAsJsonAsync("/api/v1/scripts/deploy-s3", new { body = "aws s3 sync . \"s3://$1\"\n", description = "Sync" });
        using var same = await member.PutAsJsonAsync("/api/v1/scripts/deploy-s3", new { body = "aws s3 sync . \"s3://$1\"\n", description = "Sync" });
        using var second = await member.PutAsJsonAsync("/api/v1/scripts/deploy-s3", new { body = "aws s3 sync --delete . \"s3://$1\"\n", description = "Sync" });
        using var byViewer = await viewer.PutAsJsonAsync("/api/v1/scripts/deploy-s3", new { body = "rm -rf /" });
        using var anonymous = await _anonymous.GetAsync("/api/v1/scripts");

        // Assert
        Assert.Equal(1, (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
        var unchanged = await same.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((1, false), (unchanged.GetProperty("version").GetInt32(), unchanged.GetProperty("changed").GetBoolean()));
        Assert.Equal(2, (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var list = await viewer.GetFromJsonAsync<JsonElement>("/api/v1/scripts");
        var item = list.EnumerateArray().Single();
        Assert.Equal(("deploy-s3", 2, "maria"), (item.GetProperty("name").GetString(), item.GetProperty("latestVersion").GetInt32(),
            item.GetProperty("updatedBy").GetString()));
        var script = await viewer.GetFromJsonAsync<JsonElement>("/api/v1/scripts/deploy-s3");
        Assert.Equal("aws s3 sync --delete . \"s3://$1\"\n", script.GetProperty("body").GetString());
        Assert.Equal([2, 1], script.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        var v1 = await viewer.GetFromJsonAsync<JsonElement>("/api/v1/scripts/deploy-s3/versions/1");
        Assert.Equal("aws s3 sync . \"s3://$1\"\n", v1.GetProperty("body").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/v1/scripts/deploy-s3/versions/3")).StatusCode);

        var audit = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/audit");
        Assert.Equal(2, audit.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "script.saved"));
    }

    [Theory]
    [InlineData("Bad_Name", "{\"body\":\"true\"}", HttpStatusCode.BadRequest, "is not a script name")]
    [InlineData("ok", "{\"body\":", HttpStatusCode.BadRequest, "not valid JSON")]
    [InlineData("ok", "{\"description\":\"no body\"}", HttpStatusCode.BadRequest, "Send a JSON body")]
    [InlineData("ok", "{\"body\":\"   \"}", HttpStatusCode.BadRequest, "needs a body")]
    [InlineData("ok", "{\"body\":\"a\\u0000b\"}", HttpStatusCode.BadRequest, "NUL")]
    public async Task Malformed_saves_are_refused_with_a_clear_message(string name, string json, HttpStatusCode status, string message)
    {
        // Act
        using var response = await _portal.Api.PutAsync($"/api/v1/scripts/{name}", new StringContent(json, Encoding.UTF8, "application/json"));

        // Assert
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, await response.DetailAsync());
    }

    [Fact]
    public async Task A_script_over_256_KB_is_refused()
    {
        // Act
        using var response = await _portal.Api.PutAsJsonAsync("/api/v1/scripts/huge", new { body = "#" + new string('x', 256 * 1024) });

        // Assert
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("at most 256 KB", await response.DetailAsync());
    }

    [Fact]
    public async Task Deleting_a_script_that_settings_use_is_refused_naming_them_and_an_unused_one_goes()
    {
        // Arrange
        await _portal.SaveAsync("used", "true\n");
        await _portal.SaveAsync("unused", "true\n");
        await _portal.CreateProjectAsync("Shop", _repo.Path, PortalHost.OneJob("run-script used@1"));

        // Act
        using var refused = await _portal.Api.DeleteAsync("/api/v1/scripts/used");
        using var deleted = await _portal.Api.DeleteAsync("/api/v1/scripts/unused");

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("still used by project shop (jobs[test][0])", await refused.DetailAsync());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _portal.Api.GetAsync("/api/v1/scripts/unused")).StatusCode);
        // The versions stay for builds that ran them.
        Assert.Equal(HttpStatusCode.OK, (await _portal.Api.GetAsync("/api/v1/scripts/unused/versions/1")).StatusCode);
        using var settings = await _portal.Api.PutAsJsonAsync("/api/v1/projects/shop/settings", PortalHost.OneJob("run-script unused"));
        Assert.Equal(HttpStatusCode.BadRequest, settings.StatusCode);
    }
}
