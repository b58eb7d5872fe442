using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Kaizen.Portal.TestReports;

/// <summary>One test case of a JUnit report. <see cref="Status"/> is one of <see cref="TestStatus"/>.</summary>
public sealed record ParsedTestCase(string Suite, string Name, string Status, long DurationMs, string? Message, string? Output);

/// <summary>Line coverage of one source file of a Cobertura report.</summary>
public sealed record ParsedCoverageFile(string Filename, long LinesCovered, long LinesValid);

/// <summary>A Cobertura report: the totals (as the tool wrote them, else summed over files) and each file.</summary>
public sealed record ParsedCoverage(long LinesCovered, long LinesValid, IReadOnlyList<ParsedCoverageFile> Files)
{
    /// <summary>Covered lines as a percentage (0 when there are no lines).</summary>
    public double Percent => LinesValid == 0 ? 0 : 100.0 * LinesCovered / LinesValid;
}

public static class TestStatus
{
    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
}

/// <summary>A report file that is not what it claims to be; the message says why, for the job's log.</summary>
public sealed class ReportFormatException(string message) : Exception(message);

/// <summary>
/// Reads JUnit XML (pytest, jest-junit, gradle, dotnet's JUnit logger) and Cobertura XML (coverage.py, jest, coverlet).
/// Reports come from the jobs' own code, so they are untrusted: no DTDs or external entities, a cap on size, depth,
/// test cases and the text kept per test. Anything else surfaces as a <see cref="ReportFormatException"/>.
/// </summary>
public static class ReportParsers
{
    public const int MaxDepth = 64;
    public const int MaxTestCases = 20_000;
    public const int MaxMessageChars = 2_000;
    public const int MaxOutputChars = 8_000;
    public const int MaxCoverageFiles = 20_000;
    private const long MaxCharacters = 64L << 20;

    public static IReadOnlyList<ParsedTestCase> ParseJUnit(Stream xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        return Read(xml, "JUnit XML", reader =>
        {
            if (reader.LocalName is not ("testsuites" or "testsuite"))
                throw new ReportFormatException($"not JUnit XML (the root element is <{reader.LocalName}>, not <testsuites> or <testsuite>)");
            var cases = new List<ParsedTestCase>();
            var suites = new Stack<string>();
            while (!reader.EOF)
            {
                CheckDepth(reader);
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "testcase")
                {
                    if (cases.Count >= MaxTestCases)
                        throw new ReportFormatException($"more than {MaxTestCases} test cases in one file");
                    var element = (XElement)XNode.ReadFrom(reader);
                    cases.Add(TestCase(element, suites.Count > 0 ? suites.Peek() : ""));
                    continue;
                }
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "testsuite" && !reader.IsEmptyElement)
                    suites.Push(reader.GetAttribute("name") ?? "");
                else if (reader.NodeType == XmlNodeType.EndElement && reader.LocalName == "testsuite" && suites.Count > 0)
                    suites.Pop();
                reader.Read();
            }
            return cases;
        });
    }

    public static ParsedCoverage ParseCobertura(Stream xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        return Read(xml, "Cobertura XML", reader =>
        {
            if (reader.LocalName != "coverage")
                throw new ReportFormatException($"not Cobertura XML (the root element is <{reader.LocalName}>, not <coverage>)");
            var rootCovered = Long(reader.GetAttribute("lines-covered"));
            var rootValid = Long(reader.GetAttribute("lines-valid"));
            var rootRate = Double(reader.GetAttribute("line-rate"));
            // Several classes (and packages) may share a file; its lines are counted once.
            var files = new Dictionary<string, Dictionary<long, bool>>(StringComparer.Ordinal);
            while (!reader.EOF)
            {
                CheckDepth(reader);
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "class")
                {
                    var element = (XElement)XNode.ReadFrom(reader);
                    var filename = (string?)element.Attribute("filename") ?? (string?)element.Attribute("name") ?? "";
                    if (!files.TryGetValue(filename, out var lines))
                    {
                        if (files.Count >= MaxCoverageFiles)
                            throw new ReportFormatException($"more than {MaxCoverageFiles} files in one coverage report");
                        files[filename] = lines = [];
                    }
                    foreach (var line in element.Elements("lines").Elements("line"))
                    {
                        if (Long((string?)line.Attribute("number")) is not { } number) continue;
                        var hit = Long((string?)line.Attribute("hits")) is > 0;
                        lines[number] = lines.TryGetValue(number, out var before) ? before || hit : hit;
                    }
                    continue;
                }
                reader.Read();
            }
            var parsed = files
                .Select(f => new ParsedCoverageFile(f.Key, f.Value.Count(l => l.Value), f.Value.Count))
                .OrderBy(f => f.Filename, StringComparer.Ordinal)
                .ToList();
            long covered = parsed.Sum(f => f.LinesCovered), valid = parsed.Sum(f => f.LinesValid);
            if (rootCovered is { } c && rootValid is { } v && v > 0)
                (covered, valid) = (c, v);
            else if (valid == 0 && rootRate is { } rate)
                // Only a rate, no line counts: keep the rate as a share of 10,000 "lines".
                (covered, valid) = ((long)Math.Round(Math.Clamp(rate, 0, 1) * 10_000), 10_000);
            if (covered < 0 || valid < 0 || covered > valid)
                throw new ReportFormatException($"not Cobertura XML (lines-covered {covered} is not between 0 and lines-valid {valid})");
            return new ParsedCoverage(covered, valid, parsed);
        });
    }

    private static T Read<T>(Stream xml, string format, Func<XmlReader, T> parse)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxCharacters,
            MaxCharactersFromEntities = 1024,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
        };
        try
        {
            using var reader = XmlReader.Create(xml, settings);
            if (reader.MoveToContent() != XmlNodeType.Element)
                throw new ReportFormatException($"not {format} (the file is empty)");
            return parse(reader);
        }
        catch (XmlException ex)
        {
            var detail = ex.Message.Length > 300 ? ex.Message[..300] + "…" : ex.Message;
            if (ex.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase)) detail = "DTDs are not allowed";
            if (ex.Message.Contains("Root element is missing", StringComparison.Ordinal))
                throw new ReportFormatException($"not {format} (the file is empty)");
            throw new ReportFormatException(ex.LineNumber > 0
                ? $"not {format} (line {ex.LineNumber}: {detail})"
                : $"not {format} ({detail})");
        }
    }

    private static void CheckDepth(XmlReader reader)
    {
        if (reader.Depth > MaxDepth) throw new ReportFormatException($"elements are nested more than {MaxDepth} deep");
    }

    private static ParsedTestCase TestCase(XElement element, string suite)
    {
        var name = (string?)element.Attribute("name") ?? "";
        var classname = (string?)element.Attribute("classname");
        var durationMs = Double((string?)element.Attribute("time")) is { } seconds && seconds >= 0
            ? (long)Math.Round(Math.Min(seconds, 1e9) * 1000)
            : 0;
        var problem = element.Element("failure") ?? element.Element("error");
        var status = problem is not null ? TestStatus.Failed
            : element.Element("skipped") is not null ? TestStatus.Skipped
            : TestStatus.Passed;
        var noted = problem ?? element.Element("skipped");
        string? message = null;
        var output = new List<string>();
        if (noted is not null)
        {
            var text = noted.Value.Trim();
            message = (string?)noted.Attribute("message") is { Length: > 0 } m ? m : FirstLine(text);
            if (problem?.Name.LocalName == "error" && message is not null && !message.StartsWith("error", StringComparison.OrdinalIgnoreCase))
                message = $"error: {message}";
            if (text.Length > 0) output.Add(text);
        }
        foreach (var stream in new[] { "system-out", "system-err" })
        {
            var text = string.Join("\n", element.Elements(stream).Select(e => e.Value.Trim()).Where(t => t.Length > 0));
            if (text.Length > 0) output.Add($"--- {stream} ---\n{text}");
        }
        return new ParsedTestCase(
            Truncate(string.IsNullOrEmpty(classname) ? suite : classname, 400),
            Truncate(name, 400),
            status,
            durationMs,
            message is null ? null : Truncate(message, MaxMessageChars),
            output.Count == 0 ? null : Truncate(string.Join("\n", output), MaxOutputChars));
    }

    private static string? FirstLine(string text)
    {
        if (text.Length == 0) return null;
        var end = text.IndexOf('\n');
        return end < 0 ? text : text[..end].TrimEnd();
    }

    /// <summary>Keeps the end of long text too: the last lines of a stack trace or output usually matter most.</summary>
    public static string Truncate(string text, int max)
    {
        if (text.Length <= max) return text;
        var half = (max - 40) / 2;
        return $"{text[..half]}\n… ({text.Length - 2 * half} characters cut) …\n{text[^half..]}";
    }

    private static double? Double(string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;

    private static long? Long(string? value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;
}
