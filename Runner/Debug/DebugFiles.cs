using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Debug;

/// <summary>
/// The files a debug shell starts with: the job's commands (<see cref="DebugAssignment.CommandsFile"/> in the
/// workspace, for the user to read, run or source) and the interactive shell's rc file. The rc file is hermetic (no
/// ~/.bashrc): the set-up's shell state when setup ran, the <c>kaizen</c> functions, a prompt and a banner. It lives
/// next to the <c>kaizen</c> library, which every job container mounts at its host path.
/// </summary>
public static partial class DebugFiles
{
    /// <summary>Writes the job's commands in order (the runner's own prepare steps left out) to the workspace, under
    /// <c># setup</c> / <c># main</c> / <c># epilogue</c>; setup commands already run are there commented out. Kept out of
    /// <c>git status</c> through <c>.git/info/exclude</c>.</summary>
    public static string WriteCommands(JobAssignment job, string workspace, bool setupRan)
    {
        ArgumentNullException.ThrowIfNull(job);
        var text = new StringBuilder();
        text.Append("# The commands of job ").Append(job.JobName).Append(" (build ").Append(job.BuildId.ToString(CultureInfo.InvariantCulture))
            .Append("), in the order the job runs them. This debug session has not run them").Append(setupRan ? " (except setup)" : "").Append(".\n")
            .Append("# Run them all with: bash ").Append(DebugAssignment.CommandsFile).Append(" - or source it to keep what they set in this shell.\n");
        foreach (var phase in new[] { CommandPhase.Setup, CommandPhase.Main, CommandPhase.Epilogue })
        {
            var commands = job.Commands.Where(c => c.Phase == phase && !PrepareSteps.Is(c)).OrderBy(c => c.Index).ToList();
            if (commands.Count == 0)
            {
                continue;
            }

            var done = phase == CommandPhase.Setup && setupRan;
            text.Append("\n# ").Append(phase.ToString().ToLowerInvariant())
                .Append(done ? " (already run before this shell opened, so commented out)" : "").Append('\n');
            foreach (var command in commands)
            {
                var body = command.Text.TrimEnd('\n');
                text.Append(done ? Regex.Replace(body, "^", "# ", RegexOptions.Multiline) : body).Append('\n');
            }
        }

        var path = Path.Combine(workspace, DebugAssignment.CommandsFile);
        File.WriteAllText(path, text.ToString());
        var exclude = Path.Combine(workspace, ".git", "info", "exclude");
        if (Directory.Exists(Path.Combine(workspace, ".git")))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(exclude)!);
            File.AppendAllText(exclude, $"\n/{DebugAssignment.CommandsFile}\n");
        }

        return path;
    }

    /// <summary>
    /// The shell state after setup, as bash code: exported variables, functions, aliases and the directory, read from
    /// the job's own shell with this command. Variables that describe the terminal, not the job, are left out.
    /// </summary>
    public const string CaptureStateCommand = "{ declare -px; declare -f; alias -p; printf 'cd -- %q\\n' \"$PWD\"; } 2>/dev/null";

    /// <summary>Drops the lines of <see cref="CaptureStateCommand"/>'s output that must not carry over.</summary>
    public static string FilterState(string state) =>
        string.Join('\n', state.Split('\n').Where(line => !TerminalVariable().IsMatch(line)));

    /// <summary>Writes the rc file of terminal <paramref name="tag"/> and returns its path.</summary>
    /// <param name="banner">Lines printed when the shell starts.</param>
    /// <param name="state">Set-up state from <see cref="CaptureStateCommand"/>, or null.</param>
    /// <param name="readableByAll">For a container whose user is not the runner's; the file holds the set-up's variables.</param>
    /// <param name="directory">Where the shell can read it (a container's control folder); null: the runner's debug folder.</param>
    public static string WriteRc(
        KaizenFunctions functions, string tag, string workspace, IEnumerable<string> banner, string? state, bool readableByAll, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(functions);
        functions.EnsureWritten();
        var q = JobExecutor.ShellQuote;
        var rc = new StringBuilder();
        rc.Append("# kaizen debug shell ").Append(tag).Append(": hermetic, no ~/.bashrc\n");
        rc.Append("unset KAIZEN_PTS HISTFILE\n");
        if (state is not null)
        {
            rc.Append("{\n").Append(FilterState(state)).Append("\n} 2>/dev/null\n");
        }
        else
        {
            rc.Append("cd -- ").Append(q(workspace)).Append('\n');
        }

        rc.Append(functions.SourceCommand).Append('\n');
        rc.Append("export TERM=xterm-256color COLORTERM=truecolor\n");
        rc.Append("__kaizen_ws=").Append(q(workspace)).Append('\n');
        rc.Append("__kaizen_dir() { case $PWD in \"$__kaizen_ws\") printf .;; \"$__kaizen_ws\"/*) printf %s \"${PWD#\"$__kaizen_ws\"/}\";; *) printf %s \"$PWD\";; esac; }\n");
        rc.Append("PS1='\\[\\e[1;35m\\]kaizen-debug\\[\\e[0m\\]:\\[\\e[1;34m\\]$(__kaizen_dir)\\[\\e[0m\\]\\$ '\n");
        foreach (var line in banner)
        {
            rc.Append("printf '%s\\n' ").Append(q(line)).Append('\n');
        }

        var path = directory is null ? RcPath(functions, tag) : Path.Combine(directory, $"debug-{tag}.rc");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, readableByAll
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead
                : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.WriteAllText(path, rc.ToString());
        return path;
    }

    /// <summary>The rc file of terminal <paramref name="tag"/> in the runner's debug folder: not beside the <c>kaizen</c>
    /// library, whose folder jobs may read, since the file holds a session's variables.</summary>
    public static string RcPath(KaizenFunctions functions, string tag) =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(functions.LibraryPath)!)!, "debug", $"debug-{tag}.rc");

    /// <summary>The banner of a debug session of a finished job.</summary>
    public static IReadOnlyList<string> DebugBanner(JobAssignment job, bool setupRan) =>
    [
        $"\x1b[1mkaizen debug session\x1b[0m · job {job.JobName} · build {job.BuildId}",
        $"The job's commands are in ./{DebugAssignment.CommandsFile} (run them with: bash {DebugAssignment.CommandsFile}, or source it).",
        !job.Commands.Any(c => c.Phase == CommandPhase.Setup && !PrepareSteps.Is(c))
            ? "The job has no setup commands."
            : setupRan ? "The setup commands have run in this environment." : "The setup commands have not run (they are in the file too).",
        // Its time counts from when the shell opens, which the portal decides: the session's page shows what is left.
        "Exit or Ctrl-D ends the session; its page in the portal shows the time left and extends it.",
    ];

    /// <summary>The banner of a shell attached to a running job.</summary>
    public static IReadOnlyList<string> AttachBanner(JobAssignment job, long expiresAtUnixMs) =>
    [
        $"\x1b[1mkaizen debug session\x1b[0m · attached to job {job.JobName} · build {job.BuildId}, running now on this runner",
        "This shell shares the job's workspace and variables; the job's own commands go on next to it.",
        $"It ends when the job ends (at {EndsAt(expiresAtUnixMs)} UTC at the latest); exit or Ctrl-D ends it sooner.",
    ];

    private static string EndsAt(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("HH:mm", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^declare -[-a-zA-Z]* (PWD|OLDPWD|SHLVL|_|TERM|COLORTERM|KAIZEN_PTS|KAIZEN_TERMINAL|HISTFILE)(=|$)")]
    private static partial Regex TerminalVariable();
}
