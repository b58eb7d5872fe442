using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Insights;
using Kaizen.Portal.Tests.Delivery;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Scripts;

namespace Kaizen.Portal.Tests.Insights;

/// <summary>Insights of builds and a deploy that really ran (embedded runner, real bash, a shared script from the
/// library): the figures equal the ones worked out from what the build and deploy APIs report.</summary>
public sealed class InsightsEndToEndTests() : PortalWithRepository(embeddedSlots: 1)
{
    private static long Ms(DateTimeOffset? from, DateTimeOffset? to) => (long)(to!.Value - from!.Value).TotalMilliseconds;

    private static long Interpolate(long a, long b, double p)
    {
        var (low, high) = a <= b ? (a, b) : (b, a);
        return (long)Math.Round(low + p * (high - low), MidpointRounding.AwayFromZero);
    }

    [Fact]
    public async Task Real_builds_and_a_real_deploy_give_the_figures_their_own_timings_say()
    {
        // Arrange: two builds running a command and a shared script of two steps; the first deployed to production.
        await _portal.SaveAsync("notify", "sleep 0.2\necho sent\n");
        var slug = await _portal.CreateProjectAsync("Live", _repo.Path, PortalHost.OneJob("sleep 0.3", "run-script notify"));
        var first = await _portal.BuildAsync(slug);
        var second = await _portal.BuildAsync(slug);
        Assert.True(first.Status == Status.Passed && second.Status == Status.Passed, await _portal.DescribeAsync(first) + await _portal.DescribeAsync(second));
        (await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name = "production", commands = new[] { "sleep 0.1" }, trigger = new { mode = "manual", branch = "main" },
        })).EnsureSuccessStatusCode();
        var deploy = await Deploys.WaitAsync(_portal.Api, (await Deploys.RequestOkAsync(_portal.Api, first.Id, "production")).Id);
        Assert.Equal("passed", deploy.Status);

        // Act
        var insights = (await _portal.Api.GetFromJsonAsync<ProjectInsights>($"/api/v1/projects/{slug}/insights"))!;

        // Assert: build figures from the builds' own start, end and first job start.
        long d1 = Ms(first.StartedAt, first.FinishedAt), d2 = Ms(second.StartedAt, second.FinishedAt);
        long q1 = Ms(first.QueuedAt, first.Jobs[0].StartedAt), q2 = Ms(second.QueuedAt, second.Jobs[0].StartedAt);
        Assert.Equal(new BuildFigures(2, 2, 0, 0, 1.0, Interpolate(d1, d2, 0.5), Interpolate(d1, d2, 0.9), Interpolate(q1, q2, 0.5),
            Interpolate(q1, q2, 0.9)), insights.Summary);

        // The commands of the settings (the script as one), as the builds timed them; the deploy's command is not one.
        long Command(BuildResponse build, int index) => build.Commands()[index].DurationMs!.Value;
        var sleep = insights.SlowestCommands.Single(c => c.Command == "sleep 0.3");
        Assert.Equal((2, Interpolate(Command(first, 0), Command(second, 0), 0.5)), (sleep.Runs, sleep.MedianMs));
        Assert.Equal(new Trend(Command(first, 0), Command(second, 0),
            Math.Round((Command(second, 0) - Command(first, 0)) * 100.0 / Command(first, 0), 1)), sleep.Trend);
        var section = insights.SlowestCommands.Single(c => c.Command == "run-script notify");
        Assert.Equal(("notify", Interpolate(Command(first, 1), Command(second, 1), 0.5)), (section.Script, section.MedianMs));
        Assert.Equal(2, insights.SlowestCommands.Count);

        // The script with its two steps, each timed on its own.
        var script = Assert.Single(insights.SlowestScripts);
        Assert.Equal(("notify", 2, section.MedianMs), (script.Script, script.Runs, script.MedianMs));
        Assert.Equal(["test"], script.Jobs);
        var step = script.Steps.Single(s => s.Command == "sleep 0.2");
        Assert.Equal((2, Interpolate(Command(first, 2), Command(second, 2), 0.5)), (step.Runs, step.MedianMs));
        Assert.InRange(step.MedianMs, 150, 10_000);
        Assert.Equal(["sleep 0.2", "echo sent"], script.Steps.Select(s => s.Command));

        // Time to production: the first build's request to its deploy's end.
        var production = insights.TimeToProduction!;
        Assert.Equal("production", production.Server);
        var item = Assert.Single(production.Items);
        Assert.Equal((deploy.Id, first.Id, Ms(first.QueuedAt, deploy.FinishedAt), true), (item.DeployId, item.BuildId, item.DurationMs, item.WithinTarget));
    }

    [Fact]
    public async Task A_command_edited_in_the_settings_starts_a_new_row_and_the_old_text_is_listed_as_no_longer_run()
    {
        // Arrange: a build, then the command edited through the settings API, then another build.
        var slug = await _portal.CreateProjectAsync("Edited", _repo.Path, PortalHost.OneJob("sleep 0.3", "echo kept"));
        var before = await _portal.BuildAsync(slug);
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob("sleep 0.1", "echo kept"))).EnsureSuccessStatusCode();
        var after = await _portal.BuildAsync(slug);
        Assert.True(before.Status == Status.Passed && after.Status == Status.Passed, await _portal.DescribeAsync(before) + await _portal.DescribeAsync(after));

        // Act
        var insights = (await _portal.Api.GetFromJsonAsync<ProjectInsights>($"/api/v1/projects/{slug}/insights"))!;

        // Assert
        Assert.Equal(["echo kept", "sleep 0.1"], insights.SlowestCommands.Select(c => c.Command).Order());
        Assert.Equal(after.Id, insights.SlowestCommands.Single(c => c.Command == "sleep 0.1").LastBuildId);
        var retired = Assert.Single(insights.RetiredCommands);
        Assert.Equal(("sleep 0.3", 1, before.Id), (retired.Command, retired.Runs, retired.LastBuildId));
    }
}
