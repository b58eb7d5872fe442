using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Debug;

/// <summary>SSH public keys in a user's profile (/api/v1/me/ssh-keys): real keys from ssh-keygen, their fingerprints as
/// ssh-keygen prints them, and what is refused.</summary>
public sealed class SshKeysTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private readonly TempDirectory _keys = new();

    public async Task InitializeAsync() => _portal = await PortalHost.StartAsync(embeddedSlots: 0);

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _keys.Dispose();
    }

    /// <summary>A fresh key pair made by ssh-keygen: the public key's line and its fingerprint as ssh-keygen prints it.</summary>
    private async Task<(string Line, string Fingerprint, string PrivatePath)> KeyAsync(string type, string comment)
    {
        var path = Path.Combine(_keys.Path, $"{type}-{Guid.NewGuid():N}");
        await RunAsync("ssh-keygen", "-q", "-t", type, "-N", "", "-C", comment, "-f", path);
        var fingerprint = (await RunAsync("ssh-keygen", "-l", "-E", "sha256", "-f", path + ".pub")).Split(' ')[1];
        return ((await File.ReadAllTextAsync(path + ".pub")).Trim(), fingerprint, path);
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync());
        return output;
    }

    [Fact]
    public async Task Keys_saved_in_the_profile_come_back_with_the_fingerprints_ssh_keygen_prints()
    {
        // Arrange
        var ed = await KeyAsync("ed25519", "me@laptop");
        var rsa = await KeyAsync("rsa", "me@desktop");

        // Act
        using var saved = await _portal.Api.PutAsJsonAsync("/api/v1/me/ssh-keys", new { keys = $"# laptop\n{ed.Line}\r\n\n{rsa.Line}\n{ed.Line}\n" });
        var listed = await _portal.Api.GetFromJsonAsync<List<SshKeyInfo>>("/api/v1/me/ssh-keys");

        // Assert
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal([ed.Fingerprint, rsa.Fingerprint], listed!.Select(k => k.Fingerprint));
        Assert.Equal(["ssh-ed25519", "ssh-rsa"], listed!.Select(k => k.Type));
        Assert.Equal("me@laptop", listed![0].Comment);
    }

    [Fact]
    public async Task A_private_key_or_a_broken_line_is_refused_and_the_saved_keys_stay()
    {
        // Arrange
        var ed = await KeyAsync("ed25519", "kept");
        await _portal.Api.PutAsJsonAsync("/api/v1/me/ssh-keys", new { keys = ed.Line });
        var privateKey = await File.ReadAllTextAsync(ed.PrivatePath);

        // Act
        using var withPrivate = await _portal.Api.PutAsJsonAsync("/api/v1/me/ssh-keys", new { keys = privateKey });
        using var broken = await _portal.Api.PutAsJsonAsync("/api/v1/me/ssh-keys", new { keys = ed.Line + "\nssh-ed25519 AAAAnot-base64!! x" });
        using var wrongType = await _portal.Api.PutAsJsonAsync("/api/v1/me/ssh-keys", new { keys = ed.Line.Replace("ssh-ed25519", "ssh-rsa") });
        var listed = await _portal.Api.GetFromJsonAsync<List<SshKeyInfo>>("/api/v1/me/ssh-keys");

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, withPrivate.StatusCode);
        Assert.Contains("private key", await withPrivate.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Contains("Line 2 is not an OpenSSH public key", await broken.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal([ed.Fingerprint], listed!.Select(k => k.Fingerprint));
    }
}
