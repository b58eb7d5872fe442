using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>The build page's pipeline graph in real Chromium, following a real build of blocks run by the embedded runner.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PipelineGraphJourneyTests : IAsyncLifetime
{
    private const float Live = 30_000;
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 3);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("Add the service", ("app.py", "print('hello')\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task The_build_page_draws_the_blocks_and_follows_them_live_on_a_laptop_and_stacks_them_on_a_phone()
    {
        // Arrange: compile waits for a gate the test opens, so the page is seen before and after.
        var gate = Path.Combine(_portal.Exchange, $"gate-{Guid.NewGuid():N}");
        var slug = await _portal.CreateProjectAsync("Graph App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            epilogue = Array.Empty<string>(),
            blocks = new object[]
            {
                new { name = "build", jobs = new[] { new { name = "compile", commands = new[] { $"while [ ! -f {gate} ]; do sleep 0.2; done", "echo compiled" } } } },
                new
                {
                    name = "test", dependencies = new[] { "build" },
                    jobs = new object[]
                    {
                        new { name = "unit", matrix = new[] { new { name = "PY", values = new[] { "3.11", "3.12" } } }, commands = new[] { "echo unit $PY" } },
                        new { name = "lint", commands = new[] { "echo style problems", "exit 1" } },
                    },
                },
                new { name = "deploy", dependencies = new[] { "test" }, jobs = new[] { new { name = "ship", commands = new[] { "echo ship" } } } },
                new { name = "docs", dependencies = new[] { "build" }, jobs = new[] { new { name = "site", commands = new[] { "true" }, when = new { branch = new[] { "release/*" } } } } },
            },
        });
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl, viewport: new() { Width = 1440, Height = 900 });
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}");

        // Act: start the build and watch its graph.
        await page.GetByRole(AriaRole.Button, new() { Name = "Run build of main" }).ClickAsync();
        await page.WaitForAddressAsync("**/builds/*");
        var graph = page.GetByRole(AriaRole.Group, new() { Name = "Pipeline graph" });
        var compile = graph.Locator("a[data-job='compile']");
        var ship = graph.Locator("a[data-job='ship']");

        // Assert: before the gate opens, compile runs and the blocks after it wait, with lines between the blocks.
        await Assertions.Expect(compile.Locator(".kz-status")).ToHaveAttributeAsync("data-status", "running", new() { Timeout = Live });
        await Assertions.Expect(ship).ToContainTextAsync("waiting for test");
        await Assertions.Expect(graph.Locator("a[data-job='site']")).ToContainTextAsync("branch main does not match 'release/*'");
        Assert.Equal(3, await graph.Locator("path.kz-graph-line").CountAsync());
        Assert.Equal(["build", "test", "deploy", "docs"], await graph.Locator("section[data-block]").EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.block)"));
        Assert.Equal(["0", "1", "2", "1"], await graph.Locator("section[data-block]").EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.column)"));
        var buildBox = (await graph.Locator("section[data-block='build']").BoundingBoxAsync())!;
        var testBox = (await graph.Locator("section[data-block='test']").BoundingBoxAsync())!;
        var deployBox = (await graph.Locator("section[data-block='deploy']").BoundingBoxAsync())!;
        Assert.True(buildBox.X < testBox.X && testBox.X < deployBox.X, $"columns at {buildBox.X}, {testBox.X}, {deployBox.X}");
        Assert.True(deployBox.X + deployBox.Width <= 1440, "the graph fits a laptop screen");

        File.WriteAllText(gate, "open");

        // Assert: without a reload, the graph follows the build to its end.
        await Assertions.Expect(compile.Locator(".kz-status")).ToHaveAttributeAsync("data-status", "passed", new() { Timeout = Live });
        await Assertions.Expect(graph.Locator("a[data-job='lint'] .kz-status")).ToHaveAttributeAsync("data-status", "failed", new() { Timeout = Live });
        await Assertions.Expect(graph.Locator("a[data-job='unit (PY=3.12)'] .kz-status")).ToHaveAttributeAsync("data-status", "passed", new() { Timeout = Live });
        await Assertions.Expect(ship.Locator(".kz-status")).ToHaveAttributeAsync("data-status", "skipped", new() { Timeout = Live });
        await Assertions.Expect(ship).ToContainTextAsync("block test failed");
        await Assertions.Expect(graph.Locator("path[data-from='test'][data-to='deploy']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("kz-line-failed"));
        await Assertions.Expect(graph.Locator("path[data-from='build'][data-to='test']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("kz-line-passed"));
        await browser.ScreenshotAsync("build-pipeline.png");

        await compile.ClickAsync();
        await page.WaitForAddressAsync("**/jobs/*");
        await page.GoBackAsync();

        // Assert: on a phone the boxes stack in one column, each saying what it comes after, with no lines.
        await page.SetViewportSizeAsync(390, 844);
        await Assertions.Expect(graph.Locator("path.kz-graph-line").First).ToBeHiddenAsync();
        // The layout settles after the resize (the drawer closes, the content slides): measure once it stands still.
        async Task<List<LocatorBoundingBoxResult>> MeasureAsync()
        {
            var measured = new List<LocatorBoundingBoxResult>();
            foreach (var name in new[] { "build", "test", "deploy", "docs" })
            {
                // Mid-render a box may have no box yet: measure again.
                if (await graph.Locator($"section[data-block='{name}']").BoundingBoxAsync() is not { } box) return [];
                measured.Add(box);
            }
            return measured;
        }
        var boxes = await PortalHost.PollAsync(MeasureAsync, m => m.Count == 4 && m.All(b => Math.Abs(b.X - m[0].X) < 0.5),
            m => string.Join(", ", m.Select(b => $"x={b.X:0.#}")), timeoutSeconds: 15, intervalMilliseconds: 250);
        Assert.All(boxes, b => Assert.Equal(boxes[0].X, b.X, 1));
        Assert.True(boxes.Zip(boxes.Skip(1)).All(p => p.First.Y + p.First.Height <= p.Second.Y), "the boxes stack top to bottom");
        Assert.True(boxes.All(b => b.X + b.Width <= 390), "no box is wider than the phone");
        await Assertions.Expect(graph.Locator("section[data-block='deploy'] [data-testid=block-needs]")).ToHaveTextAsync("after test");
        Assert.Empty(browser.FailedResponses);
    }
}
