using Kaizen.Portal.Data;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Insights;

/// <summary>
/// The real portal (no runner: nothing may touch the seeded builds) with a seeded history over the last days, relative
/// to today's UTC date: project "shop" (private; branches main and develop; servers Production and staging), "tool"
/// (public; a server prod) and "empty" (private, nothing in it). No build is seeded today, so the figures of a day do
/// not depend on the hour the tests run. The seeded numbers are in <see cref="SeedAsync"/>; the tests work out the
/// figures from them by hand.
/// </summary>
public sealed class InsightsPortal : IAsyncLifetime
{
    public PortalHost Portal { get; private set; } = null!;
    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>Three, two and one day(s) before today (UTC).</summary>
    public DateOnly Day3 { get; private set; }
    public DateOnly Day2 { get; private set; }
    public DateOnly Day1 { get; private set; }

    public long BuildA { get; private set; }
    public long BuildE { get; private set; }
    public long BuildB { get; private set; }
    public long BuildH { get; private set; }
    public long BuildI { get; private set; }
    public long ToolBuild { get; private set; }
    public long DeployA { get; private set; }
    public long DeployE { get; private set; }

    public async Task InitializeAsync()
    {
        Portal = await PortalHost.StartAsync(embeddedSlots: 0);
        Anonymous = new HttpClient { BaseAddress = Portal.BaseUrl };
        await SeedAsync();
    }

    private async Task SeedAsync()
    {
        var projects = Portal.Service<ProjectStore>();
        var history = new InsightsHistory(Portal.Service<Database>());
        var shop = await projects.CreateAsync("Shop", "shop", "https://git.example/shop.git", "main", isPublic: false);
        var tool = await projects.CreateAsync("Tool", "tool", "https://git.example/tool.git", "main", isPublic: true);
        await projects.CreateAsync("Empty project", "empty", "https://git.example/empty.git", "main", isPublic: false);

        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        (Day3, Day2, Day1) = (today.AddDays(-3), today.AddDays(-2), today.AddDays(-1));
        DateTimeOffset At(DateOnly day, int hour) => new(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);
        SeedJob Test(int pytest, params SeedCommand[] more) => new("test",
            [new SeedCommand("restore", 2, Phase: "setup"), new SeedCommand("pytest -q", pytest), .. more]);
        // A shared script as the library records it: its section (command 2 of the test job), then its two steps.
        SeedCommand[] DeployS3(string text, int? version, int seconds, int sync, int done) =>
        [
            new SeedCommand(text, seconds, Script: "deploy-s3", Version: version ?? 3),
            new SeedCommand("aws s3 sync dist s3://bucket", sync, Parent: 2),
            new SeedCommand("echo done", done, Parent: 2),
        ];
        SeedJob Lint(int? flake8, string? extra = null) => new("lint",
            [new SeedCommand("flake8", flake8, flake8 is null ? "skipped" : "passed"), .. extra is null ? Array.Empty<SeedCommand>() : [new SeedCommand(extra, 1)]]);

        // Outside a 30-day window: never counted.
        await history.BuildAsync(shop, "main", "passed", At(today.AddDays(-40), 10), 1, 999, Test(999), Lint(999));

        // shop, main, three days ago: A passed, B failed, C passed, D canceled after its test job started (lint never did).
        BuildA = await history.BuildAsync(shop, "main", "passed", At(Day3, 10), 5, 100, Test(60, DeployS3("run-script deploy-s3@2 bucket", 2, 20, 15, 1)), Lint(10));
        BuildB = await history.BuildAsync(shop, "main", "failed", At(Day3, 11), 15, 200, Test(80), Lint(12));
        var buildC = await history.BuildAsync(shop, "main", "passed", At(Day3, 12), 25, 300, Test(100), Lint(14));
        await history.BuildAsync(shop, "main", "canceled", At(Day3, 13), 40, 10, Test(40), new SeedJob("lint", [new SeedCommand("flake8", null, "skipped")], NeverStarted: true));
        // shop, main, two days ago: E and F passed, G canceled while queued (no job ever started).
        BuildE = await history.BuildAsync(shop, "main", "passed", At(Day2, 9), 3, 120, Test(50, DeployS3("run-script deploy-s3 bucket", null, 30, 25, 2)), Lint(8));
        await history.BuildAsync(shop, "main", "passed", At(Day2, 10), 7, 180, Test(70), Lint(9));
        await history.BuildAsync(shop, "main", "canceled", At(Day2, 11), null, 0, new SeedJob("test", [new SeedCommand("pytest -q", null, "skipped")], NeverStarted: true));
        // shop, develop, yesterday: H failed (its pytest failed, coverage skipped), I passed. H ran notify-chat as a build from
        // before the script library would have recorded it: no script name, only the command's text.
        BuildH = await history.BuildAsync(shop, "develop", "failed", At(Day1, 14), 2, 50,
            new SeedJob("test", new SeedCommand("restore", 2, Phase: "setup"), new SeedCommand("pytest -q", 90, "failed"), new SeedCommand("coverage", null, "skipped")),
            Lint(11, "run-script notify-chat"));
        BuildI = await history.BuildAsync(shop, "develop", "passed", At(Day1, 15), 4, 70, Test(30), Lint(13));

        // Deploys: Production (capitalised: the name matches whatever its case) of A after 4 minutes and of E after 7.5;
        // a failed one of C; staging of B after one minute. Each deploy job runs a slow command that must not be listed.
        var production = await history.ServerAsync(shop, "Production");
        var staging = await history.ServerAsync(shop, "staging");
        var deploy = new SeedJob("deploy", new SeedCommand("serverless deploy", 999));
        DeployA = await history.DeployAsync(production, BuildA, "passed", At(Day3, 10).AddMinutes(4), deploy);
        DeployE = await history.DeployAsync(production, BuildE, "passed", At(Day2, 9).AddSeconds(450), deploy);
        await history.DeployAsync(production, buildC, "failed", At(Day3, 12).AddMinutes(3), deploy);
        await history.DeployAsync(staging, BuildB, "passed", At(Day3, 11).AddMinutes(1), deploy);

        // tool (public), yesterday: one passed build, deployed to prod 200 s after it was requested.
        ToolBuild = await history.BuildAsync(tool, "main", "passed", At(Day1, 10), 1, 30, Test(20));
        var prod = await history.ServerAsync(tool, "prod");
        await history.DeployAsync(prod, ToolBuild, "passed", At(Day1, 10).AddSeconds(200), deploy);
    }

    public async Task DisposeAsync()
    {
        Anonymous.Dispose();
        await Portal.DisposeAsync();
    }
}
