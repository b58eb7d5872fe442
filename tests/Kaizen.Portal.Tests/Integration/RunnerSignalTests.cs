using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Debug;
using Kaizen.Portal.Runners;
using Kaizen.Portal.Tests.Debug;
using Kaizen.Runner.Agent;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// kaizen-runner started the way a background start leaves it (`nohup kaizen-runner &amp;`, or a service manager that
/// ignores SIGINT and SIGQUIT): children inherit ignored signals, and bash cannot undo an ignore it started with. The
/// job's shell and a debug session's shell still start with every signal at its default, so `timeout -s INT`, a test
/// runner stopping its workers and Ctrl-C in the terminal all work.
/// </summary>
public sealed class RunnerSignalTests() : PortalWithRepository(embeddedSlots: 0)
{
    private const string Check = "grep '^SigIgn' /proc/self/status; timeout --preserve-status -s INT 1 sleep 5; echo \"sleep-exit=$?\"";

    [Fact]
    public async Task A_runner_started_ignoring_sigint_gives_its_jobs_and_terminals_default_signals()
    {
        var slug = await _portal.CreateProjectAsync("Signals", _repo.Path, PortalHost.OneJob(Check, "exit 3"));
        using var runner = StartIgnoringInterrupts("ignoring");
        try
        {
            var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 90);
            var log = await _portal.LogAsync(build.Jobs[0].Id);

            using var started = await _portal.Api.PostAsJsonAsync($"/api/v1/jobs/{build.Jobs[0].Id}/debug", new { minutes = 5 });
            var session = (await started.Content.ReadFromJsonAsync<DebugSessionResponse>())!;
            await using var terminal = await TerminalClient.ConnectAsync(_portal.BaseUrl, session.Id, PortalHost.AdminToken);
            await terminal.WaitForStateAsync(DebugStates.Open, timeoutSeconds: 90);
            await terminal.TypeAsync(Check + "; echo \"done=$((1+1))\"\r");
            var done = await terminal.WaitForAsync("done=2");

            // Assert: no signal ignored, and SIGINT stops the sleep (130 = killed by SIGINT; 0 = it slept to its end).
            Assert.True(build.Status == Status.Failed, await _portal.DescribeAsync(build));
            Assert.Matches(@"SigIgn:\s+0{16}\n", log);
            Assert.Contains("sleep-exit=130\n", log);
            var screen = terminal.Screen[..done];
            Assert.Matches(@"SigIgn:\s+0{16}\r\n", screen);
            Assert.Contains("sleep-exit=130\r\n", screen);
            await _portal.Api.DeleteAsync($"/api/v1/debug-sessions/{session.Id}");
        }
        finally
        {
            if (!runner.HasExited) runner.Kill(entireProcessTree: true);
            await runner.WaitForExitAsync();
        }
    }

    /// <summary>The console runner under <c>sh -c 'trap "" INT QUIT; exec …'</c>: SIGINT and SIGQUIT ignored, as `&amp;` leaves them.</summary>
    private Process StartIgnoringInterrupts(string name)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", "trap '' INT QUIT; exec dotnet \"$@\"", "sh", ConsoleRunnerTests.RunnerBuild(),
            "--portal", _portal.BaseUrl.ToString(), "--work", Path.Combine(_portal.DataDirectory, "runners", name), "--name", name, "--no-docker" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[RegistrationToken.Variable] = PortalHost.RegistrationToken;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
