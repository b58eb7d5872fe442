using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Tests.Data;

public sealed class ProjectStoreTests
{
    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_created_project_is_found_by_its_slug(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);

        // Act
        var id = await test.Projects.CreateAsync("Web Shop", "web-shop", "https://git.example/shop.git", "trunk", isPublic: false);
        var found = await test.Projects.FindBySlugAsync("web-shop");

        // Assert
        Assert.NotNull(found);
        Assert.Equal(id, found.Id);
        Assert.Equal("Web Shop", found.Name);
        Assert.Equal("https://git.example/shop.git", found.GitUrl);
        Assert.Equal("trunk", found.DefaultBranch);
        Assert.False(found.IsPublic);
        Assert.Equal(test.Clock.GetUtcNow().ToUnixTimeMilliseconds(), found.CreatedAt);
        Assert.Empty(found.Settings.Jobs);
        Assert.Null(await test.Projects.FindBySlugAsync("nope"));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Projects_are_listed_by_name_and_slugs_are_known(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        await test.Projects.CreateAsync("Zebra", "zebra", "https://git.example/z.git", "main", isPublic: true);
        await test.Projects.CreateAsync("Alpha", "alpha", "https://git.example/a.git", "main", isPublic: true);

        // Act
        var list = await test.Projects.ListAsync();

        // Assert
        Assert.Equal(["Alpha", "Zebra"], list.Select(p => p.Name));
        Assert.True(list.All(p => p.IsPublic));
        Assert.True(await test.Projects.SlugExistsAsync("zebra"));
        Assert.False(await test.Projects.SlugExistsAsync("yak"));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Saved_build_settings_read_back_the_same(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var id = await test.CreateProjectAsync("shop");
        var settings = new BuildSettings(
            ["export LANG=C", "echo \"quotes\" & ünïcode"],
            [new JobSettings("test", ["make test"]), new JobSettings("lint", ["make lint", "make vet"])],
            ["rm -rf tmp"]);

        // Act
        await test.Projects.SaveSettingsAsync(id, settings);
        var read = (await test.Projects.FindBySlugAsync("shop"))!.Settings;

        // Assert
        Assert.Equal(settings.Setup, read.Setup);
        Assert.Equal(settings.Jobs.Select(j => (j.Name, string.Join("\n", j.Commands))),
            read.Jobs.Select(j => (j.Name, string.Join("\n", j.Commands))));
        Assert.Equal(settings.Epilogue, read.Epilogue);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Replacing_branches_keeps_only_the_new_ones(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var id = await test.CreateProjectAsync("shop");
        var other = await test.CreateProjectAsync("other");
        await test.Projects.ReplaceBranchesAsync(id, [Branch("main", "a1"), Branch("old", "b2")]);
        await test.Projects.ReplaceBranchesAsync(other, [Branch("main", "c3")]);

        // Act
        await test.Projects.ReplaceBranchesAsync(id, [Branch("main", "d4"), Branch("feature/x", "e5")]);

        // Assert
        var branches = await test.Projects.BranchesAsync(id);
        Assert.Equal(["feature/x", "main"], branches.Select(b => b.Name));
        Assert.Equal("d4", branches.Single(b => b.Name == "main").HeadSha);
        Assert.Equal("message of d4", branches.Single(b => b.Name == "main").HeadMessage);
        Assert.Equal(["c3"], (await test.Projects.BranchesAsync(other)).Select(b => b.HeadSha));
    }

    private static BranchRow Branch(string name, string sha) => new()
    {
        Name = name, HeadSha = sha, HeadMessage = "message of " + sha, HeadAuthor = "Dev", UpdatedAt = 1_700_000_000_000,
    };
}
