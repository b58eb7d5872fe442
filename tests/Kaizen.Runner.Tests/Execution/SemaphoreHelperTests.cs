using System.Security.Cryptography;
using System.Text;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

/// <summary>Semaphore's helper commands (semaphore.sh) in real job shells answered by the runner, with real files.</summary>
public sealed class SemaphoreHelperTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    private KaizenFunctions Functions() => new(_work.Path);

    [Fact]
    public async Task Checksum_prints_the_md5_of_the_file_as_semaphore_does()
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws"), ("package-lock.json", "{ \"lock\": 1 }\n"));

        var (exitCode, output) = await job.RunAsync("checksum package-lock.json");

        Assert.Equal(0, exitCode);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes("{ \"lock\": 1 }\n"))) + "\n", output);
    }

    [Fact]
    public async Task Cache_store_restore_and_has_key_work_with_semaphore_keys_fallbacks_and_no_paths_on_restore()
    {
        var functions = Functions();
        await using (var first = await JobShell.StartAsync(functions, _work.Combine("ws1"), ("requirements.txt", "flake8\n")))
        {
            Directory.CreateDirectory(first.Combine("venv", "lib"));
            File.WriteAllText(first.Combine("venv", "lib", "pkg.py"), "x = 1\n");
            var (stored, log) = await first.RunAsync("cache store deps-feature/x-$(checksum requirements.txt) venv");
            Assert.True(stored == 0, log);
            Assert.Contains("cache: stored deps-feature-x-", log, StringComparison.Ordinal);
            Assert.Equal(0, (await first.RunAsync("cache has_key deps-feature/x-$(checksum requirements.txt)")).ExitCode);
            Assert.Equal(1, (await first.RunAsync("cache has_key deps-other")).ExitCode);
            Assert.Equal(0, (await first.RunAsync("cache store /etc/hostname-key /etc")).ExitCode);
        }

        await using var second = await JobShell.StartAsync(functions, _work.Combine("ws2"), ("requirements.txt", "flake8 changed\n"));
        var (restored, output) = await second.RunAsync("cache restore deps-feature/x-$(checksum requirements.txt),deps-feature/x-");

        Assert.True(restored == 0, output);
        Assert.Contains("restored the newest deps-feature-x-", output, StringComparison.Ordinal);
        Assert.Equal("x = 1\n", File.ReadAllText(second.Combine("venv", "lib", "pkg.py")));
    }

    [Fact]
    public async Task Cache_without_arguments_uses_the_default_key_of_each_lock_file()
    {
        var functions = Functions();
        await using (var first = await JobShell.StartAsync(functions, _work.Combine("ws1"), ("package-lock.json", "{}\n")))
        {
            Directory.CreateDirectory(first.Combine("node_modules", "left-pad"));
            File.WriteAllText(first.Combine("node_modules", "left-pad", "index.js"), "pad\n");
            var (stored, log) = await first.RunAsync("SEMAPHORE_GIT_BRANCH=main; cache store");
            Assert.True(stored == 0, log);
            Assert.Contains("cache: stored node-modules-main-", log, StringComparison.Ordinal);
        }

        await using var second = await JobShell.StartAsync(functions, _work.Combine("ws2"), ("package-lock.json", "{}\n"));
        var (restored, output) = await second.RunAsync("SEMAPHORE_GIT_BRANCH=main; cache restore");

        Assert.True(restored == 0, output);
        Assert.Equal("pad\n", File.ReadAllText(second.Combine("node_modules", "left-pad", "index.js")));
    }

    [Fact]
    public async Task Retry_runs_a_command_until_it_passes_or_gives_up_with_its_exit_code()
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws"));

        var passes = await job.RunAsync("n=0; retry --times 4 --sleep 1 '[ $((n += 1)) -ge 3 ]'; echo \"rc=$? n=$n\"");
        var fails = await job.RunAsync("retry -t 2 sh -c 'exit 7'");

        Assert.Contains("rc=0 n=3", passes.Output, StringComparison.Ordinal);
        Assert.Contains("retry: [2/4] failed with exit code 1; retrying in 1 s", passes.Output, StringComparison.Ordinal);
        Assert.Equal(7, fails.ExitCode);
        Assert.Contains("retry: [2/2] failed with exit code 7; giving up", fails.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checkout_goes_to_the_workspace_and_accepts_use_cache()
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws"));

        var (exitCode, output) = await job.RunAsync("cd / && checkout --use-cache && pwd");

        Assert.Equal(0, exitCode);
        Assert.EndsWith(job.Workspace + "\n", output, StringComparison.Ordinal);
        Assert.Equal(2, (await job.RunAsync("checkout --depth 1")).ExitCode);
    }

    [Fact]
    public async Task Sem_version_of_a_version_this_runner_cannot_install_fails_clearly()
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws"));

        var python = await job.RunAsync("sem-version python 2.1");
        var elixir = await job.RunAsync("sem-version elixir 1.9");

        Assert.Equal(1, python.ExitCode);
        Assert.Contains("sem-version: python 2.1 is not installable here: ", python.Output, StringComparison.Ordinal);
        Assert.Equal(1, elixir.ExitCode);
        Assert.Contains("sem-version: elixir 1.9 is not installable here: Kaizen knows no installer for elixir", elixir.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Artifact_maps_scopes_onto_kaizen_artifacts_and_refuses_pulling_another_jobs_files()
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws"));

        var pullJob = await job.RunAsync("artifact pull job out.txt");
        var badScope = await job.RunAsync("artifact push build out.txt");
        var push = await job.RunAsync("artifact push workflow out.txt");

        Assert.Equal(2, pullJob.ExitCode);
        Assert.Contains("a Kaizen job cannot pull another job's artifacts", pullJob.Output, StringComparison.Ordinal);
        Assert.Contains("the scope is job, workflow or project, not 'build'", badScope.Output, StringComparison.Ordinal);
        // Without a portal, kaizen artifact says so: the helper reached it.
        Assert.Contains("artifact: this job has no portal", push.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Semaphore_variables_come_from_the_runners_facts_and_the_jobs_own_values_win()
    {
        var environment = new Dictionary<string, string> { ["SEMAPHORE_JOB_NAME"] = "mine" };

        SemaphoreVariables.AddTo(environment, "pull/42", "abc123", 7, 9, "test", "shop", "/ws");

        Assert.Equal("pull/42", environment["SEMAPHORE_GIT_BRANCH"]);
        Assert.Equal(("42", "pull-request", "refs/pull/42"), (environment["SEMAPHORE_GIT_PR_NUMBER"], environment["SEMAPHORE_GIT_REF_TYPE"], environment["SEMAPHORE_GIT_REF"]));
        Assert.Equal(("7", "9", "/ws", "mine"), (environment["SEMAPHORE_WORKFLOW_ID"], environment["SEMAPHORE_JOB_ID"], environment["SEMAPHORE_GIT_DIR"], environment["SEMAPHORE_JOB_NAME"]));
        Assert.DoesNotContain(environment.Keys, k => k.Contains("TOKEN", StringComparison.Ordinal));
    }
}
