using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Debug;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Tests.Debug;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Debug;

/// <summary>SSH into a debug session end to end: the key saved in the user's profile, the embedded runner's own sshd, the
/// command the session shows, and the real ssh client.</summary>
public sealed class SshDebugSessionTests : OneCommitRepository
{
    [SkippableFact]
    public async Task The_key_in_a_users_profile_opens_a_shell_in_their_session_with_the_command_it_shows()
    {
        // Arrange
        SshTestKit.RequireSshd();
        using var keys = new TempDirectory();
        var port = SshTestKit.FreePort();
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1, settings: new Dictionary<string, string>
        {
            ["Kaizen:Runners:Embedded:SshPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kaizen:Runners:Embedded:SshHost"] = "127.0.0.1",
        });
        var (privateKey, publicKey) = await SshTestKit.MakeKeyAsync(keys.Path, "admin");
        var (strangerKey, _) = await SshTestKit.MakeKeyAsync(keys.Path, "stranger");
        await portal.Api.PutAsJsonAsync("/api/v1/me/ssh-keys", new { keys = publicKey });
        var slug = await portal.CreateProjectAsync("Ssh " + Guid.NewGuid().ToString("N")[..6], _repo.Path, OneJob("exit 2"));
        var failed = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        Assert.Equal(Status.Failed, failed.Status);

        // Act
        using var started = await portal.Api.PostAsJsonAsync($"/api/v1/jobs/{failed.Jobs[0].Id}/debug", new { minutes = 10 });
        var id = (await started.Content.ReadFromJsonAsync<DebugSessionResponse>())!.Id;
        var open = await PortalHost.PollAsync(() => portal.Api.GetFromJsonAsync<DebugSessionResponse>($"/api/v1/debug-sessions/{id}")!,
            s => s!.Status == DebugStates.Open, s => $"session {id} is {s!.Status}", 60);
        using var login = SshTestKit.Login(privateKey, port, id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "echo \"name=$KAIZEN_JOB_NAME\"; cat readme.txt; exit\n");
        await login.WaitForAsync("name=test");
        await login.ExitAsync();
        using var stranger = SshTestKit.Login(strangerKey, port, id.ToString(System.Globalization.CultureInfo.InvariantCulture), "echo inside\nexit\n");
        var strangerExit = await stranger.ExitAsync();

        // Assert
        Assert.Equal($"ssh -t -p {port} {SshServer.User}@127.0.0.1 {id}", open!.SshCommand);
        Assert.Contains("hello", login.Output);
        Assert.NotEqual(0, strangerExit);
        Assert.DoesNotContain("inside", stranger.Output.Replace("echo inside", ""));
    }
}
