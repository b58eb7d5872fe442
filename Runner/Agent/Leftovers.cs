using System.Text;
using Microsoft.Extensions.Logging;

namespace Kaizen.Runner.Agent;

/// <summary>
/// What a previous run of a runner left in its work folder when it did not stop cleanly (killed, the machine lost
/// power): its jobs' processes, which a job's sandbox would otherwise keep until their command ends, and the jobs'
/// workspaces, control folders, homes and temp folders. A runner starting on that folder ends and removes them before
/// it asks for work; git mirrors, caches and tools stay.
/// </summary>
public static class Leftovers
{
    /// <summary>Kills the processes of jobs run from <paramref name="workRoot"/> and removes the jobs' folders. Returns
    /// how many processes and folders it removed.</summary>
    public static (int Processes, int Folders) Reap(string workRoot, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(workRoot);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(workRoot));
        var processes = OperatingSystem.IsLinux() ? KillJobProcesses(root) : 0;
        var folders = 0;
        foreach (var parent in (string[])[Path.Combine(root, "jobs"), Path.Combine(root, "control"), Path.Combine(root, "sandbox", "jobs")])
        {
            if (!Directory.Exists(parent))
            {
                continue;
            }

            foreach (var folder in Directory.EnumerateDirectories(parent))
            {
                try
                {
                    Checkout.GitCheckout.DeleteWorkspace(folder);
                    folders++;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    logger?.LogWarning("Could not remove {Folder}, left by an earlier run of this runner: {Error}", folder, ex.Message);
                }
            }
        }

        if (processes + folders > 0)
        {
            logger?.LogWarning(
                "An earlier run of this runner did not stop cleanly: ended {Processes} of its jobs' processes and removed {Folders} job folders.",
                processes, folders);
        }

        return (processes, folders);
    }

    /// <summary>
    /// Sandboxes (bubblewrap, whose arguments name the job's home under <c>sandbox/jobs</c>; ending it ends its PID
    /// namespace and every process in it) and, for jobs run without one, every process whose environment places it in
    /// one of the runner's workspaces.
    /// </summary>
    private static int KillJobProcesses(string root)
    {
        var sandboxes = Encoding.UTF8.GetBytes(Path.Combine(root, "sandbox", "jobs") + "/");
        var workspaces = Encoding.UTF8.GetBytes("KAIZEN_WORKSPACE=" + Path.Combine(root, "jobs") + "/");
        var self = Environment.ProcessId;
        var killed = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == self)
            {
                continue;
            }

            try
            {
                if (Contains(File.ReadAllBytes(Path.Combine(directory, "cmdline")), sandboxes)
                    || Contains(File.ReadAllBytes(Path.Combine(directory, "environ")), workspaces))
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                    killed++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException
                                           or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone meanwhile, or another user's: not ours.
            }
        }

        return killed;
    }

    /// <summary>Whether a NUL-separated list (a process's arguments or environment) has an entry starting with
    /// <paramref name="prefix"/>, or an argument containing it.</summary>
    private static bool Contains(byte[] list, byte[] prefix) => list.AsSpan().IndexOf(prefix) is var at && at >= 0
        && (at == 0 || list[at - 1] == 0 || prefix[0] == (byte)'/');
}
