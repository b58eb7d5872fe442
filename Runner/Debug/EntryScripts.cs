using System.Collections;
using System.Text;
using System.Text.RegularExpressions;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Execution.Sandbox;

namespace Kaizen.Runner.Debug;

/// <summary>
/// The scripts of <see cref="ITerminalHost.EntryScriptAsync"/>: another shell in a session's environment, for a login
/// that did not come through the runner (SSH). Values travel in the script's own environment, never on a command line.
/// </summary>
public static partial class EntryScripts
{
    /// <summary>A shell on the host with the job's variables over a clean base (as <see cref="HostTerminal"/> gets them);
    /// in the job's sandbox when <paramref name="sandbox"/> wraps the command line.</summary>
    public static string Host(
        string workspace, IReadOnlyDictionary<string, string> environment, string rcFile, string tag,
        Func<IReadOnlyList<string>, IReadOnlyList<string>>? sandbox = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var variables = sandbox is null ? JobSandbox.HostEnvironment() : JobSandbox.BaseEnvironment();

        // The login's own terminal stays as sshd set it.
        variables.Remove("TERM");
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }

        variables[ITerminalHost.TagVariable] = tag;
        var q = JobExecutor.ShellQuote;
        var script = Header(tag);
        Export(script, variables);
        if (sandbox is null)
        {
            script.Append("cd -- ").Append(q(workspace)).Append(" || exit 1\n");
            script.Append("exec bash --rcfile ").Append(q(rcFile)).Append(" -i\n");
        }
        else
        {
            script.Append("exec ").Append(string.Join(' ', sandbox(["bash", "--rcfile", rcFile, "-i"]).Select(q))).Append('\n');
        }

        return script.ToString();
    }

    /// <summary>A <c>docker exec -it</c> into <paramref name="containerId"/> with <paramref name="environment"/>
    /// (<c>NAME=value</c>, as the container's other execs get it) through the docker CLI, which may be missing.</summary>
    public static string Container(
        string containerId, string workspace, IEnumerable<string> environment, string containerBash, string rcFile, string tag, Uri? dockerHost)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in environment)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                variables[pair[..equals]] = pair[(equals + 1)..];
            }
        }

        variables["TERM"] = "xterm-256color";
        variables["COLORTERM"] = "truecolor";
        variables[ITerminalHost.TagVariable] = tag;
        var q = JobExecutor.ShellQuote;
        var script = Header(tag);
        script.Append("if ! command -v docker >/dev/null 2>&1; then\n")
            .Append("  echo 'kaizen: this debug session runs in a container, and the runner has no docker CLI to enter it (apt-get install docker.io).' >&2\n")
            .Append("  exit 1\nfi\n");
        if (dockerHost is not null)
        {
            script.Append("export DOCKER_HOST=").Append(q(dockerHost.ToString())).Append('\n');
        }

        Export(script, variables);

        // `-e NAME` without a value takes it from this script's environment.
        script.Append("exec docker exec -it -w ").Append(q(workspace));
        foreach (var name in variables.Keys.Where(IsName))
        {
            script.Append(" -e ").Append(name);
        }

        script.Append(' ').Append(q(containerId)).Append(' ').Append(q(containerBash)).Append(" --rcfile ").Append(q(rcFile)).Append(" -i\n");
        return script.ToString();
    }

    private static StringBuilder Header(string tag) =>
        new StringBuilder("#!/bin/bash\n# kaizen: a shell of debug terminal ").Append(tag).Append(" for an SSH login\n");

    private static void Export(StringBuilder script, IReadOnlyDictionary<string, string> variables)
    {
        foreach (var (name, value) in variables)
        {
            if (IsName(name))
            {
                script.Append("export ").Append(name).Append('=').Append(JobExecutor.ShellQuote(value)).Append('\n');
            }
        }
    }

    private static bool IsName(string name) => Name().IsMatch(name);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Name();
}
