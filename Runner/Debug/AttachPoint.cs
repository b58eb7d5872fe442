using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Debug;

/// <summary>
/// A job running on this runner whose environment a terminal can join (<see cref="AttachRequest"/>): its workspace, its
/// variables and where its shell runs (the host, or its container). It exists from the moment the job's shell is in
/// the workspace until the job ends; <see cref="JobEnded"/> then fires, and the job's cleanup waits (briefly) for
/// the attached shells to be gone before it removes the container and the workspace.
/// </summary>
/// <param name="jobCanceled">The job's cancellation: a canceled job's shell (or container) is killed before the job ends,
/// and the attached shells must say the job finished, not that they exited.</param>
public sealed class AttachPoint(
    JobAssignment job, string workspace, IReadOnlyDictionary<string, string> environment, ITerminalHost host, CancellationToken jobCanceled)
{
    private static readonly TimeSpan EndWait = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _ended = CancellationTokenSource.CreateLinkedTokenSource(jobCanceled);
    private readonly List<Task> _attached = [];
    private readonly Lock _lock = new();

    public JobAssignment Job => job;

    public string Workspace => workspace;

    public IReadOnlyDictionary<string, string> Environment => environment;

    public ITerminalHost Host => host;

    public CancellationToken JobEnded => _ended.Token;

    /// <summary>The job's own cancellation. An attached shell registers on it when it attaches, after the job's
    /// running command did: callbacks run last-registered first, so the shell hears "the job finished" before that
    /// command's kill takes its container or process (and the shell) away.</summary>
    public CancellationToken JobCanceling => jobCanceled;

    /// <summary>Counts <paramref name="session"/> as attached (the job's end waits for it); false when the job has ended.</summary>
    public bool TryAttach(Task session)
    {
        lock (_lock)
        {
            if (_ended.IsCancellationRequested)
            {
                return false;
            }

            _attached.Add(session);
            return true;
        }
    }

    /// <summary>The job has ended: attached shells end too, and this returns once they are gone (or after a few seconds).</summary>
    public async Task EndAsync()
    {
        Task[] attached;
        lock (_lock)
        {
            _ended.Cancel();
            attached = [.. _attached];
        }

        try
        {
            await Task.WhenAll(attached).WaitAsync(EndWait).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Timed out or failed: the session logs its own failures, and the job's cleanup must go on.
        }
    }
}
