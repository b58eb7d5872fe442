using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// A portal without runners and a repository holding one AWS service of the Serverless Framework: what the deploy
/// suggestion tests (API and browser) start from.
/// </summary>
public abstract class ServerlessService : IAsyncLifetime
{
    protected PortalHost _portal = null!;
    protected GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 0);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("A service", ("serverless.yml", """
            service: orders
            frameworkVersion: '3'
            provider:
              name: aws
              runtime: python3.11
            functions:
              hello:
                handler: handler.hello
            """), ("handler.py", "def hello(event, context):\n    return {}\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    /// <summary>A project of the repository with a single trivial job.</summary>
    protected Task<string> CreateProjectAsync(string name) => _portal.CreateProjectAsync(name, _repo.Path, PortalHost.OneJob("true"));
}
