using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Scripts;

/// <summary>A git-backed library: a real repository in a temp folder is the remote, synced on demand and by webhook.</summary>
public sealed class GitBackedLibraryTests() : PortalWithRepository(embeddedSlots: 1), IDisposable
{
    private GitRepo _scripts = null!;

    protected override async Task ArrangeRepositoryAsync()
    {
        _scripts = await GitRepo.CreateAsync("main");
        await _scripts.CommitAsync("Add the deploy script",
            ("ci/scripts/deploy.sh", "#!/bin/bash\n# Deploys the site.\necho \"deploying v1 to $1\"\n"),
            ("ci/scripts/notes.txt", "not a script\n"),
            ("ci/other.sh", "echo outside the folder\n"));
    }

    private async Task<JsonElement> ConfigureAsync()
    {
        using var response = await _portal.Api.PutAsJsonAsync("/api/v1/script-library", new { gitUrl = _scripts.Path, folder = "ci/scripts" });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task The_folders_scripts_are_the_library_and_a_new_commit_is_synced_on_demand()
    {
        // Act
        var configured = await ConfigureAsync();
        var sha2 = await _scripts.CommitAsync("Say where", ("ci/scripts/deploy.sh", "#!/bin/bash\n# Deploys the site.\necho \"deploying v2 to $1\"\n"));
        using var synced = await _portal.Api.PostAsync("/api/v1/scripts/sync", null);

        // Assert
        Assert.True(configured.GetProperty("library").GetProperty("gitBacked").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, synced.StatusCode);
        var list = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/scripts");
        var deploy = Assert.Single(list.EnumerateArray());
        Assert.Equal(("deploy", 2, "Deploys the site."), (deploy.GetProperty("name").GetString(), deploy.GetProperty("latestVersion").GetInt32(),
            deploy.GetProperty("description").GetString()));
        var v2 = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/scripts/deploy/versions/2");
        Assert.Equal(sha2, v2.GetProperty("commitSha").GetString());
        Assert.Contains("deploying v2", v2.GetProperty("body").GetString());

        // The synced script runs like any other.
        var slug = await _portal.CreateProjectAsync("Site", _repo.Path, PortalHost.OneJob("run-script deploy prod"));
        var build = await _portal.BuildAsync(slug);
        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Contains("deploying v2 to prod", await _portal.LogAsync(build.Jobs[0].Id));
    }

    [Fact]
    public async Task Edits_in_the_portal_are_refused_with_where_scripts_come_from()
    {
        // Arrange
        await ConfigureAsync();

        // Act
        using var save = await _portal.Api.PutAsJsonAsync("/api/v1/scripts/deploy", new { body = "echo edited here\n" });
        using var create = await _portal.Api.PutAsJsonAsync("/api/v1/scripts/fresh", new { body = "true\n" });
        using var delete = await _portal.Api.DeleteAsync("/api/v1/scripts/deploy");
        var library = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/script-library");

        // Assert
        foreach (var response in new[] { save, create, delete })
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains($"Scripts come from {_scripts.Path}; change them there", await response.DetailAsync());
        }
        Assert.Contains("change them there", library.GetProperty("readOnlyReason").GetString());
        Assert.EndsWith("/webhooks/scripts", library.GetProperty("webhookUrl").GetString());
    }

    [Fact]
    public async Task A_signed_webhook_delivery_syncs_and_a_removed_file_deletes_its_script()
    {
        // Arrange
        var secret = (await ConfigureAsync()).GetProperty("library").GetProperty("webhookSecret").GetString()!;
        await _scripts.CommitAsync("Add notify", ("ci/scripts/notify.sh", "echo notify\n"));
        await _scripts.GitAsync("rm", "-q", "ci/scripts/deploy.sh");
        await _scripts.CommitAsync("Drop deploy");
        var body = Encoding.UTF8.GetBytes("{\"ref\":\"refs/heads/main\"}");

        // Act
        using var forged = await DeliverAsync(body, "sha256=" + new string('0', 64));
        using var delivered = await DeliverAsync(body, "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        var names = (await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/scripts")).EnumerateArray().Select(s => s.GetProperty("name").GetString());
        Assert.Equal(["notify"], names);
        Assert.Equal(HttpStatusCode.OK, (await _portal.Api.GetAsync("/api/v1/scripts/deploy/versions/1")).StatusCode);
    }

    [Fact]
    public async Task A_repository_that_cannot_be_read_is_reported_and_only_admins_configure()
    {
        // Arrange
        var member = Teams.TeamsPortal.Client(_portal, (await Teams.TeamsPortal.CreateUserAsync(_portal, "mia", "member")).Token);

        // Act
        using var byMember = await member.PutAsJsonAsync("/api/v1/script-library", new { gitUrl = _scripts.Path });
        using var missing = await _portal.Api.PutAsJsonAsync("/api/v1/script-library", new { gitUrl = "/nowhere/at/all" });
        var library = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/script-library");

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, byMember.StatusCode);
        Assert.Equal(HttpStatusCode.OK, missing.StatusCode);
        Assert.Contains("Could not read the git repository", library.GetProperty("syncError").GetString());
    }

    [Fact]
    public async Task A_mistyped_folder_is_a_sync_error_that_deletes_nothing_and_fixing_it_keeps_the_versions()
    {
        // Arrange
        await ConfigureAsync();

        // Act
        using var wrong = await _portal.Api.PutAsJsonAsync("/api/v1/script-library", new { gitUrl = _scripts.Path, folder = "ci/scritps" });
        var afterWrong = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/scripts");
        using var invalid = await _portal.Api.PutAsJsonAsync("/api/v1/script-library", new { gitUrl = _scripts.Path, folder = "../outside" });
        var fixedUp = await ConfigureAsync();

        // Assert
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("has no folder 'ci/scritps'", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("syncError").GetString());
        Assert.Single(afterWrong.EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(JsonValueKind.Null, fixedUp.GetProperty("syncError").ValueKind);
        var deploy = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/scripts/deploy");
        Assert.Equal(1, deploy.GetProperty("latestVersion").GetInt32());
    }

    private async Task<HttpResponseMessage> DeliverAsync(byte[] body, string signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/scripts") { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Hub-Signature-256", signature);
        request.Headers.Add("X-GitHub-Event", "push");
        return await _anonymous.SendAsync(request);
    }

    public void Dispose() => _scripts?.Dispose();
}
