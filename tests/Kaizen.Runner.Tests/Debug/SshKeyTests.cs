using Kaizen.Runner.Debug;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>What of a profile's public key line reaches authorized_keys: the type and the base64, nothing a user could smuggle options in with.</summary>
public sealed class SshKeyTests
{
    [Theory]
    [InlineData("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFoo alice@laptop", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFoo")]
    [InlineData("  ssh-rsa AAAAB3NzaC1yc2E= ", "ssh-rsa AAAAB3NzaC1yc2E=")]
    [InlineData("ecdsa-sha2-nistp256 AAAAE2VjZHNh\tbob", "ecdsa-sha2-nistp256 AAAAE2VjZHNh")]
    [InlineData("sk-ssh-ed25519@openssh.com AAAAGnNr carol@key", "sk-ssh-ed25519@openssh.com AAAAGnNr")]
    [InlineData("no-pty,command=\"/bin/sh\" ssh-ed25519 AAAAC3Nz alice", "ssh-ed25519 AAAAC3Nz")]
    public void The_type_and_base64_of_a_key_line_are_kept(string line, string expected) =>
        Assert.Equal(expected, SshServer.KeyOf(line));

    [Theory]
    [InlineData("")]
    [InlineData("not a key")]
    [InlineData("ssh-ed25519")]
    [InlineData("ssh-ed25519 AAAA\"bad")]
    [InlineData("ssh-ed25519 AAAA,command=x")]
    [InlineData("-----BEGIN OPENSSH PRIVATE KEY-----")]
    public void A_line_that_is_not_a_public_key_is_dropped(string line) =>
        Assert.Null(SshServer.KeyOf(line));
}
