using System.Diagnostics;
using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

public sealed class JobExecutorTests : IDisposable
{
    private static readonly DateTimeOffset Noon = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _work = new();
    private readonly ManualTimeProvider _time = new(Noon);

    public void Dispose() => _work.Dispose();

    private JobExecutor Executor() => new(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path), _time);

    private static JobAssignment Job(string gitUrl, string sha, params (CommandPhase Phase, string Text)[] commands) => new(
        JobId: 42,
        BuildId: 7,
        ProjectSlug: "acme/web",
        JobName: "test",
        GitUrl: gitUrl,
        Branch: "main",
        CommitSha: sha,
        Commands: [.. commands.Select((c, i) => new JobCommand(i, c.Phase, c.Text))],
        Environment: new Dictionary<string, string> { ["FROM_JOB"] = "yes", ["CI"] = "job-cannot-override" },
        LeaseSeconds: 60);

    [Fact]
    public async Task A_passing_job_checks_out_runs_every_command_in_one_shell_and_cleans_up()
    {
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("hello.txt", "hello from the repo\n"));
        var output = new MemoryJobOutput();
        var job = Job(repo.Path, sha,
            (CommandPhase.Setup, "cat hello.txt; export FROM_SETUP=1"),
            (CommandPhase.Main, "echo $FROM_SETUP $FROM_JOB $CI $KAIZEN $KAIZEN_JOB_ID $KAIZEN_BUILD_ID $KAIZEN_BRANCH $KAIZEN_PROJECT"),
            (CommandPhase.Main, "test \"$KAIZEN_WORKSPACE\" = \"$PWD\" && test \"$KAIZEN_COMMIT_SHA\" = \"$(git rev-parse HEAD)\""),
            (CommandPhase.Epilogue, "echo result=$KAIZEN_JOB_RESULT"));

        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        Assert.Equal(new JobResult(JobOutcome.Passed), result);
        Assert.Equal(["0:Finished:0", "1:Finished:0", "2:Finished:0", "3:Finished:0"], output.Summary());
        Assert.Equal("hello from the repo\n", output.Log(0));
        Assert.Equal("1 yes true true 42 7 main acme/web\n", output.Log(1));
        Assert.Equal("result=passed\n", output.Log(3));
        Assert.Contains(sha, output.Log(null));
        Assert.All(output.Events, e => Assert.Equal(Noon.ToUnixTimeMilliseconds(), e.AtUnixMs));
        Assert.False(Directory.Exists(new GitCheckout(_work.Path).WorkspacePath(42)));
    }

    [Fact]
    public async Task A_failing_command_skips_the_rest_but_the_epilogue_runs()
    {
        var output = new MemoryJobOutput();
        var job = Job("", "",
            (CommandPhase.Setup, "echo setup"),
            (CommandPhase.Main, "echo failing; exit_code=4; (exit $exit_code)"),
            (CommandPhase.Main, "echo never"),
            (CommandPhase.Epilogue, "echo epilogue $KAIZEN_JOB_RESULT"),
            (CommandPhase.Epilogue, "false"),
            (CommandPhase.Epilogue, "echo second epilogue"));

        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal("Command 1 failed with exit code 4.", result.Error);
        Assert.Equal(["0:Finished:0", "1:Finished:4", "2:Skipped", "3:Finished:0", "4:Finished:1", "5:Finished:0"], output.Summary());
        Assert.Equal("", output.Log(2));
        Assert.Equal("epilogue failed\n", output.Log(3));
    }

    [Fact]
    public async Task When_the_shell_exits_the_epilogue_runs_in_a_new_shell()
    {
        var output = new MemoryJobOutput();
        var job = Job("", "",
            (CommandPhase.Main, "set -e; cd /; false"),
            (CommandPhase.Main, "echo never"),
            (CommandPhase.Epilogue, "echo \"epilogue in $(basename $PWD)\""));

        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal(["0:Finished:1", "1:Skipped", "2:Finished:0"], output.Summary());
        Assert.Equal("epilogue in 42\n", output.Log(2));
    }

    [Fact]
    public async Task A_failed_checkout_fails_the_job_and_skips_every_command()
    {
        var output = new MemoryJobOutput();
        var job = Job(_work.Combine("missing-repo"), new string('c', 40), (CommandPhase.Main, "echo hi"), (CommandPhase.Epilogue, "echo bye"));

        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.StartsWith("Could not clone", result.Error);
        Assert.Equal(["0:Skipped", "1:Skipped"], output.Summary());
        Assert.Contains("Checkout failed", output.Log(null));
    }

    [Fact]
    public async Task Cancel_stops_the_running_command_skips_the_rest_and_the_epilogue()
    {
        using var cts = new CancellationTokenSource();
        var output = new MemoryJobOutput { OnWrite = o => { if (o.Log(1).Contains("waiting")) { cts.Cancel(); } } };
        var job = Job("", "",
            (CommandPhase.Setup, "echo setup"),
            (CommandPhase.Main, "echo waiting; sleep 1000"),
            (CommandPhase.Main, "echo never"),
            (CommandPhase.Epilogue, "echo never either"));

        var stopwatch = Stopwatch.StartNew();
        var result = await Executor().RunAsync(job, output, cts.Token).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(JobOutcome.Canceled, result.Outcome);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3.5), $"cancel took {stopwatch.Elapsed}");
        Assert.Equal(["0:Finished:0", "1:Finished:130", "2:Skipped", "3:Skipped"], output.Summary());
    }

    [Fact]
    public async Task Output_goes_to_the_command_that_wrote_it()
    {
        var output = new MemoryJobOutput();
        var job = Job("", "", (CommandPhase.Main, "echo one"), (CommandPhase.Main, "echo two >&2"), (CommandPhase.Epilogue, "printf three"));

        await Executor().RunAsync(job, output, CancellationToken.None);

        Assert.Equal(["one\n", "two\n", "three"], [output.Log(0), output.Log(1), output.Log(2)]);
    }
}
