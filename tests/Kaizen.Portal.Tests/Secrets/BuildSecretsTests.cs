using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Secrets;

/// <summary>Secrets and variables reach real build jobs through the runner, and never their logs or the data folder.</summary>
public sealed class BuildSecretsTests : OneCommitRepository
{
    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..16];

    [Fact]
    public async Task A_build_sees_its_secrets_and_variables_while_its_log_shows_stars()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var marks = Path.Combine(portal.Exchange, $"marks-{Guid.NewGuid():N}");
        Directory.CreateDirectory(marks);
        var token = "tok-" + Guid.NewGuid().ToString("N");
        var key = $"-----BEGIN KEY-----\nline-one-{Guid.NewGuid():N}\nline-two-{Guid.NewGuid():N}\n-----END KEY-----";
        var slug = await portal.CreateProjectAsync("Secretive", _repo.Path, OneJob(
            "echo \"token=$API_TOKEN\"",
            "printf '%s' \"$API_TOKEN\" | sha256sum | cut -c1-16 > " + marks + "/token",
            "echo \"$DEPLOY_KEY\"",
            "sha256sum < \"$DEPLOY_KEY_FILE\" | cut -c1-16 > " + marks + "/file",
            "stat -c %a \"$DEPLOY_KEY_FILE\" > " + marks + "/mode",
            "printf '%s' \"$SHARED\" | sha256sum | cut -c1-16 > " + marks + "/shared",
            "echo \"greeting=$GREETING\""));
        async Task PutAsync(string url, object body) =>
            Assert.True((await portal.Api.PutAsJsonAsync(url, body)).IsSuccessStatusCode, url);
        await PutAsync("/api/v1/secrets/API_TOKEN", new { value = token });
        await PutAsync($"/api/v1/projects/{slug}/secrets/DEPLOY_KEY", new { value = key });
        await PutAsync($"/api/v1/projects/{slug}/secrets/DEPLOY_KEY_FILE", new { value = key + "\n", file = "keys/deploy.pem" });
        await PutAsync("/api/v1/secrets/SHARED", new { value = "organization-wide-value" });
        await PutAsync($"/api/v1/projects/{slug}/secrets/SHARED", new { value = "project-specific-value" });
        await PutAsync($"/api/v1/projects/{slug}/variables/GREETING", new { value = "hello-from-a-variable" });

        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        var log = await portal.LogAsync(build.Jobs[0].Id);

        Assert.Equal(Status.Passed, build.Status);
        Assert.Equal(Hash(token), File.ReadAllText(Path.Combine(marks, "token")).Trim());
        Assert.Equal(Hash(key + "\n"), File.ReadAllText(Path.Combine(marks, "file")).Trim());
        Assert.Equal("600", File.ReadAllText(Path.Combine(marks, "mode")).Trim());
        Assert.Equal(Hash("project-specific-value"), File.ReadAllText(Path.Combine(marks, "shared")).Trim());
        Assert.Contains("token=***", log);
        Assert.Contains("greeting=hello-from-a-variable", log);
        Assert.DoesNotContain(token, log);
        foreach (var line in key.Split('\n')) Assert.DoesNotContain(line, log);
        var files = Directory.GetFiles(portal.DataDirectory, "*", SearchOption.AllDirectories);
        Assert.DoesNotContain(files, f => SecretsApiTests.Holds(f, token));
        Assert.DoesNotContain(files, f => SecretsApiTests.Holds(f, key.Split('\n')[1]));
        Directory.Delete(marks, recursive: true);
    }

    [Fact]
    public async Task A_secret_shorter_than_what_the_runner_can_mask_is_refused()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);

        var response = await portal.Api.PutAsJsonAsync("/api/v1/secrets/PIN", new { value = "42" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at least 3 characters", await response.Content.ReadAsStringAsync());
    }
}
