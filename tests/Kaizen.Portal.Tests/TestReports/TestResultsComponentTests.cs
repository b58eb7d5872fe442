using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Tests;
using Kaizen.Portal.Tests.Components;
using Kaizen.Portal.Tests.Data;
using Kaizen.Portal.TestReports;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.TestReports;

public sealed class TestResultsComponentTests : PortalComponentContext
{
    private TestReportStore _store = null!;
    private long _projectId;

    protected override Task SetUpAsync()
    {
        _store = new TestReportStore(Db.Database, Db.Clock);
        Services.AddSingleton(_store);
        Services.AddSingleton<TestResultService>();
        Services.AddSingleton<LiveUpdates>();
        Services.AddSingleton(Db.Builds);
        return Task.CompletedTask;
    }

    private async Task<long> BuildWithAsync(params ParsedTestCase[] cases)
    {
        if (_projectId == 0) _projectId = await Db.CreateProjectAsync("shop");
        var buildId = await Db.CreateBuildAsync(_projectId, TestDatabase.OneJob());
        var jobId = (await Db.Builds.JobsAsync(buildId))[0].Id;
        await _store.SaveAsync(buildId, jobId, ReportKinds.JUnit, "reports/junit.xml", "", null, cases, null);
        return buildId;
    }

    private IRenderedComponent<TestResults> Render(long buildId) =>
        Render<TestResults>(p => p.Add(c => c.BuildId, buildId).Add(c => c.ProjectId, _projectId).Add(c => c.Finished, true));

    [Fact]
    public async Task A_build_that_declared_reports_says_why_it_has_none_instead_of_asking_to_declare_them()
    {
        _projectId = await Db.CreateProjectAsync("declared");
        var settings = new BuildSettings([], [new JobSettings("test", ["pytest"], ["reports/junit.xml"], ["coverage.xml"])], []);
        async Task<long> BuildAsync() => await Db.Builds.CreateAsync(
            BuildStore.Plan(_projectId, settings, "main", new string('a', 40), "change", "Dev", Trigger.Manual, "admin")
            with { Snapshot = new BuildSnapshot(settings, [], 0) });
        var running = await BuildAsync();
        var canceled = await BuildAsync();
        await Db.Builds.CancelAsync(canceled);

        var whileRunning = Render(running);
        var afterCancel = Render(canceled);

        whileRunning.WaitForAssertion(() =>
            Assert.Equal("No test results yet: they arrive as the jobs that declare them finish.",
                whileRunning.Find("[data-testid=tests-empty]").TextContent.Trim()), WaitTimeout);
        afterCancel.WaitForAssertion(() =>
            Assert.Equal("No test results: the build was canceled before the jobs that declare them uploaded any.",
                afterCancel.Find("[data-testid=tests-empty]").TextContent.Trim()), WaitTimeout);
        Assert.DoesNotContain("Declare", whileRunning.Markup);
        Assert.Equal("No coverage reports: the jobs that declare them wrote none. Check the paths in the build settings against where the tools write.",
            TestResults.EmptyText("coverage reports", true, Status.Failed));
    }

    [Fact]
    public async Task The_tests_tab_shows_totals_and_failed_tests_first_with_their_message_and_output()
    {
        var buildId = await BuildWithAsync(
            new ParsedTestCase("calc", "adds", TestStatus.Passed, 20, null, null),
            new ParsedTestCase("calc", "divides", TestStatus.Failed, 3_000, "ZeroDivisionError: division by zero", "Traceback (most recent call last)"));

        var cut = Render(buildId);

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("Tests (1 failed)", cut.Markup);
            Assert.Contains("2 tests", cut.Find("[data-testid=test-totals]").TextContent);
            Assert.Contains("1 failed", cut.Find("[data-testid=test-totals]").TextContent);
            var failed = cut.Find("[data-testid=failed-tests]").TextContent;
            Assert.Contains("divides", failed);
            Assert.Contains("ZeroDivisionError: division by zero", failed);
            Assert.Contains("Traceback (most recent call last)", failed);
            Assert.DoesNotContain("adds", failed);
            Assert.StartsWith("divides", cut.Find("[data-testid=slowest-tests] tbody tr").TextContent.Trim());
        }, WaitTimeout);
    }

    [Fact]
    public async Task A_test_that_passed_and_failed_on_one_commit_is_marked_flaky_and_empty_builds_say_what_to_do()
    {
        // Two results on one commit, as when a rerun changed the outcome.
        var first = await BuildWithAsync(new ParsedTestCase("net", "connects", TestStatus.Failed, 5, "timeout", null));
        var firstJob = (await Db.Builds.JobsAsync(first))[0].Id;
        await _store.SaveAsync(first, firstJob, ReportKinds.JUnit, "again.xml", "", null,
            [new ParsedTestCase("net", "connects", TestStatus.Passed, 5, null, null)], null);
        var empty = await Db.CreateBuildAsync(_projectId, TestDatabase.OneJob());

        var cut = Render(first);
        var none = Render(empty);

        cut.WaitForAssertion(() => Assert.Contains("flaky", cut.Find("[data-testid=test-totals]").TextContent), WaitTimeout);
        Assert.Contains("Test reports", none.Find("[data-testid=tests-empty]").TextContent);
    }

    [Fact]
    public async Task The_coverage_trend_shows_the_default_branchs_builds_newest_first_with_their_change()
    {
        _projectId = await Db.CreateProjectAsync("shop");
        foreach (var covered in new[] { 50, 75 })
        {
            var buildId = await Db.CreateBuildAsync(_projectId, TestDatabase.OneJob());
            var jobId = (await Db.Builds.JobsAsync(buildId))[0].Id;
            await _store.SaveAsync(buildId, jobId, ReportKinds.Coverage, "coverage.xml", "", null, null,
                new ParsedCoverage(covered, 100, [new ParsedCoverageFile("a.py", covered, 100)]));
        }

        var cut = Render<CoverageTrend>(p => p.Add(c => c.ProjectId, _projectId).Add(c => c.ProjectSlug, "shop").Add(c => c.DefaultBranch, "main"));

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("75% of lines covered on main", cut.Markup);
            Assert.Contains("/badges/shop/coverage.svg", cut.Markup);
            var rows = cut.FindAll("tbody tr").Select(r => r.TextContent).ToList();
            Assert.Equal(2, rows.Count);
            Assert.Contains("+25%", rows[0]);
        }, WaitTimeout);
    }

    [Fact]
    public async Task The_coverage_trend_offers_the_other_branches_and_their_badge_url()
    {
        _projectId = await Db.CreateProjectAsync("shop");
        foreach (var (branch, covered) in new[] { ("main", 60), ("feature/x", 90) })
        {
            var buildId = await Db.CreateBuildAsync(_projectId, TestDatabase.OneJob(), branch);
            var jobId = (await Db.Builds.JobsAsync(buildId))[0].Id;
            await _store.SaveAsync(buildId, jobId, ReportKinds.Coverage, "coverage.xml", "", null, null,
                new ParsedCoverage(covered, 100, [new ParsedCoverageFile("a.py", covered, 100)]));
        }

        var cut = Render<CoverageTrend>(p => p.Add(c => c.ProjectId, _projectId).Add(c => c.ProjectSlug, "shop").Add(c => c.DefaultBranch, "main"));
        cut.WaitForAssertion(() => Assert.Contains("60% of lines covered on main", cut.Markup), WaitTimeout);
        await cut.InvokeAsync(() => cut.FindComponent<MudBlazor.MudSelect<string>>().Instance.ValueChanged.InvokeAsync("feature/x"));

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("90% of lines covered on feature/x", cut.Markup);
            Assert.Contains("/badges/shop/coverage.svg?branch=feature%2Fx", cut.Markup);
        }, WaitTimeout);
    }
}
