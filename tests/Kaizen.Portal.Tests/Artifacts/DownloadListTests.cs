using Bunit;
using Kaizen.Portal.Artifacts;
using Kaizen.Portal.Components.Artifacts;

using Kaizen.Portal.Tests.Components;

namespace Kaizen.Portal.Tests.Artifacts;

public sealed class DownloadListTests() : PortalComponentContext(withDatabase: false)
{
    private static ArtifactRow Download(long id, string name, long size, long buildId = 7) => new()
    {
        Id = id, ProjectId = 1, ProjectSlug = "cli", BuildId = buildId, Scope = ArtifactScope.Project, Name = name, Size = size,
        Sha256 = "00", CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-id).ToUnixTimeMilliseconds(), StorageKey = "1/x",
    };

    [Fact]
    public void Each_folder_shows_its_files_sizes_and_stable_latest_urls()
    {
        // Arrange
        IReadOnlyList<ArtifactRow> downloads =
        [
            Download(1, "cli/cli-1.4.0.tar.gz", 3 * 1024 * 1024),
            Download(2, "cli/cli-1.3.0.tar.gz", 2048),
            Download(3, "docs/manual.pdf", 512),
        ];

        // Act
        var cut = Render<DownloadList>(p => p.Add(x => x.ProjectSlug, "cli").Add(x => x.Downloads, downloads));

        // Assert
        Assert.Equal(["cli/", "docs/"], cut.FindAll("[data-folder] h6").Select(h => h.TextContent.Trim()));
        var cli = cut.Find("[data-folder='cli']");
        Assert.Equal(["cli-1.4.0.tar.gz", "cli-1.3.0.tar.gz"], cli.QuerySelectorAll("[data-download] td:first-child").Select(td => td.TextContent.Trim()));
        Assert.Contains("3 MB", cli.TextContent);
        Assert.Contains("2 KB", cli.TextContent);
        Assert.Equal(["http://localhost/downloads/cli/cli/latest.tar.gz", "http://localhost/downloads/cli/docs/latest.pdf"],
            cut.FindAll("[data-testid='latest-url'] code").Select(c => c.TextContent));
        Assert.NotNull(cut.Find("button[aria-label='Copy http://localhost/downloads/cli/cli/latest.tar.gz']"));
        Assert.Empty(cut.FindAll("button[aria-label^='Delete']"));
    }

    [Fact]
    public void Without_downloads_it_says_how_a_job_publishes_one()
    {
        // Act
        var cut = Render<DownloadList>(p => p.Add(x => x.ProjectSlug, "cli").Add(x => x.Downloads, []));

        // Assert
        Assert.Contains("kaizen artifact push --project", cut.Find("[data-testid='downloads-empty']").TextContent);
    }

    [Fact]
    public void Members_get_a_delete_button_per_file_that_reports_the_file()
    {
        // Arrange
        ArtifactRow? deleted = null;
        var download = Download(1, "cli/cli-1.4.0.tar.gz", 10);

        // Act
        var cut = Render<DownloadList>(p => p.Add(x => x.ProjectSlug, "cli").Add(x => x.Downloads, [download])
            .Add(x => x.CanDelete, true).Add(x => x.OnDelete, (ArtifactRow a) => deleted = a));
        cut.Find("button[aria-label='Delete cli/cli-1.4.0.tar.gz']").Click();

        // Assert
        Assert.Same(download, deleted);
    }

    [Theory]
    [InlineData("cli/cli-1.4.0.tar.gz", "cli/latest.tar.gz")]
    [InlineData("app.zip", "latest.zip")]
    [InlineData("tools/kaizen-linux-x64", "tools/latest")]
    [InlineData("v1.2/notes-1.2.md", "v1.2/latest.md")]
    public void The_latest_name_keeps_the_folder_and_the_extension_but_not_a_version(string name, string latest) =>
        Assert.Equal(latest, ArtifactUrls.LatestName(name));
}
