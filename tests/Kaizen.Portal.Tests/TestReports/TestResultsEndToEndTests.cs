using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.TestReports;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.TestReports;

/// <summary>Real jobs write real reports; the runner uploads them and the portal shows tests, flaky marks and coverage.</summary>
public sealed class TestResultsEndToEndTests : IAsyncLifetime
{
    private GitRepo _repo = null!;

    public async Task InitializeAsync() => _repo = await GitRepo.CreateAsync("main");

    public Task DisposeAsync()
    {
        _repo.Dispose();
        return Task.CompletedTask;
    }

    private static object Settings(string[] commands, string[]? testReports = null, string[]? coverage = null) => new
    {
        setup = Array.Empty<string>(),
        jobs = new[] { new { name = "test", commands, testReports, coverage } },
        epilogue = Array.Empty<string>(),
    };

    /// <summary>A python3 that has pytest (the one on PATH may not); null when there is none.</summary>
    private static string? PythonWithPytest()
    {
        foreach (var python in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(python, "-m pytest --version")
                {
                    RedirectStandardOutput = true, RedirectStandardError = true,
                })!;
                process.WaitForExit();
                if (process.ExitCode == 0) return python;
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
        }
        return null;
    }

    private static async Task<BuildTests> TestsAsync(HttpClient client, long buildId) =>
        (await client.GetFromJsonAsync<BuildTests>($"/api/v1/builds/{buildId}/tests"))!;

    private const string PytestFile = """
        import pytest

        def test_adds():
            assert 1 + 1 == 2

        def test_greets():
            print("about to compare greetings")
            assert "hello" == "goodbye", "greetings differ"

        @pytest.mark.skip(reason="not today")
        def test_later():
            pass
        """;

    [SkippableFact]
    public async Task A_pytest_run_shows_its_tests_with_the_failure_message_and_output()
    {
        var python = PythonWithPytest();
        Skip.If(python is null, "pytest is not installed");
        await _repo.CommitAsync("Tests", ("test_sample.py", PytestFile));
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Pytest", _repo.Path, Settings(
            [$"{python} -m pytest -p no:cacheprovider --junitxml=reports/junit.xml test_sample.py"], testReports: ["reports/*.xml"]));

        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        var tests = await TestsAsync(portal.Api, build.Id);
        var log = await portal.LogAsync(build.Jobs[0].Id);

        Assert.Equal(Status.Failed, build.Status);
        Assert.Contains("test report: reports/junit.xml (3 tests, 1 failed, 1 skipped)", log);
        Assert.Equal(new TestTotals(3, 1, 1, 1, tests.Totals.DurationMs), tests.Totals);
        var failed = tests.Tests[0];
        Assert.Equal(("test_sample", "test_greets", TestStatus.Failed), (failed.Suite, failed.Name, failed.Status));
        Assert.Contains("greetings differ", failed.Message);
        Assert.Contains("about to compare greetings", failed.Output);
        Assert.Contains(tests.Tests, t => t is { Name: "test_later", Status: TestStatus.Skipped });
        Assert.Equal("reports/junit.xml", Assert.Single(tests.Reports).Path);
    }

    [SkippableFact]
    public async Task A_test_that_fails_then_passes_on_the_same_commit_is_marked_flaky()
    {
        var python = PythonWithPytest();
        Skip.If(python is null, "pytest is not installed");
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        // The first run leaves a mark outside the workspace (which each job gets afresh); the rerun finds it and passes.
        var mark = Path.Combine(portal.Exchange, $"flaky-{Guid.NewGuid():N}");
        await _repo.CommitAsync("Flaky", ("test_flaky.py", $$"""
            import os

            MARK = {{System.Text.Json.JsonSerializer.Serialize(mark)}}

            def test_steady():
                assert True

            def test_racy():
                if not os.path.exists(MARK):
                    open(MARK, "w").close()
                    assert False, "lost the race"
            """));
        var slug = await portal.CreateProjectAsync("Flaky", _repo.Path, Settings(
            [$"{python} -m pytest -p no:cacheprovider --junitxml=junit.xml test_flaky.py"], testReports: ["junit.xml"]));

        var first = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        var rerun = await portal.Api.PostAsync($"/api/v1/builds/{first.Id}/rerun", null);
        var second = await portal.WaitForBuildAsync((await rerun.Content.ReadFromJsonAsync<CreatedResponse>())!.Id);
        var tests = await TestsAsync(portal.Api, second.Id);
        var history = (await portal.Api.GetFromJsonAsync<TestHistoryResponse>(
            $"/api/v1/projects/{slug}/tests/history?suite=test_flaky&name=test_racy"))!;

        Assert.Equal((Status.Failed, Status.Passed), (first.Status, second.Status));
        var racy = Assert.Single(tests.Tests, t => t.Name == "test_racy");
        Assert.True(racy.Flaky);
        Assert.Contains("passed and failed on commit", racy.FlakyReason);
        Assert.False(Assert.Single(tests.Tests, t => t.Name == "test_steady").Flaky);
        Assert.True(history.Flaky);
        Assert.Equal([TestStatus.Failed, TestStatus.Passed], history.Runs.Select(r => r.Status));
        File.Delete(mark);
    }

    /// <summary>
    /// In the shape coverage.py 7 writes (fixed, so the figures do not depend on the installed coverage.py version):
    /// 6 of 8 lines covered, 75%, over two files.
    /// </summary>
    private const string CoberturaFile = """
        <?xml version="1.0" ?>
        <coverage version="7.4.0" timestamp="1732700000000" lines-valid="8" lines-covered="6" line-rate="0.75" branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">
            <sources>
                <source>/work/app</source>
            </sources>
            <packages>
                <package name="app" line-rate="0.75" branch-rate="0" complexity="0">
                    <classes>
                        <class name="calc.py" filename="app/calc.py" complexity="0" line-rate="1" branch-rate="0">
                            <methods/>
                            <lines>
                                <line number="1" hits="1"/>
                                <line number="2" hits="1"/>
                                <line number="4" hits="3"/>
                                <line number="5" hits="3"/>
                            </lines>
                        </class>
                        <class name="io.py" filename="app/io.py" complexity="0" line-rate="0.5" branch-rate="0">
                            <methods/>
                            <lines>
                                <line number="1" hits="1"/>
                                <line number="3" hits="1"/>
                                <line number="7" hits="0"/>
                                <line number="8" hits="0"/>
                            </lines>
                        </class>
                    </classes>
                </package>
            </packages>
        </coverage>
        """;

    [Fact]
    public async Task A_coverage_report_gives_the_build_its_percentage_per_file_and_a_badge()
    {
        await _repo.CommitAsync("Coverage", ("coverage.xml", CoberturaFile));
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Covered", _repo.Path, Settings(["true"], coverage: ["coverage.xml"]), isPublic: true);

        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        var coverage = (await portal.Api.GetFromJsonAsync<CoverageSummary>($"/api/v1/builds/{build.Id}/coverage"))!;
        var trend = (await portal.Api.GetFromJsonAsync<CoverageTrendResponse>($"/api/v1/projects/{slug}/coverage?branch=main"))!;
        using var anonymous = new HttpClient { BaseAddress = portal.BaseUrl };
        var badge = await anonymous.GetAsync($"/badges/{slug}/coverage.svg");
        var log = await portal.LogAsync(build.Jobs[0].Id);

        Assert.Equal(Status.Passed, build.Status);
        Assert.Equal((6, 8, 75.0), (coverage.LinesCovered, coverage.LinesValid, coverage.Percent));
        Assert.Equal([("app/calc.py", 100.0), ("app/io.py", 50.0)], coverage.Files.Select(f => (f.Filename, f.Percent)));
        Assert.Equal(75.0, Assert.Single(trend.Points).Percent);
        Assert.Contains("coverage report: coverage.xml (75% of lines covered (6 of 8, 2 files))", log);
        Assert.Equal(HttpStatusCode.OK, badge.StatusCode);
        Assert.Contains(">75%<", await badge.Content.ReadAsStringAsync());
        Assert.True(badge.Headers.CacheControl is { NoCache: true, MustRevalidate: true });
    }

    [SkippableFact]
    public async Task A_real_coverage_py_run_gives_the_build_the_figures_coverage_py_reports()
    {
        Plugins.Toolchain.Require("apt-get install python3-coverage python3-pytest", "python3-coverage");
        var python = PythonWithPytest();
        Skip.If(python is null, "pytest is not installed");
        // calc.py: 4 statements, `unused`'s body never runs (3 of 4); text.py: 2 of 2; __init__.py: no statements.
        await _repo.CommitAsync("Covered code", ("app/__init__.py", ""),
            ("app/calc.py", "def add(a, b):\n    return a + b\n\n\ndef unused():\n    return 1\n"),
            ("app/text.py", "def shout(s):\n    return s.upper()\n"),
            ("test_app.py", "from app.calc import add\nfrom app.text import shout\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n" +
                            "def test_shout():\n    assert shout('hi') == 'HI'\n"));
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Coverage.py", _repo.Path, Settings(
            ["python3-coverage run --source=app -m pytest -q -p no:cacheprovider test_app.py",
             "python3-coverage xml -o reports/coverage.xml", "python3-coverage report"],
            coverage: ["reports/coverage.xml"]));

        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        var coverage = (await portal.Api.GetFromJsonAsync<CoverageSummary>($"/api/v1/builds/{build.Id}/coverage"))!;
        var log = await portal.LogAsync(build.Jobs[0].Id);

        Assert.Equal(Status.Passed, build.Status);
        Assert.Matches(@"TOTAL\s+6\s+1\s+83%", log); // coverage.py's own report, for comparison
        Assert.Equal((5, 6, 83.33), (coverage.LinesCovered, coverage.LinesValid, coverage.Percent));
        Assert.Equal([("app/__init__.py", 100.0), ("app/calc.py", 75.0), ("app/text.py", 100.0)],
            coverage.Files.Select(f => (f.Filename, f.Percent)));
        Assert.Contains("coverage report: reports/coverage.xml (83.3% of lines covered (5 of 6, 3 files))", log);
    }

    [Fact]
    public async Task A_malformed_or_missing_report_is_noted_on_the_job_and_changes_nothing_else()
    {
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Broken", _repo.Path, Settings(
            ["mkdir -p out && printf '<testsuite>\\n<testcase name=\"a\">\\n</testsuite>\\n' > out/bad.xml"],
            testReports: ["out/bad.xml", "nowhere/*.xml"]));

        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        var log = await portal.LogAsync(build.Jobs[0].Id);
        var tests = await TestsAsync(portal.Api, build.Id);

        Assert.Equal(Status.Passed, build.Status);
        Assert.Contains("test report out/bad.xml: not JUnit XML (line 3:", log);
        Assert.Contains("test report nowhere/*.xml: no file matches", log);
        Assert.Empty(tests.Tests);
        Assert.StartsWith("not JUnit XML", Assert.Single(tests.Reports).Problem);
    }

    [Fact]
    public async Task Anonymous_visitors_see_a_public_projects_test_results_but_not_a_private_ones()
    {
        await _repo.CommitAsync("Report", ("junit.xml",
            "<testsuites><testsuite name=\"s\"><testcase classname=\"c\" name=\"works\" time=\"0.01\"/></testsuite></testsuites>"),
            ("coverage.xml", CoberturaFile));
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var settings = Settings(["true"], testReports: ["junit.xml"], coverage: ["coverage.xml"]);
        var open = await portal.CreateProjectAsync("Open", _repo.Path, settings, isPublic: true);
        var closed = await portal.CreateProjectAsync("Closed", _repo.Path, settings, isPublic: false);
        var openBuild = await portal.WaitForBuildAsync(await portal.StartBuildAsync(open));
        var closedBuild = await portal.WaitForBuildAsync(await portal.StartBuildAsync(closed));
        using var anonymous = new HttpClient { BaseAddress = portal.BaseUrl };

        var openTests = await TestsAsync(anonymous, openBuild.Id);

        Assert.Equal("works", Assert.Single(openTests.Tests).Name);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/api/v1/builds/{openBuild.Id}/coverage")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/api/v1/projects/{open}/tests/history?suite=c&name=works")).StatusCode);
        foreach (var url in new[]
                 {
                     $"/api/v1/builds/{closedBuild.Id}/tests", $"/api/v1/builds/{closedBuild.Id}/coverage",
                     $"/api/v1/projects/{closed}/tests/history?suite=c&name=works", $"/api/v1/projects/{closed}/coverage",
                     $"/badges/{closed}/coverage.svg",
                 })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(url)).StatusCode);
        }
        Assert.Single((await TestsAsync(portal.Api, closedBuild.Id)).Tests);
    }

    [Fact]
    public async Task A_secret_with_an_ampersand_and_a_less_than_sign_in_a_JUnit_report_is_masked_on_the_tests_tab()
    {
        // The report holds the secret as XML entities (&amp; &lt;), which the runner's masking of the raw bytes cannot
        // recognize; the texts the portal parses out of it hold the secret itself.
        await _repo.CommitAsync("Report", ("report.sh", """
            set -eu
            escaped=$(printf '%s' "$LOGIN_PASSWORD" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g')
            mkdir -p reports
            cat > reports/junit.xml <<EOF
            <?xml version="1.0" encoding="utf-8"?>
            <testsuite name="login" tests="2" failures="1">
              <testcase classname="login.$escaped" name="signs in with $escaped" time="0.1"/>
              <testcase classname="login" name="refuses a wrong password" time="0.2">
                <failure message="expected $escaped to be refused">at login($escaped)</failure>
                <system-out>password=$escaped</system-out>
                <system-err>warning: $escaped</system-err>
              </testcase>
            </testsuite>
            EOF
            grep -c '&amp;' reports/junit.xml
            """));
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Entities", _repo.Path, Settings(["bash report.sh"], testReports: ["reports/*.xml"]));
        var secret = $"p&ss<w0rd>{Guid.NewGuid():N}";
        Assert.True((await portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/secrets/LOGIN_PASSWORD", new { value = secret })).IsSuccessStatusCode);

        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug));
        var tests = await TestsAsync(portal.Api, build.Id);
        var json = await portal.Api.GetStringAsync($"/api/v1/builds/{build.Id}/tests");

        Assert.Equal(Status.Passed, build.Status);
        Assert.Equal(new TestTotals(2, 1, 1, 0, tests.Totals.DurationMs), tests.Totals);
        var failed = tests.Tests[0];
        Assert.Equal("expected *** to be refused", failed.Message);
        Assert.Equal("at login(***)\n--- system-out ---\npassword=***\n--- system-err ---\nwarning: ***", failed.Output);
        var passed = tests.Tests[1];
        Assert.Equal(("login.***", "signs in with ***"), (passed.Suite, passed.Name));
        Assert.DoesNotContain(secret, json);
        Assert.DoesNotContain(System.Text.Json.JsonSerializer.Serialize(secret)[1..^1], json);
        Assert.DoesNotContain(secret, await portal.LogAsync(build.Jobs[0].Id));
    }
}
