using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

/// <summary>Shared scripts run by the real runner in real bash: one section, one timed step per top-level command.</summary>
public sealed class ScriptExecutionTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    private JobExecutor Executor() => new(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path));

    /// <summary>A job: command 0 (setup), the script's section as command 1 with its steps as 2.., then <paramref name="after"/>.</summary>
    private static JobAssignment Job(string body, string arguments = "", string after = "echo after", IReadOnlyList<JobSecret>? secrets = null)
    {
        var spans = BashSplitter.Split(body);
        var steps = spans.Select((s, k) => new ScriptStep(2 + k, s.Start)).ToList();
        var script = new ScriptCall("deploy-s3", 3, arguments, body, steps);
        return new JobAssignment(
            JobId: 9, BuildId: 4, ProjectSlug: "web", JobName: "test", GitUrl: "", Branch: "main", CommitSha: "",
            Commands:
            [
                new JobCommand(0, CommandPhase.Setup, "export FROM_JOB='job value'; X=outer"),
                new JobCommand(1, CommandPhase.Main, $"run-script deploy-s3@3 {arguments}".Trim(), script),
                new JobCommand(2 + steps.Count, CommandPhase.Main, after),
            ],
            Environment: new Dictionary<string, string>(), LeaseSeconds: 60, Secrets: secrets);
    }

    [Fact]
    public async Task Each_top_level_command_of_a_script_is_timed_with_its_own_output()
    {
        // Arrange
        var output = new MemoryJobOutput();
        var job = Job("#!/bin/bash\necho one\nsleep 0.3\nfor i in 1 2; do\n  echo \"loop $i\" >&2\ndone\nprintf 'no newline'\n");

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Passed, result.Outcome);
        Assert.Equal(["0:Finished:0", "1:Finished:0", "2:Finished:0", "3:Finished:0", "4:Finished:0", "5:Finished:0", "6:Finished:0"], output.Summary());
        Assert.Equal("one\n", output.Log(2));
        Assert.Equal("", output.Log(3));
        Assert.Equal("loop 1\nloop 2\n", output.Log(4));
        Assert.Equal("no newline", output.Log(5));
        Assert.Equal("", output.Log(1));
        var sleep = output.Events.Single(e => e.Index == 3 && e.Kind == CommandEventKind.Finished);
        Assert.InRange(sleep.DurationMs!.Value, 250, 5000);
        var section = output.Events.Single(e => e.Index == 1 && e.Kind == CommandEventKind.Finished);
        Assert.True(section.DurationMs >= sleep.DurationMs);
        // Steps start after their section starts and finish before it finishes.
        var order = output.Events.Select(e => (e.Index, e.Kind)).ToList();
        Assert.True(order.IndexOf((1, CommandEventKind.Started)) < order.IndexOf((2, CommandEventKind.Started)));
        Assert.True(order.IndexOf((5, CommandEventKind.Finished)) < order.IndexOf((1, CommandEventKind.Finished)));
    }

    [Fact]
    public async Task A_steps_time_is_bashs_own_even_when_the_runner_reads_its_output_late()
    {
        // Arrange: the reader stalls on the sleep's start until the sleep is long over (as on a loaded machine), so
        // the runner sees its start and end markers almost together.
        var output = new MemoryJobOutput
        {
            OnEvent = e =>
            {
                if (e is { Index: 3, Kind: CommandEventKind.Started }) Thread.Sleep(900);
            },
        };
        var job = Job("echo one\nsleep 0.3\necho two\n");

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert: the sleep is timed as bash ran it, not as the runner read it.
        Assert.Equal(JobOutcome.Passed, result.Outcome);
        var sleep = output.Events.Single(e => e.Index == 3 && e.Kind == CommandEventKind.Finished);
        Assert.InRange(sleep.DurationMs!.Value, 280, 890);
    }

    [Fact]
    public async Task Exit_midway_ends_the_section_with_its_code_skips_later_steps_and_fails_the_job()
    {
        // Arrange
        var output = new MemoryJobOutput();
        var job = Job("echo before\nexit 3\necho never\n");

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal(["0:Finished:0", "1:Finished:3", "2:Finished:0", "3:Finished:3", "4:Skipped", "5:Skipped"], output.Summary());
        Assert.Equal("before\n", output.Log(2));
        Assert.Equal("", output.Log(4));
    }

    [Fact]
    public async Task Arguments_are_bash_words_expanded_by_the_jobs_shell()
    {
        // Arrange
        var output = new MemoryJobOutput();
        var job = Job("echo \"$# args\"\nfor a in \"$@\"; do echo \"[$a]\"; done\necho \"0=$(basename \"$0\")\"",
            "\"two words\" 'it''s' \"$FROM_JOB\" '$NOT_EXPANDED' plain");

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Passed, result.Outcome);
        Assert.Equal("5 args\n", output.Log(2));
        Assert.Equal("[two words]\n[its]\n[job value]\n[$NOT_EXPANDED]\n[plain]\n", output.Log(3));
        Assert.Equal("0=deploy-s3.sh\n", output.Log(4));
    }

    [Fact]
    public async Task A_script_keeps_bash_script_semantics_and_leaks_nothing_into_the_jobs_shell()
    {
        // Arrange: set -e, $? carried from one step to the next, a failure set -e ignores, locals and cd.
        var output = new MemoryJobOutput();
        var job = Job("set -euo pipefail\nX=inner\ncd /\nfalse && true\necho \"status=$? line=$LINENO\"\nf() { local y=1; echo \"f $y\"; }\nf\n",
            after: "echo \"[$X] $PWD\" | sed \"s|$KAIZEN_WORKSPACE|ws|\"; set -o | grep -c 'errexit *on' || true");

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Passed, result.Outcome);
        Assert.Equal("status=1 line=5\n", output.Log(6));
        Assert.Equal("f 1\n", output.Log(8));
        Assert.Equal("[outer] ws\n0\n", output.Log(9));
    }

    [Fact]
    public async Task Set_e_stops_the_script_at_the_failing_step()
    {
        // Arrange
        var output = new MemoryJobOutput();
        var job = Job("set -e\necho a\ngrep -q nothing /dev/null\necho never\n");

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal(["0:Finished:0", "1:Finished:1", "2:Finished:0", "3:Finished:0", "4:Finished:1", "5:Skipped", "6:Skipped"], output.Summary());
    }

    [Fact]
    public async Task A_syntax_error_shows_bashs_own_message_and_fails_the_section()
    {
        // Arrange
        var output = new MemoryJobOutput();
        var job = Job("echo fine\nif then\necho never\n");

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Failed, result.Outcome);
        // "if then" opens an if that never closes: the rest of the script is its one step.
        Assert.Equal(["0:Finished:0", "1:Finished:2", "2:Skipped", "3:Skipped", "4:Skipped"], output.Summary());
        Assert.Contains("deploy-s3.sh: line 2: syntax error", output.Log(1));
        Assert.Equal("", output.Log(2));
    }

    [Fact]
    public async Task Secrets_printed_by_a_script_are_masked()
    {
        // Arrange
        var output = new MemoryJobOutput();
        var job = Job("echo \"token: $API_TOKEN\"\nprintf '%s' \"$API_TOKEN\" | rev | rev\n", secrets: [new JobSecret("API_TOKEN", "s3cr3t-value-42")]);

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Passed, result.Outcome);
        Assert.Equal("token: ***\n", output.Log(2));
        Assert.Equal("***", output.Log(3));
    }

    [Fact]
    public async Task Output_that_looks_like_a_marker_without_the_nonce_is_kept()
    {
        // Arrange
        var output = new MemoryJobOutput();
        var job = Job("printf 'a\\n##kaizen-script-0000:b1.b\\n'\nexec >/dev/null\necho hidden\necho shown >&2\n");

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert: the script's own stdout redirect does not lose the markers.
        Assert.Equal(JobOutcome.Passed, result.Outcome);
        Assert.Equal("a\n##kaizen-script-0000:b1.b\n", output.Log(2));
        Assert.Equal("", output.Log(4));
        Assert.Equal("shown\n", output.Log(5));
        Assert.Equal(["0:Finished:0", "1:Finished:0", "2:Finished:0", "3:Finished:0", "4:Finished:0", "5:Finished:0", "6:Finished:0"], output.Summary());
    }

    [Fact]
    public async Task The_jobs_shell_keeps_no_trace_of_a_script_run_and_a_comment_after_the_arguments_stays_a_comment()
    {
        // Arrange: the script's temporary folder goes under a TMPDIR of this test's own.
        var temp = Directory.CreateDirectory(Path.Combine(_work.Path, "tmp")).FullName;
        var output = new MemoryJobOutput();
        var job = Job("echo \"[$*]\"\nexit 4\n", "one two # not an argument",
            after: "set | grep -c '^__kaizen' || true; ls -A \"$TMPDIR\" | wc -l");
        job = job with
        {
            Environment = new Dictionary<string, string> { ["TMPDIR"] = temp },
            Commands = [job.Commands[0], job.Commands[1], job.Commands[2] with { Phase = CommandPhase.Epilogue }],
        };

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal("[one two]\n", output.Log(2));
        Assert.Equal(["0:Finished:0", "1:Finished:4", "2:Finished:0", "3:Finished:4", "4:Finished:0"], output.Summary());
        Assert.Equal("0\n0\n", output.Log(4));
    }

    [Fact]
    public async Task Cancel_during_a_step_ends_the_step_and_its_section_and_skips_the_rest()
    {
        // Arrange
        using var cts = new CancellationTokenSource();
        var output = new MemoryJobOutput { OnWrite = o => { if (o.Log(3).Contains("waiting")) { cts.Cancel(); } } };
        var job = Job("echo first\necho waiting; sleep 30\necho never\n");

        // Act
        var result = await Executor().RunAsync(job, output, cts.Token).WaitAsync(TimeSpan.FromSeconds(20));

        // Assert
        Assert.Equal(JobOutcome.Canceled, result.Outcome);
        Assert.Equal(["0:Finished:0", "1:Finished:130", "2:Finished:0", "3:Finished:130", "4:Skipped", "5:Skipped"], output.Summary());
    }

    [Fact]
    public async Task A_skipped_script_skips_its_steps_too()
    {
        // Arrange
        var output = new MemoryJobOutput();
        var job = Job("echo a\necho b\n");
        job = job with { Commands = [job.Commands[0] with { Text = "false" }, .. job.Commands.Skip(1)] };

        // Act
        var result = await Executor().RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal(["0:Finished:1", "1:Skipped", "2:Skipped", "3:Skipped", "4:Skipped"], output.Summary());
    }
}
