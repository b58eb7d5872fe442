using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kaizen.Portal.Insights;

namespace Kaizen.Portal.Tests.Insights;

/// <summary>
/// The insights API over a seeded history (<see cref="InsightsPortal"/>): every figure equals the one worked out by hand
/// from the seeded numbers, with the percentile method of <see cref="Percentiles"/> (linear between closest ranks).
/// </summary>
public sealed class InsightsApiTests(InsightsPortal fixture) : IClassFixture<InsightsPortal>
{
    private readonly HttpClient _admin = fixture.Portal.Api;
    private readonly HttpClient _anonymous = fixture.Anonymous;

    private async Task<ProjectInsights> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ProjectInsights>())!;
    }

    private static BuildFigures Figures(int builds, int passed, int failed, int canceled, double? passRate, long? medianDuration,
        long? p90Duration, long? medianQueue, long? p90Queue) =>
        new(builds, passed, failed, canceled, passRate, medianDuration, p90Duration, medianQueue, p90Queue);

    [Fact]
    public async Task A_projects_summary_counts_the_window_s_builds_with_their_median_and_p90_duration_queue_time_and_pass_rate()
    {
        // Act
        var insights = await GetAsync(_admin, "/api/v1/projects/shop/insights");

        // Assert: nine builds in the last 30 days (the one 40 days ago is not); durations of passed and failed builds
        // 50 70 100 120 180 200 300 s, queue times 2 3 4 5 7 15 25 40 s (G never started), 5 passed of 7 passed or failed.
        Assert.Equal(30, insights.Days);
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-29), DateOnly.FromDateTime(insights.From.UtcDateTime));
        Assert.Equal(TimeSpan.Zero, insights.From.UtcDateTime.TimeOfDay);
        Assert.Equal(Figures(9, 5, 2, 2, 5.0 / 7, 120_000, 240_000, 6_000, 29_500), insights.Summary);
    }

    [Fact]
    public async Task Each_branch_has_its_figures_per_UTC_day_with_builds_with_the_default_branch_first()
    {
        // Act
        var insights = await GetAsync(_admin, "/api/v1/projects/shop/insights");

        // Assert
        Assert.Equal(["main", "develop"], insights.Branches.Select(b => b.Branch));
        var main = insights.Branches[0];
        Assert.Equal([fixture.Day3, fixture.Day2], main.Days.Select(d => d.Day));
        Assert.Equal([fixture.Day1], insights.Branches[1].Days.Select(d => d.Day));
        var day = main.Days.ToDictionary(d => d.Day, d => d.Figures);
        // Three days ago: durations 100 200 300 s (D canceled: out), queue 5 15 25 40 s, 2 passed of 3.
        Assert.Equal(Figures(4, 2, 1, 1, 2.0 / 3, 200_000, 280_000, 20_000, 35_500), day[fixture.Day3]);
        // Two days ago: durations 120 180 s, queue 3 7 s (G never started), G canceled.
        Assert.Equal(Figures(3, 2, 0, 1, 1.0, 150_000, 174_000, 5_000, 6_600), day[fixture.Day2]);
        // The branch over the window: durations 100 120 180 200 300 s, queue 3 5 7 15 25 40 s, 4 passed of 5.
        Assert.Equal(Figures(7, 4, 1, 2, 0.8, 180_000, 260_000, 11_000, 32_500), main.Summary);
        var develop = insights.Branches[1].Days.Single(d => d.Day == fixture.Day1).Figures;
        Assert.Equal(Figures(2, 1, 1, 0, 0.5, 60_000, 68_000, 3_000, 3_800), develop);
    }

    [Fact]
    public async Task The_slowest_commands_come_first_with_their_runs_median_p90_total_and_trend_and_deploy_jobs_are_left_out()
    {
        // Act
        var insights = await GetAsync(_admin, "/api/v1/projects/shop/insights");

        // Assert: the nine builds of the window, A..D the older half.
        Assert.Equal(new CommandWindow(100, 9, fixture.BuildA, fixture.BuildI), insights.Commands);
        Assert.Equal(
        [
            // pytest: 30 40 50 60 70 80 90 100 s (H's failed run counts, G's skipped one not); older 40 60 80 100, newer 30 50 70 90.
            new SlowCommand("test", "main", "pytest -q", null, 8, 65_000, 93_000, 520_000, new Trend(70_000, 60_000, -14.3), fixture.BuildI),
            // flake8: 8 9 10 11 12 13 14 s; older 10 12 14, newer 8 9 11 13.
            new SlowCommand("lint", "main", "flake8", null, 7, 11_000, 13_400, 77_000, new Trend(12_000, 10_000, -16.7), fixture.BuildI),
            // restore: main's newest test job (G, canceled while queued) lacks it, but develop's newest (I) still runs it.
            new SlowCommand("test", "setup", "restore", null, 8, 2_000, 2_000, 16_000, new Trend(2_000, 2_000, 0), fixture.BuildI),
        ], insights.SlowestCommands);
        Assert.DoesNotContain(insights.SlowestCommands, c => c.Command is "serverless deploy" or "coverage");
    }

    [Fact]
    public async Task Commands_a_job_no_longer_runs_are_listed_apart_with_the_build_they_last_ran_in()
    {
        // Act
        var insights = await GetAsync(_admin, "/api/v1/projects/shop/insights");

        // Assert: the script call was edited (deploy-s3@2 in A, deploy-s3 in E, neither since on main) and notify-chat ran on
        // develop in H but not in I, develop's newest build.
        Assert.Equal(
        [
            new SlowCommand("test", "main", "run-script deploy-s3 bucket", "deploy-s3", 1, 30_000, 30_000, 30_000, new Trend(null, 30_000, null), fixture.BuildE),
            new SlowCommand("test", "main", "run-script deploy-s3@2 bucket", "deploy-s3", 1, 20_000, 20_000, 20_000, new Trend(20_000, null, null), fixture.BuildA),
            new SlowCommand("lint", "main", "run-script notify-chat", "notify-chat", 1, 1_000, 1_000, 1_000, new Trend(null, 1_000, null), fixture.BuildH),
        ], insights.RetiredCommands);
        Assert.Empty(insights.HiddenCommands);
    }

    [Fact]
    public async Task Scripts_are_grouped_by_name_whatever_their_version_with_their_slowest_steps()
    {
        // Act
        var insights = await GetAsync(_admin, "/api/v1/projects/shop/insights");

        // Assert: deploy-s3 ran 20 s (v2, build A) and 30 s (latest, build E).
        Assert.Equal(2, insights.SlowestScripts.Count);
        var deploy = insights.SlowestScripts[0];
        Assert.Equal(("deploy-s3", 2, 25_000L, 29_000L, 50_000L), (deploy.Script, deploy.Runs, deploy.MedianMs, deploy.P90Ms, deploy.TotalMs));
        Assert.Equal(["test"], deploy.Jobs);
        Assert.Equal(new Trend(20_000, 30_000, 50.0), deploy.Trend);
        // Its steps: sync 15 and 25 s, done 1 and 2 s; they are not among the commands.
        Assert.Equal([new ScriptStep("aws s3 sync dist s3://bucket", 2, 20_000, 24_000, 40_000), new ScriptStep("echo done", 2, 1_500, 1_900, 3_000)],
            deploy.Steps);
        Assert.Empty(insights.SlowestScripts[1].Steps);
        Assert.DoesNotContain(insights.SlowestCommands, c => c.Command is "aws s3 sync dist s3://bucket" or "echo done");
        Assert.Equal(("notify-chat", 1, 1_000L), (insights.SlowestScripts[1].Script, insights.SlowestScripts[1].Runs, insights.SlowestScripts[1].MedianMs));
    }

    [Fact]
    public async Task Time_to_production_runs_from_each_deployed_builds_request_to_its_passed_deploy_on_the_server_named_production()
    {
        // Act
        var production = (await GetAsync(_admin, "/api/v1/projects/shop/insights")).TimeToProduction!;
        var staging = (await GetAsync(_admin, "/api/v1/projects/shop/insights?server=STAGING")).TimeToProduction!;

        // Assert: A deployed 240 s after its request (within five minutes), E 450 s; C's deploy failed, B's went to staging.
        Assert.Equal("Production", production.Server);
        Assert.Equal(["Production", "staging"], production.Servers);
        Assert.Equal((300_000L, 2, 1, 345_000L, 429_000L), (production.TargetMs, production.Deploys, production.WithinTarget, production.MedianMs!.Value, production.P90Ms!.Value));
        Assert.Equal([(fixture.DeployA, fixture.BuildA, 240_000L, true), (fixture.DeployE, fixture.BuildE, 450_000L, false)],
            production.Items.Select(d => (d.DeployId, d.BuildId, d.DurationMs, d.WithinTarget)));
        Assert.Equal("staging", staging.Server);
        Assert.Equal([(fixture.BuildB, 60_000L)], staging.Items.Select(d => (d.BuildId, d.DurationMs)));
    }

    [Fact]
    public async Task An_unknown_server_is_not_found_and_says_which_servers_there_are()
    {
        // Act
        var response = await _admin.GetAsync("/api/v1/projects/shop/insights?server=nope");

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Production, staging", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("366")]
    [InlineData("-1")]
    [InlineData("thirty")]
    [InlineData("1.5")]
    [InlineData("")]
    public async Task Days_outside_1_to_365_are_a_bad_request_saying_what_is_allowed(string days)
    {
        // Act
        var project = await _admin.GetAsync($"/api/v1/projects/shop/insights?days={Uri.EscapeDataString(days)}");
        var overview = await _admin.GetAsync($"/api/v1/insights?days={Uri.EscapeDataString(days)}");

        // Assert
        foreach (var response in new[] { project, overview })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Contains("days must be a whole number from 1 to 365", problem.RootElement.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task A_window_of_two_days_keeps_yesterday_only_and_365_days_keep_the_old_build()
    {
        // Act
        var two = await GetAsync(_admin, "/api/v1/projects/shop/insights?days=2");
        var year = await GetAsync(_admin, "/api/v1/projects/shop/insights?days=365");

        // Assert: yesterday's builds are develop's H and I; the year also has the build of 40 days ago (999 s).
        Assert.Equal(2, two.Summary.Builds);
        Assert.Equal(["develop"], two.Branches.Select(b => b.Branch));
        Assert.Equal([fixture.Day1], two.Branches[0].Days.Select(d => d.Day));
        Assert.Empty(two.TimeToProduction!.Items);
        Assert.Equal(10, year.Summary.Builds);
        Assert.Equal(3, year.Branches[0].Days.Count);
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-40), year.Branches[0].Days[0].Day);
    }

    [Fact]
    public async Task A_private_project_is_not_found_for_visitors_and_a_public_one_is_shown_without_its_deploys()
    {
        // Act
        var hidden = await _anonymous.GetAsync("/api/v1/projects/shop/insights");
        var missing = await _admin.GetAsync("/api/v1/projects/nothing-here/insights");
        var open = await GetAsync(_anonymous, "/api/v1/projects/tool/insights");
        using var badToken = new HttpRequestMessage(HttpMethod.Get, "/api/v1/projects/tool/insights");
        badToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "kzt_not_a_token");
        var refused = await _anonymous.SendAsync(badToken);

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(Figures(1, 1, 0, 0, 1.0, 30_000, 30_000, 1_000, 1_000), open.Summary);
        Assert.Null(open.TimeToProduction);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task The_overview_compares_every_readable_project_and_visitors_see_the_public_ones_without_deploys()
    {
        // Act
        var admin = (await _admin.GetFromJsonAsync<InsightsOverview>("/api/v1/insights"))!;
        var visitor = (await _anonymous.GetFromJsonAsync<InsightsOverview>("/api/v1/insights?days=7"))!;

        // Assert
        Assert.Equal(["empty", "shop", "tool"], admin.Projects.Select(p => p.Project));
        var shop = admin.Projects[1];
        Assert.Equal(Figures(9, 5, 2, 2, 5.0 / 7, 120_000, 240_000, 6_000, 29_500), shop.Figures);
        Assert.Equal(new ProductionSummary("Production", 300_000, 2, 1, 345_000, 429_000), shop.TimeToProduction);
        Assert.Equal(new ProductionSummary("prod", 300_000, 1, 1, 200_000, 200_000), admin.Projects[2].TimeToProduction);
        Assert.Equal(Figures(0, 0, 0, 0, null, null, null, null, null), admin.Projects[0].Figures);
        Assert.Equal(new ProductionSummary(null, 300_000, 0, 0, null, null), admin.Projects[0].TimeToProduction);
        Assert.Equal(7, visitor.Days);
        Assert.Equal(["tool"], visitor.Projects.Select(p => p.Project));
        Assert.Null(visitor.Projects[0].TimeToProduction);
    }

    [Fact]
    public async Task The_API_returns_what_the_service_computes_and_documents_both_calls_in_OpenAPI()
    {
        // Arrange
        var service = fixture.Portal.Service<InsightsService>();
        var project = (await fixture.Portal.Service<Kaizen.Portal.Projects.ProjectStore>().FindBySlugAsync("shop"))!;

        // Act
        var api = await GetAsync(_admin, "/api/v1/projects/shop/insights?days=10");
        var direct = (await service.ProjectAsync(project, new InsightsQuery(Days: 10), withDelivery: true)).Value!;
        var openApi = await _anonymous.GetStringAsync("/openapi/v1.json");

        // Assert: the same figures (the window's end is "now", so it differs).
        Assert.Equal(Json(direct with { To = default }), Json(api with { To = default }));
        Assert.Contains("/api/v1/projects/{slug}/insights", openApi);
        Assert.Contains("/api/v1/insights", openApi);
        Assert.Contains("ProjectInsights", openApi);
        Assert.Contains("Queue time: from the build's request to the first of its own jobs starting", openApi);
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);
}
