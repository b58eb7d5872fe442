using System.Diagnostics;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Security;
using Kaizen.Runner.Execution.Sandbox;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// A job starts from a clean, documented environment: the default <c>PATH</c> (plus the runner's
/// <c>KAIZEN_JOB_PATH</c>), never the runner's own <c>PATH</c> with whatever shims the shell that started it had.
/// Runners here are real <c>kaizen-runner</c> processes started from a "shell" whose PATH begins with a pyenv-like
/// shim folder.
/// </summary>
public sealed class JobEnvironmentTests : OneCommitRepository
{
    [Fact]
    public async Task A_trusted_runner_gives_jobs_the_default_path_and_its_extension_but_not_its_own_shims()
    {
        var path = await JobPathAsync(sandboxed: false, extra: "/usr/lib/kaizen-extra/bin:relative/ignored");
        Assert.Equal("/usr/lib/kaizen-extra/bin:" + JobSandbox.DefaultPath, path.Path);
        Assert.Equal("/usr/bin/python3", path.Python);
    }

    [SkippableFact]
    public async Task A_sandboxed_runner_gives_jobs_the_default_path_and_the_extension_it_can_show()
    {
        SandboxRequirement.Check();
        var path = await JobPathAsync(sandboxed: true, extra: "/usr/lib/kaizen-extra/bin:/root/not-shown/bin");
        Assert.Equal("/usr/lib/kaizen-extra/bin:" + JobSandbox.DefaultPath, path.Path);
        Assert.Equal("/usr/bin/python3", path.Python);
    }

    [Fact]
    public void The_job_path_puts_the_extension_first_and_never_repeats_a_folder()
    {
        Assert.Equal(JobSandbox.DefaultPath, JobSandbox.JobPath(sandboxed: false, extra: ""));
        Assert.Equal("/opt/a:" + JobSandbox.DefaultPath, JobSandbox.JobPath(sandboxed: false, extra: " /opt/a :/opt/a::x"));
        Assert.Equal(JobSandbox.DefaultPath, JobSandbox.JobPath(sandboxed: true, extra: "/home/me/bin:/tmp/x"));
    }

    private async Task<(string Path, string Python)> JobPathAsync(bool sandboxed, string extra)
    {
        using var shims = new TempDirectory();
        using var work = new TempDirectory();
        var shim = Path.Combine(shims.Path, "python3");
        await File.WriteAllTextAsync(shim, "#!/bin/sh\necho 'a shim of the shell that started the runner'\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync(sandboxed ? "Path Sandboxed" : "Path Trusted", _repo.Path,
            OneJob("echo \"path=$PATH\"", "echo \"python=$(command -v python3)\""));
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { FaultToleranceTests.RunnerExecutable(), "--portal", portal.BaseUrl.ToString(),
                "--registration-token", PortalHost.RegistrationToken, "--name", "path-runner", "--work", work.Path, "--no-docker" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (!sandboxed) start.ArgumentList.Add("--no-sandbox");
        start.Environment["PATH"] = shims.Path + ":" + Environment.GetEnvironmentVariable("PATH");
        start.Environment[JobSandbox.JobPathVariable] = extra;
        using var runner = Process.Start(start)!;
        runner.OutputDataReceived += (_, _) => { };
        runner.ErrorDataReceived += (_, _) => { };
        runner.BeginOutputReadLine();
        runner.BeginErrorReadLine();
        try
        {
            var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 60);
            var log = await portal.LogAsync(build.Jobs[0].Id);
            Assert.True(build.Status == Status.Passed, await portal.DescribeAsync(build));
            Assert.DoesNotContain(shims.Path, log);
            string Value(string name) => log.Split('\n').Single(l => l.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
            return (Value("path"), Value("python"));
        }
        finally
        {
            runner.Kill(entireProcessTree: true);
            await runner.WaitForExitAsync();
        }
    }
}
