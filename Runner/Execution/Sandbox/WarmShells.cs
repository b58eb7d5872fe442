namespace Kaizen.Runner.Execution.Sandbox;

/// <summary>
/// A sandboxed job shell made ahead of time: bubblewrap and bash started, the <c>kaizen</c> library sourced, showing an
/// empty workspace, home, <c>/tmp</c> and control folder of its own and the read-only folders of one project (its git
/// mirror and tools). A job of that project takes it instead of starting one, and gets its variables and its
/// workspace with its first line. Used once, then removed with the job.
/// </summary>
public sealed class WarmShell : IAsyncDisposable
{
    internal WarmShell(string key, string name, JobFolders folders, string workspace, string control, ShellExecutor executor, IShellSession session)
    {
        Key = key;
        Name = name;
        Folders = folders;
        Workspace = workspace;
        Control = control;
        Executor = executor;
        Session = session;
    }

    /// <summary>What the shell shows besides the job's own folders (see <see cref="WarmShells.KeyOf"/>).</summary>
    public string Key { get; }

    /// <summary>The name of its folders: workspace, control folder, home and /tmp.</summary>
    public string Name { get; }

    public JobFolders Folders { get; }

    public string Workspace { get; }

    public string Control { get; }

    /// <summary>Starts more shells (debug and attach terminals) showing what this one shows.</summary>
    public ShellExecutor Executor { get; }

    public IShellSession Session { get; }

    /// <summary>Ends the shell and removes its folders; for a shell no job took.</summary>
    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync().ConfigureAwait(false);
        foreach (var folder in (string[])[Workspace, Control, Folders.Root])
        {
            try
            {
                Checkout.GitCheckout.DeleteWorkspace(folder);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort: the next runner start removes leftovers.
            }
        }
    }
}

/// <summary>
/// Sandboxed job shells made ahead of time for idle slots, like warm containers: starting bubblewrap and bash and
/// sourcing the library is most of the time from claim to first command, and none of it depends on the job, only on
/// what its sandbox shows (the project's git mirror and tools folder, fixed when the sandbox starts). Each job that
/// could use one asks for its project's, and a new one is started for the project's next job at once; at most
/// <c>capacity</c> wait, the oldest of another project giving way.
/// </summary>
public sealed class WarmShells : IAsyncDisposable
{
    // Names bash treats specially when it starts (reads, ignores or changes them from the environment): a job that sets
    // one gets a shell started with it, as before, since an `export` after the start would not act the same.
    private static readonly HashSet<string> StartupNames = new(StringComparer.Ordinal)
    {
        "IFS", "PS1", "PS2", "PS3", "PS4", "SHELLOPTS", "ENV", "POSIXLY_CORRECT", "CDPATH", "GLOBIGNORE", "SHLVL",
        "PROMPT_COMMAND", "TMOUT", "EUID", "UID", "PPID", "GROUPS", "PWD", "OLDPWD", "OPTIND", "OPTERR", "HISTFILE",
    };

    private readonly int _capacity;
    private readonly object _lock = new();
    private readonly List<(string Key, Task<WarmShell?> Shell)> _waiting = []; // oldest first
    private bool _disposed;

    public WarmShells(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    /// <summary>How many shells are waiting or starting.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>How many jobs took a warm shell (for the runner's logs and the benchmark).</summary>
    public long Hits => Interlocked.Read(ref _hits);

    private long _hits;

    /// <summary>The key of a sandbox showing <paramref name="mirror"/> (empty: none) and <paramref name="tools"/>.</summary>
    public static string KeyOf(string mirror, string tools) => mirror + "\n" + tools;

    /// <summary>Whether a job with these variables can be given them by <c>export</c> in a shell already started.</summary>
    public static bool CanExport(IEnumerable<string> names) => names.All(name =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
        && !name.StartsWith("BASH", StringComparison.Ordinal) && !StartupNames.Contains(name));

    /// <summary>The shell line that gives an already started shell the job's variables.</summary>
    public static string ExportLine(IReadOnlyDictionary<string, string> environment) =>
        environment.Count == 0 ? "" : "export " + string.Join(' ', environment.Select(v => v.Key + "=" + JobExecutor.ShellQuote(v.Value))) + "\n";

    /// <summary>
    /// A waiting shell for <paramref name="key"/> that is still alive (null: none), and a new one started for the key's
    /// next job with <paramref name="start"/>.
    /// </summary>
    public async Task<WarmShell?> TakeAsync(string key, Func<Task<WarmShell?>> start)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(start);
        Task<WarmShell?>? taken = null;
        lock (_lock)
        {
            if (_disposed || _capacity == 0)
            {
                return null;
            }

            var index = _waiting.FindLastIndex(w => w.Key == key);
            if (index >= 0)
            {
                taken = _waiting[index].Shell;
                _waiting.RemoveAt(index);
            }

            AddLocked(key, start);
        }

        var shell = taken is null ? null : await taken.ConfigureAwait(false);
        if (shell is { Session.IsAlive: false })
        {
            await shell.DisposeAsync().ConfigureAwait(false);
            return null;
        }

        if (shell is not null)
        {
            Interlocked.Increment(ref _hits);
        }

        return shell;
    }

    /// <summary>Starts a shell for <paramref name="key"/>'s next job unless one waits for it already.</summary>
    public void Prepare(string key, Func<Task<WarmShell?>> start)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(start);
        lock (_lock)
        {
            if (!_disposed && !_waiting.Exists(w => w.Key == key))
            {
                AddLocked(key, start);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Task<WarmShell?>> waiting;
        lock (_lock)
        {
            _disposed = true;
            waiting = [.. _waiting.Select(w => w.Shell)];
            _waiting.Clear();
        }

        foreach (var shell in waiting)
        {
            await DisposeWhenStartedAsync(shell).ConfigureAwait(false);
        }
    }

    /// <summary>Starts a shell for <paramref name="key"/>, making room by ending the oldest waiting for another key.</summary>
    private void AddLocked(string key, Func<Task<WarmShell?>> start)
    {
        if (_waiting.Count >= _capacity && _waiting.FindIndex(w => w.Key != key) is var other and >= 0)
        {
            _ = DisposeWhenStartedAsync(_waiting[other].Shell);
            _waiting.RemoveAt(other);
        }

        if (_waiting.Count < _capacity)
        {
            _waiting.Add((key, Task.Run(start)));
        }
    }

    private static async Task DisposeWhenStartedAsync(Task<WarmShell?> starting)
    {
        try
        {
            if (await starting.ConfigureAwait(false) is { } shell)
            {
                await shell.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // A shell that failed to start has nothing to end.
        }
    }
}
