using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Kaizen.Runner.Execution;

namespace Kaizen.Runner.Debug;

/// <summary>
/// The host's processes that carry <see cref="ITerminalHost.TagVariable"/>: shells the runner did not start itself (an
/// SSH login's), found through <c>/proc/PID/environ</c> and ended with their whole sessions (what they started and
/// stripped the variable from goes too).
/// </summary>
public static class TaggedProcesses
{
    private const int SigHup = 1;
    private const int SigKill = 9;

    /// <summary>The ids of the live processes tagged <paramref name="tag"/>.</summary>
    public static IReadOnlyList<int> Find(string tag)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        var needle = Encoding.UTF8.GetBytes($"{ITerminalHost.TagVariable}={tag}\0");
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            byte[] environ;
            try
            {
                environ = File.ReadAllBytes(Path.Combine(directory, "environ"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            // A match at the start or right after another variable's terminating NUL.
            for (var at = environ.AsSpan().IndexOf(needle); at >= 0;)
            {
                if (at == 0 || environ[at - 1] == 0)
                {
                    found.Add(pid);
                    break;
                }

                var next = environ.AsSpan(at + 1).IndexOf(needle);
                at = next < 0 ? -1 : at + 1 + next;
            }
        }

        return found;
    }

    /// <summary>SIGHUP to the tagged processes and their sessions, like a closed terminal; SIGKILL after a second for what is left.</summary>
    public static async Task KillAsync(string tag)
    {
        var own = getsid(0);
        if (Signal(tag, own, SigHup))
        {
            var deadline = Stopwatch.StartNew();
            while (Find(tag).Count > 0 && deadline.Elapsed < TimeSpan.FromSeconds(1))
            {
                await Task.Delay(20).ConfigureAwait(false);
            }

            Signal(tag, own, SigKill);
        }
    }

    private static bool Signal(string tag, int ownSession, int signal)
    {
        var tagged = Find(tag);
        foreach (var pid in tagged)
        {
            var sid = getsid(pid);
            if (sid > 1 && sid != ownSession)
            {
                foreach (var member in ProcessTree.SessionMembers(sid))
                {
                    _ = kill(member, signal);
                }
            }

            _ = kill(pid, signal);
        }

        return tagged.Count > 0;
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks; these signatures are blittable anyway.
    [DllImport("libc", SetLastError = true)]
    private static extern int getsid(int pid);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
