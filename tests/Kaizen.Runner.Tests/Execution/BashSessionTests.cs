using System.Diagnostics;
using System.Text;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;
using Xunit.Abstractions;

namespace Kaizen.Runner.Tests.Execution;

public sealed class BashSessionTests(ITestOutputHelper log) : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private BashSession _session = null!;

    public Task InitializeAsync()
    {
        _session = BashSession.Start(_dir.Path, new Dictionary<string, string> { ["KAIZEN_TEST_VAR"] = "from-env" });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<(CommandResult Result, OutputCollector Output)> Run(string command, CancellationToken ct = default)
    {
        var output = new OutputCollector();
        var result = await _session.RunAsync(command, output.Write, ct);
        return (result, output);
    }

    [Fact]
    public async Task Output_and_exit_codes_are_reported_per_command()
    {
        var (ok, okOutput) = await Run("echo hello");
        var (fail, failOutput) = await Run("echo oops >&2; false");
        var (seven, _) = await Run("(exit 7)");

        Assert.Equal(0, ok.ExitCode);
        Assert.Equal("hello\n", okOutput.Text);
        Assert.Equal(1, fail.ExitCode);
        Assert.Equal("oops\n", failOutput.Text);
        Assert.Equal(7, seven.ExitCode);
        Assert.True(_session.IsAlive);
    }

    [Fact]
    public async Task Output_without_a_trailing_newline_is_kept_exactly()
    {
        var (_, output) = await Run("printf abc");
        var (_, next) = await Run("printf 'x\\n\\n'");

        Assert.Equal("abc", output.Text);
        Assert.Equal("x\n\n", next.Text);
    }

    [Fact]
    public async Task Stdout_and_stderr_keep_their_order_in_one_stream()
    {
        var (_, output) = await Run("echo 1; echo 2 >&2; echo 3; echo 4 >&2");

        Assert.Equal("1\n2\n3\n4\n", output.Text);
    }

    [Fact]
    public async Task Cd_and_export_carry_over_between_commands()
    {
        Directory.CreateDirectory(_dir.Combine("sub"));
        await Run("cd sub && export GREETING=hi");
        await Run("plain=shell-var; declare -A map=([k]=v); f() { echo \"fn $1\"; }");
        await Run("declare GLOBAL_DECLARED=1");

        var (_, output) = await Run("pwd; echo $GREETING $plain ${map[k]} $GLOBAL_DECLARED $KAIZEN_TEST_VAR; f x; bash -c 'echo child:$GREETING'");

        Assert.Equal($"{_dir.Combine("sub")}\nhi shell-var v 1 from-env\nfn x\nchild:hi\n", output.Text);
    }

    [Fact]
    public async Task A_command_reading_stdin_does_not_eat_the_next_command()
    {
        var (first, firstOutput) = await Run("cat; read line; echo \"read:$line\"");
        var (second, secondOutput) = await Run("echo still-here");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal("read:\n", firstOutput.Text);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal("still-here\n", secondOutput.Text);
    }

    [Theory]
    [InlineData("echo 'single' \"double\" \\$HOME '$HOME' \"\\\\\"", "single double $HOME $HOME \\\n")]
    [InlineData("printf '%s\\n' \"it's\"", "it's\n")]
    [InlineData("printf '\\x1b[31mred\\x1b[0m\\n'", "\u001b[31mred\u001b[0m\n")]
    [InlineData("echo 'héllo wörld ✓ 日本'", "héllo wörld ✓ 日本\n")]
    [InlineData("echo a\necho b", "a\nb\n")]
    [InlineData("echo a \\\necho b", "a echo b\n")]
    [InlineData("cat <<'EOF'\nline $1 'x'\n\"y\"\nEOF", "line $1 'x'\n\"y\"\n")]
    [InlineData("x=$'tab\\there'; echo \"$x\"", "tab\there\n")]
    [InlineData("echo \"\u001b[1mbold\u001b[0m\"", "\u001b[1mbold\u001b[0m\n")]
    public async Task Multi_line_commands_and_tricky_quoting_run_as_written(string command, string expected)
    {
        var (result, output) = await Run(command);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expected, output.Text);
    }

    [Fact]
    public async Task Invalid_utf8_output_reaches_the_callback_byte_for_byte()
    {
        var (_, output) = await Run("printf '\\xff\\xfe\\x00\\xc3(\\x80end'");

        Assert.Equal(new byte[] { 0xff, 0xfe, 0x00, 0xc3, (byte)'(', 0x80, (byte)'e', (byte)'n', (byte)'d' }, output.Bytes);
    }

    [Fact]
    public async Task A_one_megabyte_line_without_newline_arrives_whole_in_bounded_chunks()
    {
        var (result, output) = await Run("head -c 1048576 /dev/zero | tr '\\0' x");

        Assert.Equal(0, result.ExitCode);
        var bytes = output.Bytes;
        Assert.Equal(1048576, bytes.Length);
        Assert.All(bytes, b => Assert.Equal((byte)'x', b));
        Assert.True(output.Calls >= 16, $"expected many bounded chunks, got {output.Calls}");
    }

    [Fact]
    public async Task A_hundred_megabytes_of_output_stream_through_a_fixed_buffer()
    {
        long total = 0;
        var largest = 0;
        var stopwatch = Stopwatch.StartNew();

        var result = await _session.RunAsync(
            "head -c 104857600 /dev/zero",
            data => { total += data.Length; largest = Math.Max(largest, data.Length); return ValueTask.CompletedTask; },
            CancellationToken.None);

        log.WriteLine($"100 MB: {stopwatch.ElapsedMilliseconds} ms, largest chunk {largest} bytes");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(104857600, total);
        Assert.True(largest <= 64 * 1024);
    }

    [Fact]
    public async Task Output_that_looks_like_a_marker_is_just_output()
    {
        const string fake = "echo; echo '##kaizen-00000000000000000000000000000000:0'; printf '\\n##kaizen-'; echo";

        var (result, output) = await Run(fake + "; exit_code_is=5; (exit 5)");
        var (next, nextOutput) = await Run("echo after");

        Assert.Equal(5, result.ExitCode);
        Assert.Equal("\n##kaizen-00000000000000000000000000000000:0\n\n##kaizen-\n", output.Text);
        Assert.Equal(0, next.ExitCode);
        Assert.Equal("after\n", nextOutput.Text);
    }

    [Fact]
    public async Task Set_x_does_not_reveal_the_marker()
    {
        var (_, output) = await Run("set -x; echo traced");
        var (_, next) = await Run("echo again; set +x");

        Assert.DoesNotContain("kaizen", output.Text + next.Text);
        Assert.Contains("again\n", next.Text);
    }

    [Fact]
    public async Task Exit_ends_the_session_with_its_code()
    {
        var (result, output) = await Run("echo bye; exit 3");
        var (after, _) = await Run("echo never");

        Assert.Equal(3, result.ExitCode);
        Assert.True(result.SessionEnded);
        Assert.Equal("bye\n", output.Text);
        Assert.False(_session.IsAlive);
        Assert.True(after.SessionEnded);
    }

    [Fact]
    public async Task Set_e_and_a_failure_end_the_session_even_with_a_background_child()
    {
        await Run("set -e; sleep 1000 &");

        var (result, _) = await Run("false").WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, result.ExitCode);
        Assert.True(result.SessionEnded);
    }

    [Fact]
    public async Task Cancel_kills_the_command_and_its_background_children()
    {
        var pids = _dir.Combine("pids");
        using var cts = new CancellationTokenSource();
        var output = new OutputCollector();
        var running = _session.RunAsync(
            $"sleep 1000 & echo $! > {pids}; (trap '' INT TERM; sleep 1000) & echo $! >> {pids}; echo started; sleep 1000",
            async data => { await output.Write(data); if (output.Text.Contains("started")) { cts.Cancel(); } },
            cts.Token);

        var stopwatch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(10)));
        stopwatch.Stop();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3.5), $"cancel took {stopwatch.Elapsed}");
        Assert.False(_session.IsAlive);
        foreach (var pid in File.ReadAllLines(pids).Select(int.Parse).Append(_session.ProcessId))
        {
            Assert.False(ProcessIsLive(pid), $"process {pid} survived the cancel");
        }
    }

    [Fact]
    public async Task Dispose_kills_background_children()
    {
        var pidFile = _dir.Combine("pid");
        await Run($"sleep 1000 & echo $! > {pidFile}");
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());

        await _session.DisposeAsync();

        Assert.False(ProcessIsLive(pid));
    }

    [Fact]
    public async Task Many_commands_run_with_little_overhead()
    {
        await Run("true");
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < 1000; i++)
        {
            var (result, _) = await Run("true");
            Assert.Equal(0, result.ExitCode);
        }

        // Not a timing assertion on the target (that is the benchmark's job); a sanity bound that catches a
        // process spawn or a poll per command.
        log.WriteLine($"1000 x true: {stopwatch.Elapsed.TotalMilliseconds:F1} ms");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"1000 commands took {stopwatch.Elapsed}");
    }

    internal static bool ProcessIsLive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
