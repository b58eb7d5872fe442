using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Sandbox;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution.Sandbox;

/// <summary>
/// Jobs in the real bubblewrap sandbox, run by the runner's own <see cref="JobExecutor"/> on real git repositories:
/// what a job sees and what still works (caches, tools, checksums and secret files through the runner).
/// </summary>
public sealed class SandboxedJobTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private GitRepo _repo = null!;
    private string _sha = "";
    private JobSandbox _sandbox = null!;

    public async Task InitializeAsync()
    {
        _repo = await GitRepo.CreateAsync("main");
        _sha = await _repo.CommitAsync("First", ("readme.txt", "hello\n"), ("yarn.lock", "lock v1\n"));
    }

    public Task DisposeAsync()
    {
        _repo.Dispose();
        _work.Dispose();
        return Task.CompletedTask;
    }

    private JobExecutor Executor()
    {
        var (sandbox, problem) = JobSandbox.Create(_work.Path, []);
        if (sandbox is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_SANDBOX") == "1", $"A job sandbox is required: {problem}");
            Skip.If(true, $"No job sandbox here: {problem}");
        }

        _sandbox = sandbox!;
        return new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path)) { Sandbox = _sandbox };
    }

    private JobAssignment Job(long id, string project, IReadOnlyList<JobSecret>? secrets = null, params string[] commands) =>
        new(id, 1, project, "test", _repo.Path, "main", _sha,
            [.. commands.Select((c, i) => new JobCommand(i, CommandPhase.Main, c))], new Dictionary<string, string> { ["GREETING"] = "hi" }, 60,
            Secrets: secrets);

    [SkippableFact]
    public async Task A_sandboxed_job_sees_its_checkout_and_git_history_as_an_unprivileged_user()
    {
        var executor = Executor();
        var output = new MemoryJobOutput();

        var result = await executor.RunAsync(Job(1, "acme", null, "id -un", "cat readme.txt && git log -1 --format=%s", "echo \"$HOME $GREETING\" && touch ~/x /tmp/y"), output, CancellationToken.None);

        Assert.True(result.Outcome == JobOutcome.Passed, result.Error + output.Log(null) + output.Log(0) + output.Log(1));
        Assert.Equal("kaizen\n", output.Log(0));
        Assert.Equal("hello\nFirst\n", output.Log(1));
        Assert.Equal("/home/kaizen hi\n", output.Log(2));
        Assert.False(Directory.Exists(Path.Combine(_sandbox.StateDirectory, "jobs", "1")), "the job's home and /tmp are removed after it");
    }

    [SkippableFact]
    public async Task Caches_checksums_and_tools_work_through_the_runner_and_tools_stay_with_their_project()
    {
        var executor = Executor();
        var first = new MemoryJobOutput();
        var second = new MemoryJobOutput();
        var other = new MemoryJobOutput();
        const string Install = "kaizen tool use greeter 1 -- 'mkdir -p bin && printf \"#!/bin/sh\\necho greeter of $KAIZEN_PROJECT\\n\" > bin/greeter && chmod +x bin/greeter'";

        var stored = await executor.RunAsync(Job(2, "acme", null,
            "mkdir -p deps && echo cached > deps/a.txt && kaizen cache store deps yarn.lock -- deps",
            "kaizen checksum yarn.lock",
            Install, "greeter",
            "touch \"$KAIZEN_TOOLS_DIR/greeter/1/bin/greeter\" 2>/dev/null && echo tools-writable || echo tools-read-only"), first, CancellationToken.None);
        var restored = await executor.RunAsync(Job(3, "acme", null,
            "kaizen cache restore deps yarn.lock -- deps && cat deps/a.txt", Install, "greeter"), second, CancellationToken.None);
        var elsewhere = await executor.RunAsync(Job(4, "other", null, "kaizen cache restore deps yarn.lock -- deps", "greeter || echo no greeter here"), other, CancellationToken.None);

        Assert.True(stored.Outcome == JobOutcome.Passed, stored.Error + string.Join("\n", Enumerable.Range(0, 5).Select(i => first.Log(i))));
        Assert.Contains("cache: stored deps-", first.Log(0));
        Assert.Matches("^[0-9a-f]{16}\n$", first.Log(1));
        Assert.Contains("tool: installed greeter 1", first.Log(2));
        Assert.Equal("greeter of acme\n", first.Log(3));
        Assert.Equal("tools-read-only\n", first.Log(4));
        Assert.True(restored.Outcome == JobOutcome.Passed, restored.Error + second.Log(0) + second.Log(1));
        Assert.EndsWith("cached\n", second.Log(0));
        Assert.Contains("already installed", second.Log(1));
        Assert.Contains("cache: miss", other.Log(0));
        Assert.Contains("no greeter here", other.Log(1));
    }

    [SkippableFact]
    public async Task Secret_files_go_where_the_job_sees_them_and_paths_it_cannot_see_are_refused()
    {
        var executor = Executor();
        var output = new MemoryJobOutput();
        var refused = new MemoryJobOutput();

        var result = await executor.RunAsync(Job(5, "acme",
            [new JobSecret("AWS_FILE", "aws-secret-value\n", "/home/kaizen/.aws/credentials"), new JobSecret("KEY", "key-value\n", "keys/deploy.pem")],
            "cat \"$AWS_FILE\" | wc -c", "echo \"$AWS_FILE\"", "cat \"$KEY\" | wc -c"), output, CancellationToken.None);
        var outside = await executor.RunAsync(Job(6, "acme", [new JobSecret("ETC", "value-value\n", "/etc/kaizen-secret")], "true"), refused, CancellationToken.None);

        Assert.True(result.Outcome == JobOutcome.Passed, result.Error + output.Log(null));
        Assert.Equal("17\n", output.Log(0));
        Assert.Equal("/home/kaizen/.aws/credentials\n", output.Log(1));
        Assert.Equal("10\n", output.Log(2));
        Assert.Equal(JobOutcome.Failed, outside.Outcome);
        Assert.Contains("outside what a sandboxed job can see", outside.Error);
        Assert.False(File.Exists("/etc/kaizen-secret"));
    }

    [SkippableFact]
    public async Task A_forks_tool_install_is_thrown_away_and_never_serves_the_project()
    {
        var executor = Executor();
        var fork = new MemoryJobOutput();
        var own = new MemoryJobOutput();
        const string Use = "kaizen tool use lint 1 -- 'mkdir -p bin && printf \"#!/bin/sh\\necho lint from $KAIZEN_JOB_ID\\n\" > bin/lint && chmod +x bin/lint' && lint";

        var forked = await executor.RunAsync(Job(7, "acme", null, Use) with { FromFork = true }, fork, CancellationToken.None);
        var trusted = await executor.RunAsync(Job(8, "acme", null, Use), own, CancellationToken.None);

        Assert.True(forked.Outcome == JobOutcome.Passed, forked.Error + fork.Log(0));
        Assert.Contains("lint from 7", fork.Log(0));
        Assert.True(trusted.Outcome == JobOutcome.Passed, trusted.Error + own.Log(0));
        Assert.Contains("tool: installing lint 1", own.Log(0));
        Assert.Contains("lint from 8", own.Log(0));
    }

    [SkippableFact]
    public async Task A_job_cannot_read_the_runners_token_through_its_own_kaizen_calls()
    {
        var executor = Executor();
        var output = new MemoryJobOutput();
        const string Token = "kzj_runner_side_only_token";

        // The runner's kaizen call reads paths in the job's workspace; a link there to /proc/self points at the call's
        // own process, whose environment would hold the token.
        var result = await executor.RunAsync(Job(9, "acme", null,
            "ln -s /proc/self me && kaizen cache store --key leak -- me/environ me/cmdline; true",
            "mkdir back && cd back && kaizen cache restore --key leak -- me/environ me/cmdline; cat me/environ me/cmdline 2>/dev/null | tr '\\0' '\\n'; true",
            "echo \"token in the job: ${KAIZEN_JOB_TOKEN:-none}\"") with { JobToken = Token }, output, CancellationToken.None);

        Assert.True(result.Outcome == JobOutcome.Passed, result.Error + output.Log(0) + output.Log(1));
        Assert.DoesNotContain(Token, output.Log(1));
        Assert.DoesNotContain("***", output.Log(1));
        Assert.Equal("token in the job: none\n", output.Log(2));
    }
}
