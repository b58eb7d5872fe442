using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

/// <summary><c>kaizen tool use</c>: installed once per runner under a lock, reused from PATH by every later job.</summary>
public sealed class KaizenToolTests : IDisposable
{
    private readonly TempDirectory _work = new();
    private readonly KaizenFunctions _functions;

    public KaizenToolTests()
    {
        _functions = new KaizenFunctions(_work.Path);
    }

    public void Dispose() => _work.Dispose();

    private string Counter => _work.Combine("installs.txt");

    private int Installs => File.Exists(Counter) ? File.ReadAllLines(Counter).Length : 0;

    /// <summary>Installs a `greet` program into $KAIZEN_TOOL_PREFIX/bin and counts itself, slowly enough to overlap.</summary>
    private string UseGreet(string extraInstall = "") =>
        "kaizen tool use greet 1.2.3 -- " + JobExecutor.ShellQuote(
            $"echo \"installing in $PWD\"; sleep 0.3; {extraInstall}" +
            "mkdir -p \"$KAIZEN_TOOL_PREFIX/bin\" && " +
            "printf '#!/bin/sh\\necho hello from greet\\n' > \"$KAIZEN_TOOL_PREFIX/bin/greet\" && chmod +x \"$KAIZEN_TOOL_PREFIX/bin/greet\" && " +
            $"echo installed >> {JobExecutor.ShellQuote(Counter)}");

    private Task<JobShell> StartJobAsync(string name) => JobShell.StartAsync(_functions, _work.Combine(name));

    [Fact]
    public async Task A_tool_is_installed_once_and_a_second_job_reuses_it_from_PATH()
    {
        var prefix = Path.Combine(_functions.ToolsDirectory, "greet", "1.2.3");
        await using (var first = await StartJobAsync("ws1"))
        {
            var (installed, installLog) = await first.RunAsync(UseGreet());
            var (_, greeting) = await first.RunAsync("greet");

            Assert.Equal(0, installed);
            Assert.Matches(@"^tool: installing greet 1\.2\.3 into .*\ninstalling in .*\ntool: installed greet 1\.2\.3 in \d+(\.\d)? m?s\n$", installLog);
            Assert.Contains($"installing in {prefix}\n", installLog);
            Assert.Equal("hello from greet\n", greeting);
        }

        await using var second = await StartJobAsync("ws2");
        var (exitCode, output) = await second.RunAsync(UseGreet());
        var (_, path) = await second.RunAsync("command -v greet && greet");

        Assert.Equal(0, exitCode);
        Assert.Equal("tool: greet 1.2.3 already installed, reusing it\n", output);
        Assert.Equal($"{prefix}/bin/greet\nhello from greet\n", path);
        Assert.Equal(1, Installs);
    }

    [Fact]
    public async Task Two_jobs_installing_the_same_tool_at_once_install_it_once()
    {
        await using var first = await StartJobAsync("ws1");
        await using var second = await StartJobAsync("ws2");

        var results = await Task.WhenAll(first.RunAsync(UseGreet()), second.RunAsync(UseGreet()));
        var greetings = await Task.WhenAll(first.RunAsync("greet"), second.RunAsync("greet"));

        Assert.All(results, r => Assert.Equal(0, r.ExitCode));
        Assert.Single(results, r => r.Output.Contains("tool: installed greet 1.2.3"));
        Assert.Single(results, r => r.Output.EndsWith("tool: greet 1.2.3 already installed, reusing it\n"));
        Assert.All(greetings, g => Assert.Equal((0, "hello from greet\n"), g));
        Assert.Equal(1, Installs);
    }

    [Fact]
    public async Task A_failing_install_fails_the_command_leaves_nothing_behind_and_the_next_attempt_installs_again()
    {
        var prefix = Path.Combine(_functions.ToolsDirectory, "greet", "1.2.3");
        await using var job = await StartJobAsync("ws1");

        var (failed, failLog) = await job.RunAsync(UseGreet(extraInstall: "echo half > \"$KAIZEN_TOOL_PREFIX/partial\"; echo mirror down >&2; exit 7; "));
        var (_, lookup) = await job.RunAsync("command -v greet || echo not on PATH");

        Assert.Equal(7, failed);
        Assert.EndsWith("mirror down\ntool: installing greet 1.2.3 failed with exit code 7; removed the partial install\n", failLog);
        Assert.False(Directory.Exists(prefix));
        Assert.Equal("not on PATH\n", lookup);

        var (retried, retryLog) = await job.RunAsync(UseGreet());
        var (_, greeting) = await job.RunAsync("greet");

        Assert.Equal(0, retried);
        Assert.Contains("tool: installed greet 1.2.3", retryLog);
        Assert.Equal("hello from greet\n", greeting);
        Assert.Equal(1, Installs);
    }

    [Fact]
    public async Task An_install_stops_at_its_first_failing_step()
    {
        await using var job = await StartJobAsync("ws1");

        var (exitCode, output) = await job.RunAsync("kaizen tool use steps 1 -- 'echo one; false; echo never'");

        Assert.Equal(1, exitCode);
        Assert.DoesNotContain("never", output);
    }

    [Fact]
    public async Task Every_path_entry_goes_on_PATH_first_one_first_and_only_once()
    {
        await using var job = await StartJobAsync("ws1");
        const string install = "mkdir -p node_modules/.bin libexec && printf '#!/bin/sh\\necho $0\\n' > node_modules/.bin/which-one && " +
            "cp node_modules/.bin/which-one libexec/ && chmod +x node_modules/.bin/which-one libexec/which-one";
        var use = $"kaizen tool use multi 2.0 --path node_modules/.bin --path libexec -- {JobExecutor.ShellQuote(install)}";

        await job.RunAsync(use);
        var (exitCode, _) = await job.RunAsync(use);
        var (_, output) = await job.RunAsync("which-one; echo \"$PATH\" | tr ':' '\\n' | grep -c multi/2.0");

        var prefix = Path.Combine(_functions.ToolsDirectory, "multi", "2.0");
        Assert.Equal(0, exitCode);
        Assert.Equal($"{prefix}/node_modules/.bin/which-one\n2\n", output);
    }

    [Fact]
    public async Task A_tool_use_without_an_install_command_is_a_usage_error()
    {
        await using var job = await StartJobAsync("ws1");

        var (exitCode, output) = await job.RunAsync("kaizen tool use greet 1.2.3 --");

        Assert.Equal(2, exitCode);
        Assert.Contains("Usage:", output);
    }
}
