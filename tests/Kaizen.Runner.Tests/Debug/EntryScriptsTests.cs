using Kaizen.Runner.Debug;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Debug;

/// <summary>The scripts an SSH login runs to enter a session, run by real bash.</summary>
public sealed class EntryScriptsTests
{
    [Fact]
    public async Task Entering_a_container_without_the_docker_cli_says_so()
    {
        using var folder = new TempDirectory();
        var script = folder.Combine("shell");
        await File.WriteAllTextAsync(script, EntryScripts.Container(
            "abc123", "/work/jobs/1", ["GREETING=it's here"], "/kaizen/bin/bash", "/work/debug.rc", "debug-1-ssh", null));

        var (code, output) = await DockerTestImages.RunAsync("env", "-i", "PATH=/nonexistent", "/bin/bash", script);

        Assert.Equal(1, code);
        Assert.Contains("the runner has no docker CLI to enter it (apt-get install docker.io)", output);
    }

    [Fact]
    public void A_container_script_passes_values_by_name_never_on_the_command_line()
    {
        var script = EntryScripts.Container(
            "abc123", "/work/jobs/1", ["TOKEN=s3cr3t 'quoted'", "bad-name=x"], "/kaizen/bin/bash", "/work/debug.rc", "debug-1-ssh", null);

        var exec = script.Split('\n').Single(l => l.StartsWith("exec docker exec", StringComparison.Ordinal));
        Assert.Contains(" -e TOKEN ", exec);
        Assert.Contains(" -e KAIZEN_TERMINAL ", exec);
        Assert.DoesNotContain("s3cr3t", exec);
        Assert.DoesNotContain("bad-name", script);
        Assert.Contains("export TOKEN='s3cr3t '\\''quoted'\\'''", script);
    }
}
