using Bunit;
using Kaizen.Portal.Components.Insights;
using Kaizen.Portal.Insights;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Components;
using Kaizen.Portal.Builds;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Portal.Tests.Insights;

/// <summary>The project's Insights tab: the empty state with what to do next, then charts with their numbers in tables.
/// The clock stands at 2030-01-01 12:00 UTC; the builds are of the day before.</summary>
public sealed class InsightsPanelTests : PortalComponentContext
{
    private InsightsHistory _history = null!;

    protected override Task SetUpAsync()
    {
        Services.AddSingleton(new InsightsService(new InsightsStore(Db.Database), Db.Clock));
        Services.AddSingleton(new LiveUpdates(NullLogger<LiveUpdates>.Instance));
        _history = new InsightsHistory(Db.Database);
        SignIn("admin", "admin");
        return Task.CompletedTask;
    }

    private async Task<ProjectRow> ProjectAsync(string slug)
    {
        await Db.CreateProjectAsync(slug);
        return (await Db.Projects.FindBySlugAsync(slug))!;
    }

    [Fact]
    public async Task A_project_without_builds_shows_the_empty_state_with_the_next_step()
    {
        // Arrange
        var project = await ProjectAsync("quiet");

        // Act
        var cut = RenderInLayout<ProjectInsightsPanel>(("Project", project));

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("No builds in the last 30 days", cut.Find("[data-testid=insights-empty]").TextContent), WaitTimeout);
        Assert.Contains("Run a build", cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=insights-days]"));
    }

    [Fact]
    public async Task With_builds_the_tables_show_the_days_commands_and_time_to_production_beside_the_charts()
    {
        // Arrange: two passed builds of main yesterday (100 s and 300 s, queued 5 s and 15 s), the first deployed after 4 minutes.
        var project = await ProjectAsync("web");
        var day = new DateTimeOffset(2029, 12, 31, 10, 0, 0, TimeSpan.Zero);
        var first = await _history.BuildAsync(project.Id, "main", "passed", day, 5, 100, new SeedJob("test", new SeedCommand("pytest -q", 60)));
        await _history.BuildAsync(project.Id, "main", "passed", day.AddHours(1), 15, 300, new SeedJob("test", new SeedCommand("pytest -q", 70)));
        var production = await _history.ServerAsync(project.Id, "production");
        await _history.DeployAsync(production, first, "passed", day.AddMinutes(4), new SeedJob("deploy", new SeedCommand("./deploy.sh", 30)));

        // Act
        var cut = RenderInLayout<ProjectInsightsPanel>(("Project", project));

        // Assert: durations 100 and 300 s → median 3 m 20 s, p90 4 m 40 s; queue 5 and 15 s → 10 s and 14 s; pytest 60 and 70 s.
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=insights-days]")), WaitTimeout);
        Assert.Equal("2", cut.Find("[data-testid=insights-builds]").TextContent.Trim());
        Assert.Equal("100 %", cut.Find("[data-testid=insights-pass-rate]").TextContent.Trim());
        Assert.Equal(["2029-12-31", "2", "2", "0", "0", "100 %", "3 m 20 s", "4 m 40 s", "10.0 s", "14.0 s"], Cells(cut, "insights-days").Single());
        Assert.Equal(["1", "test", "pytest -q", "2", "1 m 05 s", "1 m 09 s", "2 m 10 s", "+16.7 %"], Cells(cut, "insights-commands").Single());
        var deploy = Cells(cut, "insights-production").Single();
        Assert.Equal(("main", "4 m 00 s", "within target"), (deploy[2], deploy[6], deploy[7]));
        Assert.Contains("1 deploys to production", cut.Find("[data-testid=insights-production-summary]").TextContent);
        Assert.True(cut.FindAll("svg").Count >= 3, "the duration, pass rate, commands and production charts are drawn");
    }

    [Fact]
    public async Task A_visitor_sees_the_build_figures_but_no_time_to_production()
    {
        // Arrange
        var project = await ProjectAsync("open-tool");
        var first = await _history.BuildAsync(project.Id, "main", "passed", new DateTimeOffset(2029, 12, 31, 9, 0, 0, TimeSpan.Zero), 1, 30,
            new SeedJob("test", new SeedCommand("make test", 20)));
        await _history.DeployAsync(await _history.ServerAsync(project.Id, "production"), first, "passed",
            new DateTimeOffset(2029, 12, 31, 9, 2, 0, TimeSpan.Zero), new SeedJob("deploy", new SeedCommand("./deploy.sh", 30)));
        SignOut();

        // Act
        var cut = RenderInLayout<ProjectInsightsPanel>(("Project", project));

        // Assert
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=insights-commands]")), WaitTimeout);
        Assert.DoesNotContain("Time to production", cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=insights-production]"));
    }

    [Fact]
    public async Task A_build_finishing_while_the_tab_is_open_updates_the_figures()
    {
        // Arrange
        var project = await ProjectAsync("live");
        var day = new DateTimeOffset(2029, 12, 31, 10, 0, 0, TimeSpan.Zero);
        await _history.BuildAsync(project.Id, "main", "passed", day, 5, 100, new SeedJob("test", new SeedCommand("make", 90)));
        var cut = RenderInLayout<ProjectInsightsPanel>(("Project", project), ("RefreshEvery", TimeSpan.FromMilliseconds(20)));
        cut.WaitForAssertion(() => Assert.Equal("1", cut.Find("[data-testid=insights-builds]").TextContent.Trim()), WaitTimeout);

        // Act
        await _history.BuildAsync(project.Id, "main", "failed", day.AddHours(1), 5, 50, new SeedJob("test", new SeedCommand("make", 40, "failed")));
        Services.GetRequiredService<LiveUpdates>().Publish(LiveUpdates.Keys.Dashboard);

        // Assert
        cut.WaitForAssertion(() => Assert.Equal("2", cut.Find("[data-testid=insights-builds]").TextContent.Trim()), WaitTimeout);
        Assert.Equal("50 %", cut.Find("[data-testid=insights-pass-rate]").TextContent.Trim());
    }

    private static List<List<string>> Cells(IRenderedComponent<Bunit.Rendering.ContainerFragment> cut, string table) =>
        cut.Find($"[data-testid={table}]").QuerySelectorAll("tbody tr")
            .Select(r => r.QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList())
            .ToList();
}
