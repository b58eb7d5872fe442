using System.Text;

namespace Kaizen.Runner.Tests.Support;

/// <summary>
/// Waits until a program runs in the foreground of its terminal, seen from the host's /proc (jobs in a sandbox or a
/// container are there too). A Ctrl-C typed before that moment goes to the shell still starting the program, not to
/// the program: a person would press it again; a test that means "Ctrl-C stops what runs" waits for this first.
/// </summary>
public static class ForegroundProcess
{
    /// <summary>Waits for a process whose command line is exactly <paramref name="argv"/> and whose process group holds
    /// its terminal. Give the program arguments no other test uses (<c>sleep 613</c>).</summary>
    public static async Task WaitAsync(string[] argv, int timeoutSeconds = 60)
    {
        var wanted = string.Join('\0', argv) + "\0";
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var folder in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(folder), out _)) continue;
                try
                {
                    if (Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(folder, "cmdline"))) != wanted) continue;
                    // stat: "pid (comm) state ppid pgrp session tty_nr tpgid ..."; comm may hold spaces and parentheses.
                    var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    if (fields[2] == fields[5]) return;
                }
                catch (IOException)
                {
                    // The process ended while we looked.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No '{string.Join(' ', argv)}' ran in the foreground of its terminal within {timeoutSeconds} s.");
    }
}
