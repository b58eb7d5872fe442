using System.Net.Http.Json;
using Kaizen.Portal.Artifacts;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Browser;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Artifacts;

/// <summary>A visitor who never signs in finds a public project's downloads and a build's artifacts in the browser.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DownloadsBrowserTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_visitor_sees_a_public_projects_downloads_with_their_latest_url_and_the_builds_artifacts()
    {
        // Arrange
        var slug = await _portal.CreateProjectAsync("Tool", _repo.Path, PortalHost.OneJob(
            "mkdir -p dist && echo one > dist/tool-1.0.0.tar.gz && echo two > dist/tool-1.1.0.tar.gz",
            "kaizen artifact push --project dist/tool-1.0.0.tar.gz cli/tool-1.0.0.tar.gz",
            "kaizen artifact push --project dist/tool-1.1.0.tar.gz cli/tool-1.1.0.tar.gz",
            "kaizen artifact push dist"), isPublic: true);
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;

        // Act: the project's Downloads tab, without signing in.
        await page.GotoAsync($"/projects/{slug}");
        await browser.ProjectSection("Downloads").ClickAsync();

        // Assert
        var folder = page.Locator("[data-folder='cli']");
        await Assertions.Expect(folder.Locator("[data-download]")).ToHaveCountAsync(2);
        await Assertions.Expect(folder.Locator("[data-download]").First).ToContainTextAsync("tool-1.1.0.tar.gz");
        await Assertions.Expect(folder.Locator("[data-testid='latest-url'] code")).ToHaveTextAsync(
            new Uri(_portal.BaseUrl, $"/downloads/{slug}/cli/latest.tar.gz").ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete cli/tool-1.1.0.tar.gz" })).ToHaveCountAsync(0);

        await page.GotoAsync($"/builds/{build.Id}");
        var artifacts = await _portal.Api.GetFromJsonAsync<List<ArtifactResponse>>($"/api/v1/builds/{build.Id}/artifacts");
        var dist = artifacts!.Single(a => a.Name == "dist.tar.gz");
        await Assertions.Expect(page.Locator("[data-artifact='dist.tar.gz'] a")).ToHaveAttributeAsync("href", dist.Url);
        await Assertions.Expect(page.Locator("[data-artifact='cli/tool-1.0.0.tar.gz']")).ToContainTextAsync("project");
    }
}
