using Kaizen.Portal.Builds;
using Kaizen.Portal.Insights;
using Kaizen.Portal.Tests.Data;

namespace Kaizen.Portal.Tests.Insights;

public sealed class InsightsCalculatorTests
{
    [Theory]
    [InlineData(new long[] { 10, 20 }, 0.5, 15L)]
    [InlineData(new long[] { 20, 10, 30 }, 0.5, 20L)]
    [InlineData(new long[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 0.9, 9L)]      // 9.1, rounded
    [InlineData(new long[] { 100, 200, 300 }, 0.9, 280L)]
    [InlineData(new long[] { 5 }, 0.9, 5L)]
    [InlineData(new long[] { 1, 2 }, 0.5, 2L)]                                  // 1.5: halves round away from zero
    [InlineData(new long[] { 3, 1, 2 }, 0.0, 1L)]
    [InlineData(new long[] { 3, 1, 2 }, 1.0, 3L)]
    public void Percentiles_interpolate_linearly_between_the_closest_ranks(long[] values, double p, long expected)
    {
        // Act
        var value = Percentiles.Of(values, p);

        // Assert
        Assert.Equal(expected, value);
    }

    [Fact]
    public void No_values_have_no_percentile()
    {
        // Act
        var (median, p90) = Percentiles.MedianAndP90([]);

        // Assert
        Assert.Null(median);
        Assert.Null(p90);
    }

    [Theory]
    [InlineData("run-script deploy-s3@3 my-bucket", "deploy-s3")]
    [InlineData("run-script deploy-s3 my-bucket", "deploy-s3")]
    [InlineData("  run-script   notify  ", "notify")]
    [InlineData("run-script", null)]
    [InlineData("run-script @2", null)]
    [InlineData("run-scripts deploy", null)]
    [InlineData("echo run-script deploy", null)]
    public void A_script_is_named_by_the_word_after_run_script_without_its_version(string command, string? expected)
    {
        // Act
        var name = InsightsCalculator.ScriptName(command);

        // Assert
        Assert.Equal(expected, name);
    }

    [Theory]
    [InlineData(new[] { "staging", "PROD", "Production" }, null, "Production")]
    [InlineData(new[] { "staging", "Prod" }, null, "Prod")]
    [InlineData(new[] { "staging" }, null, null)]
    [InlineData(new[] { "staging", "production" }, "Staging", "staging")]
    [InlineData(new[] { "staging", "production" }, "live", null)]
    public void The_production_server_is_the_one_asked_for_else_production_else_prod(string[] servers, string? requested, string? expected)
    {
        // Act
        var server = InsightsCalculator.ProductionServer(servers, requested);

        // Assert
        Assert.Equal(expected, server);
    }

    [Fact]
    public void The_window_starts_at_midnight_UTC_of_the_oldest_day()
    {
        // Arrange
        var now = new DateTimeOffset(2030, 3, 10, 1, 30, 0, TimeSpan.FromHours(3));   // 2030-03-09 22:30 UTC

        // Act
        var (from, to) = InsightsCalculator.Window(now, 7);

        // Assert
        Assert.Equal(new DateTimeOffset(2030, 3, 3, 0, 0, 0, TimeSpan.Zero), from);
        Assert.Equal(now, to);
    }

    [Fact]
    public async Task A_build_requested_at_the_first_instant_of_the_window_counts_and_one_a_millisecond_earlier_does_not()
    {
        // Arrange: the clock is fixed at 2030-01-01 12:00 UTC, so a 2-day window starts 2029-12-31 00:00 UTC.
        await using var db = await TestDatabase.CreateAsync("Sqlite");
        var history = new InsightsHistory(db.Database);
        var project = await db.CreateProjectAsync("edge");
        var start = new DateTimeOffset(2029, 12, 31, 0, 0, 0, TimeSpan.Zero);
        await history.BuildAsync(project, "main", "passed", start, 1, 10);
        await history.BuildAsync(project, "main", "passed", start.AddMilliseconds(-1), 1, 20);
        var service = new InsightsService(new InsightsStore(db.Database), new HiddenCommands(db.Database, new Kaizen.Portal.Audit.AuditLog(db.Database, db.Clock), new LiveUpdates(Microsoft.Extensions.Logging.Abstractions.NullLogger<LiveUpdates>.Instance), db.Clock), db.Clock);

        // Act
        var insights = (await service.ProjectAsync((await db.Projects.FindBySlugAsync("edge"))!, new InsightsQuery(Days: 2), withDelivery: true)).Value!;

        // Assert
        Assert.Equal(start, insights.From);
        Assert.Equal(1, insights.Summary.Builds);
        Assert.Equal(10_000, insights.Summary.MedianDurationMs);
        Assert.Equal([new DateOnly(2029, 12, 31)], insights.Branches[0].Days.Select(d => d.Day));
        Assert.Equal(1, insights.Branches[0].Days[0].Figures.Builds);
        Assert.Null(insights.TimeToProduction!.Server);
    }
    [Fact]
    public void A_rollback_counts_from_its_own_request_and_a_deploy_of_a_new_build_from_the_builds_request()
    {
        var day = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        const long minute = 60_000;
        DeploySample Deploy(long id, string trigger, long buildQueuedAt, long requestedAt, long finishedAt) => new()
        {
            ProjectId = 1, Server = "production", DeployId = id, BuildId = id, Branch = "main", CommitSha = "abc",
            BuildQueuedAt = buildQueuedAt, RequestedAt = requestedAt, FinishedAt = finishedAt, TriggerKind = trigger,
        };

        var production = InsightsCalculator.Production(
        [
            Deploy(1, "auto", day, day + 2 * minute, day + 3 * minute),
            // Build 1 is put back ten days later: a one-click rollback, one minute from its request.
            Deploy(2, Kaizen.Portal.Delivery.DeployTrigger.Rollback, day, day + 10 * 1440 * minute, day + 10 * 1440 * minute + minute),
        ], null);

        Assert.Equal([3 * minute, minute], production.Items.Select(d => d.DurationMs));
        Assert.Equal(2, production.WithinTarget);
    }
}
