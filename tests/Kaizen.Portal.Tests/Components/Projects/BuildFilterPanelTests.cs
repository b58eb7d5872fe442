using Bunit;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Projects;
using Kaizen.Portal.Projects;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Portal.Tests.Components.Projects;

/// <summary>The Branches section's build filter: what it says, who may change it, a bad pattern said on the field.</summary>
public sealed class BuildFilterPanelTests : PortalComponentContext
{
    private BuildFilters _filters = null!;

    protected override Task SetUpAsync()
    {
        _filters = new BuildFilters(Db.Database, new AuditLog(Db.Database, Db.Clock), new LiveUpdates(NullLogger<LiveUpdates>.Instance), Db.Clock);
        Services.AddSingleton(_filters);
        Services.AddSingleton(new LiveUpdates(NullLogger<LiveUpdates>.Instance));
        return Task.CompletedTask;
    }

    private async Task<ProjectRow> ProjectAsync()
    {
        await Db.CreateProjectAsync("shop");
        return (await Db.Projects.FindBySlugAsync("shop"))!;
    }

    [Fact]
    public async Task A_member_sets_the_branches_that_build_by_themselves_and_a_bad_pattern_is_said_on_the_field()
    {
        // Arrange
        var project = await ProjectAsync();
        Auth.SetAuthorized("mia");
        Auth.SetRoles(Kaizen.Portal.Auth.Roles.Member);
        Auth.SetPolicies(ApiEndpoints.WritePolicy);
        var cut = RenderInLayout<BuildFilterPanel>(("Project", project));
        cut.WaitForAssertion(() => Assert.Equal("every branch", cut.Find("[data-field=build-filter]").TextContent), WaitTimeout);

        // Act: a pattern git could not name.
        cut.Find("button[aria-label='Change which branches build by themselves']").Click();
        cut.Find("[data-testid=build-filter] input").Change("main,,hot~fix");
        cut.FindAll("[data-testid=build-filter] button").Single(b => b.TextContent.Trim() == "Save").Click();

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("empty entry between commas", cut.Find("[data-testid=build-filter]").TextContent), WaitTimeout);
        Assert.True((await _filters.GetAsync(project.Id)).Builds("feature/x"));

        // Act: a good one.
        cut.Find("[data-testid=build-filter] input").Change("main, release/*");
        cut.FindAll("[data-testid=build-filter] button").Single(b => b.TextContent.Trim() == "Save").Click();

        // Assert
        cut.WaitForAssertion(() => Assert.Equal("main, release/*", cut.Find("[data-field=build-filter]").TextContent), WaitTimeout);
        var saved = await _filters.GetAsync(project.Id);
        Assert.Equal(("main, release/*", "mia"), (saved.Branches, saved.ChangedBy));
        Assert.False(saved.Builds("feature/x"));
        Assert.True(saved.Builds("release/2.0"));
    }

    [Fact]
    public async Task A_viewer_reads_the_filter_but_cannot_change_it()
    {
        // Arrange
        var project = await ProjectAsync();
        await _filters.SetAsync(project, "main", null);
        Auth.SetAuthorized("vic");
        Auth.SetRoles(Kaizen.Portal.Auth.Roles.Viewer);

        // Act
        var cut = RenderInLayout<BuildFilterPanel>(("Project", project));

        // Assert
        cut.WaitForAssertion(() => Assert.Equal("main", cut.Find("[data-field=build-filter]").TextContent), WaitTimeout);
        Assert.Empty(cut.FindAll("button[aria-label='Change which branches build by themselves']"));
    }
}
