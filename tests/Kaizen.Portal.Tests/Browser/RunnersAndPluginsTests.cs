using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>The Runners and Plugins pages of a portal that runs with its embedded runner and the repository's plugins.json.</summary>
[Collection(BrowserCollection.Name)]
public sealed class RunnersAndPluginsTests : IAsyncLifetime
{
    private static readonly string[] PluginIds = ["python", "node", "gradle", "serverless", "auth0"];

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 2);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Add the service", ("app.py", "print('hello')\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task The_embedded_runner_is_busy_while_a_job_runs_and_idle_afterwards()
    {
        // The job waits for a file the test creates, so "busy" lasts exactly as long as the test needs it.
        var released = Path.Combine(_portal.Exchange, "released"); // a folder the portal's runner shares with its jobs
        var slug = await _portal.CreateProjectAsync("Gated App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "wait", commands = new[] { $"while [ ! -e '{released}' ]; do sleep 0.1; done", "echo released" } } },
            epilogue = Array.Empty<string>(),
        });
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync("/runners");
        var runners = page.GetByRole(AriaRole.Table, new() { Name = "Runners" }).Locator("tbody tr");
        await Assertions.Expect(runners).ToHaveCountAsync(1);
        var embedded = runners.First;
        await Assertions.Expect(embedded.GetByText("idle", new() { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(embedded).ToContainTextAsync("0 / 2");

        var buildId = await _portal.StartBuildAsync(slug);
        await Assertions.Expect(embedded.GetByText("busy", new() { Exact = true })).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(embedded).ToContainTextAsync("1 / 2");
        var current = embedded.GetByRole(AriaRole.Link, new() { Name = $"{slug} #{buildId} · wait" });
        await Assertions.Expect(current).ToBeVisibleAsync();

        await File.WriteAllTextAsync(released, "");
        await Assertions.Expect(embedded.GetByText("idle", new() { Exact = true })).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(embedded).ToContainTextAsync("0 / 2");
        await Assertions.Expect(current).ToHaveCountAsync(0);
        Assert.Equal("passed", (await _portal.GetBuildAsync(buildId)).Status);
    }

    [SkippableFact]
    public async Task The_plugins_page_lists_the_five_plugins_of_the_repository_as_loaded()
    {
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync("/plugins");

        // Nobody configured a plugins file: the portal reads the repository's own, which the build copies to its content root.
        var repositoryFile = Path.Combine(AppContext.BaseDirectory, "plugins.json");
        await Assertions.Expect(page.GetByText(repositoryFile, new() { Exact = true })).ToBeVisibleAsync();
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Plugins" }).Locator("tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(PluginIds.Length);
        foreach (var id in PluginIds)
        {
            var row = page.Locator($"tr[data-plugin='{id}']");
            await Assertions.Expect(row.GetByText("loaded", new() { Exact = true })).ToBeVisibleAsync();
            await Assertions.Expect(row).ToContainTextAsync($"({id})");
        }
    }
}
