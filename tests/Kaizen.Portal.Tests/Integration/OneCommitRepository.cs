using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>A test class with a real git repository of one commit on main, and build settings of one job.</summary>
public abstract class OneCommitRepository : IAsyncLifetime
{
    protected GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
    }

    public Task DisposeAsync()
    {
        _repo.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Build settings with one job named "test" running <paramref name="commands"/>.</summary>
    protected static object OneJob(params string[] commands) => PortalHost.OneJob(commands);
}
