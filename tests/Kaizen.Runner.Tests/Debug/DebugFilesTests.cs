using Kaizen.Runner.Debug;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Debug;

public sealed class DebugFilesTests : IDisposable
{
    private readonly TempDirectory _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static JobAssignment Job() => new(
        JobId: 1, BuildId: 2, ProjectSlug: "acme", JobName: "lint", GitUrl: "", Branch: "main", CommitSha: new string('a', 40),
        Commands:
        [
            new JobCommand(0, CommandPhase.Setup, PrepareSteps.Image("python:3.12")),
            new JobCommand(1, CommandPhase.Setup, "pip install -r requirements.txt\npip install tox"),
            new JobCommand(2, CommandPhase.Main, "run-script lint-all --strict",
                new ScriptCall("lint-all", 3, "--strict", "flake8 .\nmypy .", [new ScriptStep(3, 0), new ScriptStep(4, 9)])),
            new JobCommand(5, CommandPhase.Main, "tox -e py312"),
            new JobCommand(6, CommandPhase.Epilogue, "echo done"),
        ],
        Environment: new Dictionary<string, string>(), LeaseSeconds: 60);

    [Theory]
    [InlineData(true, "# pip install -r requirements.txt\n# pip install tox\n")]
    [InlineData(false, "\npip install -r requirements.txt\npip install tox\n")]
    public void The_commands_file_lists_the_jobs_commands_by_phase_without_the_runners_prepare_steps(bool setupRan, string setup)
    {
        var path = DebugFiles.WriteCommands(Job(), _workspace.Path, setupRan);

        var text = File.ReadAllText(path);
        Assert.Equal(Path.Combine(_workspace.Path, DebugAssignment.CommandsFile), path);
        Assert.Contains(setup, text);
        Assert.DoesNotContain("prepare image", text);
        Assert.Contains("# main\nrun-script lint-all --strict\ntox -e py312\n", text);
        Assert.Contains("# epilogue\necho done\n", text);
        Assert.True(text.IndexOf("# setup", StringComparison.Ordinal) < text.IndexOf("# main", StringComparison.Ordinal));
    }

    [Fact]
    public void The_commands_file_is_kept_out_of_git_status()
    {
        Directory.CreateDirectory(_workspace.Combine(".git", "info"));

        DebugFiles.WriteCommands(Job(), _workspace.Path, setupRan: false);

        Assert.Contains($"/{DebugAssignment.CommandsFile}", File.ReadAllText(_workspace.Combine(".git", "info", "exclude")));
    }

    [Fact]
    public void Terminal_variables_of_the_setup_shell_do_not_carry_over()
    {
        var state = "declare -x PWD=\"/w\"\ndeclare -x TERM=\"dumb\"\ndeclare -x FOO=\"bar\"\ndeclare -rx SHLVL=\"1\"\ndeclare -x PATH=\"/x\"";

        Assert.Equal("declare -x FOO=\"bar\"\ndeclare -x PATH=\"/x\"", DebugFiles.FilterState(state));
    }
}
