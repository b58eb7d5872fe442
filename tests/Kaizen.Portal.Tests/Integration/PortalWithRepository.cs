using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// A test class's own portal (with <c>embeddedSlots</c> runner slots), a real git repository with one commit on main,
/// and a client that sends no credentials: what anonymous visitors and GitHub deliveries look like.
/// </summary>
public abstract class PortalWithRepository(int embeddedSlots) : IAsyncLifetime
{
    protected PortalHost _portal = null!;
    protected GitRepo _repo = null!;

    /// <summary>No token, no cookie.</summary>
    protected HttpClient _anonymous = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
        await ArrangeRepositoryAsync();
        _anonymous = new HttpClient { BaseAddress = _portal.BaseUrl };
    }

    /// <summary>More commits or branches a test class needs, after the first commit.</summary>
    protected virtual Task ArrangeRepositoryAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _anonymous.Dispose();
        await _portal.DisposeAsync();
        _repo.Dispose();
    }
}
