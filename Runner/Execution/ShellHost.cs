using System.Diagnostics;

namespace Kaizen.Runner.Execution;

/// <summary>
/// Where a <see cref="BashSession"/>'s bash runs: its stdin and stdout, and how to stop it. A process on the host
/// (<see cref="LocalShellHost"/>) or a <c>docker exec</c> in a job's container (<see cref="Docker.ContainerShellHost"/>);
/// the session's protocol (markers, timing, masking downstream) is the same over both.
/// </summary>
internal abstract class ShellHost : IDisposable
{
    public abstract Stream Stdin { get; }

    /// <summary>Stdout (with stderr merged into it by the session's first line).</summary>
    public abstract Stream Stdout { get; }

    public abstract bool HasExited { get; }

    /// <summary>The shell's exit status once <see cref="HasExited"/>.</summary>
    public abstract int ExitCode { get; }

    public abstract Task WaitForExitAsync(CancellationToken cancellationToken);

    /// <summary>Kills the shell and everything it started.</summary>
    public abstract Task KillAsync();

    /// <summary>After the shell exited by itself: stops what it left running in the background.</summary>
    public abstract Task KillRemnantsAsync();

    public abstract void Dispose();
}

/// <summary>Bash as a process of the runner, leader of its own process group.</summary>
internal sealed class LocalShellHost(Process process) : ShellHost
{
    public Process Process => process;

    public override Stream Stdin => process.StandardInput.BaseStream;

    public override Stream Stdout => process.StandardOutput.BaseStream;

    public override bool HasExited => process.HasExited;

    public override int ExitCode => process.ExitCode;

    public override Task WaitForExitAsync(CancellationToken cancellationToken) => process.WaitForExitAsync(cancellationToken);

    public override Task KillAsync() => ProcessTree.KillGroupAsync(process);

    public override Task KillRemnantsAsync() => ProcessTree.KillRemnantsAsync(process.Id);

    public override void Dispose() => process.Dispose();
}
