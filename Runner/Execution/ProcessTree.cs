using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Kaizen.Runner.Execution;

/// <summary>
/// Starts processes as leaders of their own process group and tears whole groups down, so a job's
/// background children (<c>sleep 1000 &amp;</c>) die with it.
/// </summary>
public static partial class ProcessTree
{
    /// <summary>
    /// Prefix for every process the runner starts. A child forked by .NET is not a group leader, so setsid
    /// calls setsid(2) and execs in place: the process id is also its group and session id.
    /// </summary>
    public const string SetsidPath = "/usr/bin/setsid";

    private const int SigInt = 2;
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int Esrch = 3;

    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Fills <paramref name="startInfo"/> so that <paramref name="fileName"/> runs as a new group leader.</summary>
    public static void UseNewProcessGroup(ProcessStartInfo startInfo, string fileName, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        startInfo.FileName = SetsidPath;
        startInfo.ArgumentList.Clear();
        startInfo.ArgumentList.Add(fileName);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
    }

    /// <summary>
    /// SIGINT to the group, then SIGTERM, then SIGKILL, each after about a second of grace while the group lives.
    /// Returns once the leader has exited. Never throws for processes that are already gone.
    /// </summary>
    public static async Task KillGroupAsync(Process leader)
    {
        ArgumentNullException.ThrowIfNull(leader);
        int pgid;
        try
        {
            pgid = leader.Id;
        }
        catch (InvalidOperationException)
        {
            return; // never started
        }

        // SIGINT first, like Ctrl+C in a terminal; wait for the leader only, since bash runs background jobs with
        // SIGINT ignored and waiting for them to obey would just burn the grace period.
        if (Signal(pgid, SigInt))
        {
            await WaitAsync(() => leader.HasExited, Grace).ConfigureAwait(false);
            if (Signal(pgid, SigTerm))
            {
                await WaitAsync(() => leader.HasExited && !HasLiveMembers(pgid), Grace).ConfigureAwait(false);
            }
        }

        // Unconditional: members that ignore SIGINT/SIGTERM (bash runs background jobs with SIGINT ignored)
        // must not outlive the job.
        Signal(pgid, SigKill);
        await leader.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Sends SIGKILL to the group without waiting; for remnants after the leader has already exited.</summary>
    public static void KillGroupNow(int pgid) => Signal(pgid, SigKill);

    /// <summary>SIGKILLs what is left of a group whose leader has exited and waits (briefly) until it is gone.</summary>
    public static async Task KillRemnantsAsync(int pgid)
    {
        if (Signal(pgid, SigKill))
        {
            await WaitAsync(() => !HasLiveMembers(pgid), Grace).ConfigureAwait(false);
        }
    }

    /// <summary>Sends <paramref name="signal"/> to every process in group <paramref name="pgid"/>; false when the group is gone.</summary>
    public static bool Signal(int pgid, int signal)
    {
        if (pgid <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(pgid), pgid, "Refusing to signal this process group.");
        }

        return kill(-pgid, signal) == 0 || Marshal.GetLastPInvokeError() != Esrch;
    }

    /// <summary>Whether any process (zombies included) is still in group <paramref name="pgid"/>.</summary>
    public static bool GroupExists(int pgid) => pgid > 1 && (kill(-pgid, 0) == 0 || Marshal.GetLastPInvokeError() != Esrch);

    /// <summary>
    /// Whether group <paramref name="pgid"/> still has a member that is not a zombie. Zombies count for kill(2) but
    /// cannot do anything; where PID 1 does not reap orphans (some containers) they never go away.
    /// </summary>
    public static bool HasLiveMembers(int pgid) =>
        GroupExists(pgid) && LiveProcesses().Any(p => p.Group == pgid);

    /// <summary>The live (not zombie) processes of session <paramref name="sid"/>: a terminal's shell and everything it
    /// started, whatever process group job control put each in.</summary>
    public static IReadOnlyList<int> SessionMembers(int sid) =>
        sid <= 1 ? [] : [.. LiveProcesses().Where(p => p.Session == sid).Select(p => p.Pid)];

    /// <summary>Every process that is not a zombie, with its process group and session, read from <c>/proc/PID/stat</c>.</summary>
    private static IEnumerable<(int Pid, int Group, int Session)> LiveProcesses()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // exited while we looked
            }

            // "pid (comm) state ppid pgrp session ...": comm may contain spaces and parentheses, so parse after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 1)..].Trim().Split(' ');
            if (fields.Length >= 4 && fields[0] != "Z"
                && int.TryParse(fields[2], out var group) && int.TryParse(fields[3], out var session))
            {
                yield return (pid, group, session);
            }
        }
    }

    private static async Task WaitAsync(Func<bool> done, TimeSpan timeout)
    {
        // Polling only happens while tearing down, never on the per-command path.
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!done() && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(PollInterval).ConfigureAwait(false);
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks; this signature is blittable anyway.
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
