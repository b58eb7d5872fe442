using System.Text;
using Kaizen.Portal.TestReports;

namespace Kaizen.Portal.Tests.TestReports;

public sealed class ReportParsersTests
{
    private static MemoryStream Xml(string text) => new(Encoding.UTF8.GetBytes(text));

    private static string JUnitError(string text) =>
        Assert.Throws<ReportFormatException>(() => ReportParsers.ParseJUnit(Xml(text))).Message;

    [Fact]
    public void Failures_errors_skips_times_and_output_are_read()
    {
        var cases = ReportParsers.ParseJUnit(Xml("""
            <testsuites>
              <testsuite name="calc" tests="4">
                <testcase classname="calc.AddTests" name="adds" time="0.25"/>
                <testcase classname="calc.AddTests" name="overflows" time="1.5">
                  <failure message="expected 3 but was 4" type="AssertionError">Traceback: line 12</failure>
                  <system-out>printed by the test</system-out>
                </testcase>
                <testcase classname="calc.AddTests" name="crashes"><error>NullReferenceException
            at Calc.Add()</error></testcase>
                <testcase name="later"><skipped message="not today"/></testcase>
              </testsuite>
            </testsuites>
            """));

        Assert.Equal(4, cases.Count);
        Assert.Equal(new ParsedTestCase("calc.AddTests", "adds", TestStatus.Passed, 250, null, null), cases[0]);
        Assert.Equal((TestStatus.Failed, 1500L, "expected 3 but was 4"), (cases[1].Status, cases[1].DurationMs, cases[1].Message));
        Assert.Contains("Traceback: line 12", cases[1].Output);
        Assert.Contains("printed by the test", cases[1].Output);
        Assert.Equal((TestStatus.Failed, "error: NullReferenceException"), (cases[2].Status, cases[2].Message));
        Assert.Equal(("calc", TestStatus.Skipped, "not today"), (cases[3].Suite, cases[3].Status, cases[3].Message));
    }

    [Fact]
    public void Nested_suites_name_their_cases_by_the_innermost_suite()
    {
        var cases = ReportParsers.ParseJUnit(Xml("""
            <testsuite name="outer">
              <testsuite name="inner"><testcase name="a"/></testsuite>
              <testcase name="b"/>
            </testsuite>
            """));

        Assert.Equal([("inner", "a"), ("outer", "b")], cases.Select(c => (c.Suite, c.Name)));
    }

    [Fact]
    public void An_empty_suite_has_no_tests_and_an_empty_file_is_not_a_report()
    {
        Assert.Empty(ReportParsers.ParseJUnit(Xml("<testsuites/>")));
        Assert.Equal("not JUnit XML (the file is empty)", JUnitError(""));
    }

    [Theory]
    [InlineData("<testsuite><testcase name=\"a\">\n</testsuite>", "not JUnit XML (line 2:")]
    [InlineData("<html><body/></html>", "not JUnit XML (the root element is <html>")]
    [InlineData("just text", "not JUnit XML (line 1:")]
    public void Malformed_reports_say_what_is_wrong(string text, string expected) =>
        Assert.StartsWith(expected, JUnitError(text));

    [Fact]
    public void A_document_type_with_an_external_entity_is_refused_without_reading_the_entity()
    {
        var secret = Path.GetTempFileName();
        File.WriteAllText(secret, "do-not-read-me");
        var message = JUnitError($"""
            <?xml version="1.0"?>
            <!DOCTYPE testsuite [<!ENTITY leak SYSTEM "file://{secret}">]>
            <testsuite><testcase name="&leak;"/></testsuite>
            """);
        File.Delete(secret);

        Assert.Contains("DTDs are not allowed", message);
        Assert.DoesNotContain("do-not-read-me", message);
    }

    [Fact]
    public void Deep_nesting_and_too_many_cases_are_refused()
    {
        var deep = string.Concat(Enumerable.Repeat("<testsuite>", 100)) + string.Concat(Enumerable.Repeat("</testsuite>", 100));
        var many = "<testsuite>" + string.Concat(Enumerable.Repeat("<testcase name=\"t\"/>", ReportParsers.MaxTestCases + 1)) + "</testsuite>";

        Assert.Contains("nested more than", JUnitError(deep));
        Assert.Contains($"more than {ReportParsers.MaxTestCases} test cases", JUnitError(many));
    }

    [Fact]
    public void Huge_output_is_cut_keeping_its_start_and_end()
    {
        var output = "first line\n" + new string('x', 100_000) + "\nlast line";
        var single = Assert.Single(ReportParsers.ParseJUnit(Xml(
            $"<testsuite><testcase name=\"t\"><failure message=\"m\"/><system-out>{output}</system-out></testcase></testsuite>")));

        Assert.True(single.Output!.Length <= ReportParsers.MaxOutputChars);
        Assert.Contains("first line", single.Output);
        Assert.EndsWith("last line", single.Output);
        Assert.Contains("characters cut", single.Output);
    }

    [Fact]
    public void Cobertura_counts_each_files_lines_once_and_takes_the_tools_totals()
    {
        var coverage = ReportParsers.ParseCobertura(Xml("""
            <coverage line-rate="0.6" lines-covered="3" lines-valid="5">
              <packages><package name="p"><classes>
                <class name="A" filename="src/a.py"><lines><line number="1" hits="1"/><line number="2" hits="0"/></lines></class>
                <class name="A.Inner" filename="src/a.py"><lines><line number="2" hits="4"/></lines></class>
                <class name="B" filename="src/b.py"><lines><line number="1" hits="0"/><line number="2" hits="0"/><line number="3" hits="1"/></lines></class>
              </classes></package></packages>
            </coverage>
            """));

        Assert.Equal((3L, 5L, 60.0), (coverage.LinesCovered, coverage.LinesValid, coverage.Percent));
        Assert.Equal([new ParsedCoverageFile("src/a.py", 2, 2), new ParsedCoverageFile("src/b.py", 1, 3)], coverage.Files);
    }

    [Fact]
    public void Cobertura_without_totals_sums_its_files_and_junit_is_not_cobertura()
    {
        var coverage = ReportParsers.ParseCobertura(Xml(
            "<coverage><packages><package><classes><class filename=\"x.js\"><lines><line number=\"1\" hits=\"1\"/>" +
            "<line number=\"2\" hits=\"0\"/></lines></class></classes></package></packages></coverage>"));

        Assert.Equal(50.0, coverage.Percent);
        Assert.StartsWith("not Cobertura XML (the root element is <testsuite>",
            Assert.Throws<ReportFormatException>(() => ReportParsers.ParseCobertura(Xml("<testsuite/>"))).Message);
    }
}
