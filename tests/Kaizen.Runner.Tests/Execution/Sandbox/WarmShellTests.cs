using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Sandbox;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution.Sandbox;

/// <summary>
/// Sandboxed shells made ahead of time for a project's next job (<see cref="JobExecutor.WarmShells"/>), in the real
/// bubblewrap sandbox on real git repositories: a job that takes one sees exactly what a job in a shell of its own sees
/// (its commit, its variables, an empty home and /tmp), and never a shell made for another project or for a fork.
/// </summary>
public sealed class WarmShellTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private GitRepo _repo = null!;
    private string _first = "";
    private string _second = "";
    private JobSandbox _sandbox = null!;

    public async Task InitializeAsync()
    {
        _repo = await GitRepo.CreateAsync("main");
        _first = await _repo.CommitAsync("First", ("readme.txt", "hello\n"), ("old.txt", "old\n"));
        _second = await _repo.CommitAsync("Second", ("readme.txt", "hello again\n"), ("new.txt", "new\n"));
    }

    public Task DisposeAsync()
    {
        _repo.Dispose();
        _work.Dispose();
        return Task.CompletedTask;
    }

    private JobExecutor Executor(int warmShells = 2)
    {
        var (sandbox, problem) = JobSandbox.Create(_work.Path, []);
        if (sandbox is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_SANDBOX") == "1", $"A job sandbox is required: {problem}");
            Skip.If(true, $"No job sandbox here: {problem}");
        }

        _sandbox = sandbox!;
        return new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path)) { Sandbox = _sandbox, WarmShells = warmShells };
    }

    private JobAssignment Job(long id, string project, string sha, IReadOnlyDictionary<string, string>? environment = null, params string[] commands) =>
        new(id, 1, project, "test", _repo.Path, "main", sha,
            [.. commands.Select((c, i) => new JobCommand(i, CommandPhase.Main, c))], environment ?? new Dictionary<string, string> { ["GREETING"] = "hi" }, 60,
            Secrets: [new JobSecret("DEPLOY_KEY", $"key-of-job-{id}")]);

    private static async Task<MemoryJobOutput> PassAsync(JobExecutor executor, JobAssignment job)
    {
        var output = new MemoryJobOutput();
        var result = await executor.RunAsync(job, output, CancellationToken.None);
        Assert.True(result.Outcome == JobOutcome.Passed,
            result.Error + output.Log(null) + string.Join("\n", job.Commands.Select(c => $"[{c.Index}] {output.Log(c.Index)}")));
        return output;
    }

    [SkippableFact]
    public async Task The_next_job_of_a_project_takes_a_shell_made_ahead_and_sees_only_its_own_commit_variables_and_folders()
    {
        await using var executor = Executor();
        await PassAsync(executor, Job(1, "acme", _first, null, "echo left > ~/left && echo left > /tmp/left && export LEFT=over && cat readme.txt"));
        Assert.Equal(0, executor.WarmShellHits);

        var output = await PassAsync(executor, Job(2, "acme", _second, new Dictionary<string, string> { ["GREETING"] = "it's \"quoted\" $HOME" } ,
            "cat readme.txt new.txt && git log -1 --format=%s && git status --porcelain",
            "printf '%s|%s|%s\\n' \"$GREETING\" \"$KAIZEN_JOB_ID\" \"${LEFT-unset}\" && test \"$PWD\" = \"$KAIZEN_WORKSPACE\" && echo in-workspace && test \"$DEPLOY_KEY\" = key-of-job-2 && echo own-secret",
            "ls -A ~ && test ! -e /tmp/left && id -un",
            "echo \"token: ${KAIZEN_JOB_TOKEN:-none}\"") with { JobToken = "kzj_warm_shell_token" });

        Assert.Equal(1, executor.WarmShellHits);
        Assert.Equal("hello again\nnew\nSecond\n", output.Log(0));
        Assert.Equal("it's \"quoted\" $HOME|2|unset\nin-workspace\nown-secret\n", output.Log(1));
        Assert.Equal("kaizen\n", output.Log(2));
        Assert.Equal("token: none\n", output.Log(3)); // the runner keeps the job's token: an export line never carries it
    }

    [SkippableFact]
    public async Task A_shell_made_for_a_project_never_serves_another_project_or_a_fork()
    {
        await using var executor = Executor();
        await PassAsync(executor, Job(1, "acme", _first, null, "true"));

        var other = await PassAsync(executor, Job(2, "other", _first, null, "echo \"$KAIZEN_TOOLS_DIR\""));
        var fork = await PassAsync(executor, Job(3, "acme", _first, null, "echo \"$KAIZEN_TOOLS_DIR\"") with { FromFork = true });
        Assert.Equal(0, executor.WarmShellHits);
        Assert.Contains("other", other.Log(0));
        Assert.DoesNotContain(Path.Combine("tools", "acme"), fork.Log(0));

        await PassAsync(executor, Job(4, "acme", _first, null, "cat readme.txt"));
        Assert.Equal(1, executor.WarmShellHits);
    }

    [SkippableFact]
    public async Task A_job_that_sets_a_variable_bash_reads_when_it_starts_gets_a_shell_started_with_it()
    {
        await using var executor = Executor();
        await PassAsync(executor, Job(1, "acme", _first, null, "true"));

        var output = await PassAsync(executor, Job(2, "acme", _first, new Dictionary<string, string> { ["SHLVL"] = "41" }, "echo \"$SHLVL\""));

        Assert.Equal(0, executor.WarmShellHits);
        Assert.Equal("42\n", output.Log(0));
    }

    [SkippableFact]
    public async Task Ending_the_runner_ends_the_waiting_shells_and_removes_their_folders()
    {
        var executor = Executor();
        await PassAsync(executor, Job(1, "acme", _first, null, "true"));
        await PassAsync(executor, Job(2, "acme", _first, null, "true"));
        Assert.Equal(1, executor.WarmShellHits);

        await executor.DisposeAsync();

        foreach (var parent in (string[])[Path.Combine(_work.Path, "jobs"), Path.Combine(_work.Path, "control"), Path.Combine(_sandbox.StateDirectory, "jobs")])
        {
            Assert.Empty(Directory.Exists(parent) ? Directory.GetDirectories(parent, "warm-*") : []);
        }
    }
}
