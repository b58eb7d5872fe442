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
        var hidden = new HiddenCommands(Db.Database, new Kaizen.Portal.Audit.AuditLog(Db.Database, Db.Clock),
            new LiveUpdates(Microsoft.Extensions.Logging.Abstractions.NullLogger<LiveUpdates>.Instance), Db.Clock);
        Services.AddSingleton(hidden);
        Services.AddSingleton(new InsightsService(new InsightsStore(Db.Database), hidden, Db.Clock));
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
        Assert.Equal(["1", "test", "pytest -q", "2", "1 m 05 s", "1 m 09 s", "2 m 10 s", "+16.7 %", ""], Cells(cut, "insights-commands").Single());
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
        Assert.Empty(cut.FindAll("button[aria-label^='Hide ']"));
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

    [Fact]
    public async Task A_member_hides_a_row_it_moves_under_Hidden_and_shows_again_from_there()
    {
        // Arrange
        var project = await ProjectAsync("waits");
        await _history.BuildAsync(project.Id, "main", "passed", new DateTimeOffset(2029, 12, 31, 9, 0, 0, TimeSpan.Zero), 1, 100,
            new SeedJob("test", new SeedCommand("sleep 60", 60), new SeedCommand("make test", 20)));
        SignIn("mia", Kaizen.Portal.Auth.Roles.Member);
        var cut = RenderInLayout<ProjectInsightsPanel>(("Project", project));
        cut.WaitForAssertion(() => Assert.Equal(2, Cells(cut, "insights-commands").Count), WaitTimeout);

        // Act
        cut.Find("button[aria-label='Hide sleep 60 of test']").Click();

        // Assert: the row left the table and is listed under Hidden with who hid it.
        cut.WaitForAssertion(() => Assert.Equal(["make test"], Cells(cut, "insights-commands").Select(r => r[2])), WaitTimeout);
        Assert.Contains("Hidden (1)", cut.Find("[data-testid=insights-hidden]").TextContent);
        cut.Find("[data-testid=insights-hidden] .mud-expand-panel-header").Click();
        cut.WaitForAssertion(() => Assert.Contains("by mia", cut.Find("[data-testid=insights-hidden]").TextContent), WaitTimeout);

        // Act: show it again.
        cut.Find("button[aria-label='Show sleep 60 of test again']").Click();

        // Assert
        cut.WaitForAssertion(() => Assert.Equal(["sleep 60", "make test"], Cells(cut, "insights-commands").Select(r => r[2])), WaitTimeout);
        Assert.Empty(cut.FindAll("[data-testid=insights-hidden]"));
    }

    [Fact]
    public async Task An_edited_command_leaves_the_table_and_is_listed_as_no_longer_run_with_its_last_build()
    {
        // Arrange: a slow install, then the same job with the command changed.
        var project = await ProjectAsync("edited");
        var day = new DateTimeOffset(2029, 12, 31, 9, 0, 0, TimeSpan.Zero);
        var old = await _history.BuildAsync(project.Id, "main", "passed", day, 1, 100, new SeedJob("test", new SeedCommand("pip install -r requirements.txt", 90)));
        await _history.BuildAsync(project.Id, "main", "passed", day.AddHours(1), 1, 20, new SeedJob("test", new SeedCommand("pip install --no-index -r requirements.txt", 10)));

        // Act
        var cut = RenderInLayout<ProjectInsightsPanel>(("Project", project));

        // Assert
        cut.WaitForAssertion(() => Assert.Equal(["pip install --no-index -r requirements.txt"], Cells(cut, "insights-commands").Select(r => r[2])), WaitTimeout);
        var retired = cut.Find("[data-testid=insights-retired]");
        Assert.Contains("No longer run (1)", retired.TextContent);
        retired.QuerySelector(".mud-expand-panel-header")!.Click();
        cut.WaitForAssertion(() => Assert.Contains("pip install -r requirements.txt", cut.Find("[data-testid=insights-retired]").TextContent), WaitTimeout);
        Assert.Equal($"/builds/{old}", cut.Find("[data-testid=insights-retired] a").GetAttribute("href"));
    }

    private static List<List<string>> Cells(IRenderedComponent<Bunit.Rendering.ContainerFragment> cut, string table) =>
        cut.Find($"[data-testid={table}]").QuerySelectorAll("tbody tr")
            .Select(r => r.QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList())
            .ToList();
}
