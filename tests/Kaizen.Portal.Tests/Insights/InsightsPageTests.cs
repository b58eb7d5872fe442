using Bunit;
using Kaizen.Portal.Components.Pages.Insights;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Insights;
using Kaizen.Portal.Tests.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Insights;

/// <summary>The cross-project page: what it says with nothing to compare, and which projects a visitor sees.
/// The clock stands at 2030-01-01 12:00 UTC.</summary>
public sealed class InsightsPageTests : PortalComponentContext
{
    protected override Task SetUpAsync()
    {
        Services.AddSingleton(Db.Projects);
        var hidden = new HiddenCommands(Db.Database, new Kaizen.Portal.Audit.AuditLog(Db.Database, Db.Clock),
            new LiveUpdates(Microsoft.Extensions.Logging.Abstractions.NullLogger<LiveUpdates>.Instance), Db.Clock);
        Services.AddSingleton(hidden);
        Services.AddSingleton(new InsightsService(new InsightsStore(Db.Database), hidden, Db.Clock));
        return Task.CompletedTask;
    }

    [Fact]
    public void A_visitor_with_no_public_project_is_asked_to_sign_in()
    {
        // Arrange
        SignOut();

        // Act
        var cut = RenderInLayout<InsightsPage>();

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("No projects to compare", cut.Markup), WaitTimeout);
        Assert.Contains("Sign in to see this portal's projects.", cut.Markup);
    }

    [Fact]
    public async Task Projects_without_builds_in_the_window_show_the_empty_state_with_the_next_step()
    {
        // Arrange
        SignIn("vic", "viewer");
        await Db.CreateProjectAsync("quiet");

        // Act
        var cut = RenderInLayout<InsightsPage>();

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("No builds in the last 30 days", cut.Find("[data-testid=insights-empty]").TextContent), WaitTimeout);
        Assert.Contains("Run a build", cut.Markup);
    }

    [Fact]
    public async Task A_visitor_compares_the_public_projects_only_and_sees_no_time_to_production()
    {
        // Arrange: "open" is public, "closed" private; both built yesterday.
        var history = new InsightsHistory(Db.Database);
        var open = await Db.CreateProjectAsync("open");
        var closed = await Db.CreateProjectAsync("closed");
        await Db.Projects.SetPublicAsync(closed, false);
        var yesterday = new DateTimeOffset(2029, 12, 31, 9, 0, 0, TimeSpan.Zero);
        await history.BuildAsync(open, "main", "passed", yesterday, 2, 90, new SeedJob("test", new SeedCommand("make", 80)));
        await history.BuildAsync(closed, "main", "failed", yesterday, 2, 30, new SeedJob("test", new SeedCommand("make", 20, "failed")));
        SignOut();

        // Act
        var cut = RenderInLayout<InsightsPage>();

        // Assert
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=insights-projects] tbody tr")), WaitTimeout);
        var row = Assert.Single(cut.FindAll("[data-testid=insights-projects] tbody tr"));
        Assert.Equal(["open project", "1", "100 %", "1 m 30 s", "1 m 30 s", "2.0 s"], row.QuerySelectorAll("td").Select(td => td.TextContent.Trim()));
        Assert.DoesNotContain("Time to production", cut.Markup);
        Assert.DoesNotContain("closed", cut.Markup);
    }
}
