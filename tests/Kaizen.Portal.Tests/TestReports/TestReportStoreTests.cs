using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Data;
using Kaizen.Portal.TestReports;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Tests.TestReports;

public sealed class TestReportStoreTests
{
    private static readonly BuildSettings WithReports = new([],
        [new JobSettings("test", ["pytest"], TestReports: ["reports/*.xml"], Coverage: ["coverage.xml"])], []);

    private static MemoryStream Text(string text) => new(Encoding.UTF8.GetBytes(text));

    private const string JUnit =
        "<testsuite name=\"s\"><testcase classname=\"c\" name=\"ok\" time=\"0.2\"/>" +
        "<testcase classname=\"c\" name=\"broken\" time=\"1\"><failure message=\"boom\"/></testcase></testsuite>";

    private const string Cobertura =
        "<coverage lines-covered=\"3\" lines-valid=\"4\"><packages><package><classes><class filename=\"a.py\"><lines>" +
        "<line number=\"1\" hits=\"1\"/><line number=\"2\" hits=\"1\"/><line number=\"3\" hits=\"1\"/><line number=\"4\" hits=\"0\"/>" +
        "</lines></class></classes></package></packages></coverage>";

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_claimed_job_carries_its_report_globs_and_only_its_runner_may_upload(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop", WithReports);
        var buildId = await test.CreateBuildAsync(projectId, WithReports);
        var runner = await test.RegisterRunnerAsync("r1");
        var other = await test.RegisterRunnerAsync("r2");
        var service = new TestResultService(new TestReportStore(test.Database, test.Clock));

        // Act
        var job = (await test.Runners.ClaimAsync(runner, TestDatabase.LeaseSeconds))!;
        var refused = await service.ReceiveAsync(other, job.JobId, ReportKinds.JUnit, "reports/a.xml", null, Text(JUnit), default);
        var junit = await service.ReceiveAsync(runner, job.JobId, ReportKinds.JUnit, "reports/a.xml", null, Text(JUnit), default);
        var coverage = await service.ReceiveAsync(runner, job.JobId, ReportKinds.Coverage, "coverage.xml", null, Text(Cobertura), default);
        var huge = await service.ReceiveAsync(runner, job.JobId, ReportKinds.JUnit, "reports/huge.xml", ReportKinds.MaxFileBytes + 1,
            Text(""), default);
        var tests = await service.BuildTestsAsync(projectId, buildId);
        var summary = await service.CoverageAsync(buildId);
        var trend = await service.CoverageTrendAsync(projectId, "main");

        // Assert
        Assert.Equal([new ReportSpec(ReportKinds.JUnit, "reports/*.xml"), new ReportSpec(ReportKinds.Coverage, "coverage.xml")], job.Reports);
        Assert.Equal(410, refused.StatusCode);
        Assert.Equal(new ReportUploadResponse(true, "2 tests, 1 failed"), junit.Response);
        Assert.Equal(new ReportUploadResponse(true, "75% of lines covered (3 of 4, 1 files)"), coverage.Response);
        Assert.Equal(new ReportUploadResponse(false, "too large (over 20 MB), not read"), huge.Response);
        Assert.Equal(new TestTotals(2, 1, 1, 0, 1200), tests.Totals);
        Assert.Equal(["broken", "ok"], tests.Tests.Select(t => t.Name));
        Assert.Equal("boom", tests.Tests[0].Message);
        Assert.Equal(["broken", "ok"], tests.Slowest.Select(t => t.Name));
        Assert.Equal([null, null, "too large (over 20 MB), not read"], tests.Reports.Select(r => r.Problem));
        Assert.Equal((3L, 4L, 75.0), (summary!.LinesCovered, summary.LinesValid, summary.Percent));
        Assert.Equal([("a.py", 75.0)], summary.Files.Select(f => (f.Filename, f.Percent)));
        Assert.Equal(75.0, Assert.Single(trend).Percent);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task History_spans_the_projects_recent_builds_and_marks_flaky_tests(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var projectId = await test.CreateProjectAsync("shop", WithReports);
        var store = new TestReportStore(test.Database, test.Clock);
        var service = new TestResultService(store);
        var builds = new List<long>();
        foreach (var status in new[] { TestStatus.Passed, TestStatus.Failed, TestStatus.Passed })
        {
            var buildId = await test.CreateBuildAsync(projectId, WithReports);
            var jobId = (await test.Builds.JobsAsync(buildId))[0].Id;
            await store.SaveAsync(buildId, jobId, ReportKinds.JUnit, "r.xml", "1 test", null,
                [new ParsedTestCase("c", "t", status, 5, null, null), new ParsedTestCase("c", "steady", TestStatus.Passed, 1, null, null)], null);
            builds.Add(buildId);
        }

        // Act
        var tests = await service.BuildTestsAsync(projectId, builds[^1]);
        var (runs, reason) = await service.HistoryAsync(projectId, "c", "t");

        // Assert
        Assert.Equal("alternated between passing and failing on main", tests.Tests.Single(t => t.Name == "t").FlakyReason);
        Assert.False(tests.Tests.Single(t => t.Name == "steady").Flaky);
        Assert.Equal(builds, runs.Select(r => r.BuildId));
        Assert.NotNull(reason);
    }
}
