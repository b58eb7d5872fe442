using Kaizen.Portal.Builds;
using Kaizen.Portal.Plugins;
using Kaizen.Runner.Protocol;
using Kaizen.Sdk;

namespace Kaizen.Portal.Tests.TestReports;

public sealed class ReportSettingsTests
{
    private static BuildSettings Job(string[]? testReports = null, string[]? coverage = null) =>
        new([], [new JobSettings("test", ["pytest"], testReports, coverage)], []);

    [Fact]
    public void A_plugins_junit_and_coverage_files_become_the_rendered_jobs_reports()
    {
        var stack = new DetectedStack("python", "python", "cli", "tox");
        var plan = new BuildPlan([], [], [],
            [new JobSpec("py36", ["tox -e py36"], ["cli/test-reports/py36.xml"]) { Coverage = ["cli/coverage.xml"] }, new JobSpec("lint", ["flake8"])]);

        var jobs = StackService.Render(stack, plan);

        Assert.Equal(["cli/test-reports/py36.xml"], jobs[0].TestReports);
        Assert.Equal(["cli/coverage.xml"], jobs[0].Coverage);
        Assert.Null(jobs[1].TestReports);
        Assert.Null(jobs[1].Coverage);
    }

    [Theory]
    [InlineData("/etc/passwd", "must be relative to the workspace")]
    [InlineData("../outside/*.xml", "must stay inside the workspace")]
    [InlineData("reports/../../x.xml", "must stay inside the workspace")]
    [InlineData("C:/reports/x.xml", "must be relative to the workspace")]
    [InlineData(" ", "a pattern is empty")]
    public void Report_patterns_must_stay_in_the_workspace(string pattern, string expected)
    {
        Assert.Contains(Job(testReports: [pattern]).Validate(), e => e.Contains("testReports") && e.Contains(expected));
        Assert.Contains(Job(coverage: [pattern]).Validate(), e => e.Contains("coverage") && e.Contains(expected));
    }

    [Fact]
    public void Relative_globs_are_valid_and_become_the_jobs_report_specs()
    {
        var settings = Job(testReports: ["reports/**/*.xml"], coverage: ["coverage.xml"]);

        Assert.Empty(settings.Validate());
        Assert.Equal([new ReportSpec(ReportKinds.JUnit, "reports/**/*.xml"), new ReportSpec(ReportKinds.Coverage, "coverage.xml")],
            settings.Jobs[0].ReportSpecs());
        Assert.Null(Job().Jobs[0].ReportSpecs());
    }

    [Fact]
    public void Report_globs_survive_a_yaml_export_and_import_and_jobs_without_them_export_as_before()
    {
        var settings = Job(testReports: ["reports/*.xml"], coverage: ["coverage.xml"]);

        var yaml = BuildSettingsYaml.ToYaml(settings);
        var back = BuildSettingsYaml.FromYaml(yaml);

        Assert.Contains("testReports:", yaml);
        Assert.Equal(["reports/*.xml"], back.Settings!.Jobs[0].TestReports);
        Assert.Equal(["coverage.xml"], back.Settings.Jobs[0].Coverage);
        Assert.DoesNotContain("testReports", BuildSettingsYaml.ToYaml(Job()));
    }
}
