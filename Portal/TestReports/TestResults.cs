using System.Globalization;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.TestReports;

public sealed record TestTotals(int Total, int Passed, int Failed, int Skipped, long DurationMs);

/// <summary>One test of a build. <see cref="FlakyReason"/> says why it is marked flaky (null: it is not).</summary>
public sealed record TestResultItem(long JobId, string JobName, string Suite, string Name, string Status, long DurationMs,
    string? Message, string? Output, string? FlakyReason)
{
    public bool Flaky => FlakyReason is not null;
}

/// <summary>A report file of a job as read: its summary, or its <see cref="Problem"/> (malformed, too large).</summary>
public sealed record ReportNote(long JobId, string JobName, string Kind, string Path, string Summary, string? Problem);

/// <summary>
/// A build's tests: totals, every test with the failed ones first, the slowest, and the report files as read.
/// </summary>
public sealed record BuildTests(TestTotals Totals, IReadOnlyList<TestResultItem> Tests, IReadOnlyList<TestResultItem> Slowest,
    IReadOnlyList<ReportNote> Reports)
{
    public int Flaky => Tests.Count(t => t.Flaky);
}

public sealed record CoverageFile(string Filename, long LinesCovered, long LinesValid, double Percent);

public sealed record CoverageSummary(long LinesCovered, long LinesValid, double Percent, IReadOnlyList<CoverageFile> Files);

public sealed record CoveragePoint(long BuildId, string Branch, string CommitSha, DateTimeOffset QueuedAt, long LinesCovered,
    long LinesValid, double Percent);

public sealed record TestRun(long BuildId, string Branch, string CommitSha, string Status, long DurationMs);

/// <summary>How the portal answered an upload: an HTTP status and, when accepted, what goes in the job's log.</summary>
public sealed record ReportReceipt(int StatusCode, ReportUploadResponse? Response, string? Error = null);

/// <summary>Receives the jobs' report files and answers what a build's tests and coverage were.</summary>
public sealed class TestResultService(TestReportStore store)
{
    public const int SlowestCount = 10;

    /// <summary>
    /// Reads one report file of a running job (only its runner may send it). A file that is too large or not the
    /// format it claims is recorded as such on the job, never an error of the portal. Every text read from it is
    /// masked with <paramref name="masker"/> (the job's secrets) before it is stored.
    /// </summary>
    public async Task<ReportReceipt> ReceiveAsync(long runnerId, long jobId, string? kind, string? path, long? declaredBytes,
        Stream body, CancellationToken ct, SecretMasker? masker = null)
    {
        masker ??= new SecretMasker();
        ArgumentNullException.ThrowIfNull(body);
        if (kind is not (ReportKinds.JUnit or ReportKinds.Coverage))
            return new(400, null, $"kind must be {ReportKinds.JUnit} or {ReportKinds.Coverage}.");
        if (string.IsNullOrWhiteSpace(path) || path.Length > 1000 || path.Any(char.IsControl))
            return new(400, null, "path must be the report's path in the workspace (at most 1000 characters).");
        path = masker.MaskText(path)!;
        var job = await store.JobAsync(jobId, ct);
        if (job is null || job.RunnerId != runnerId || job.Status != Builds.Status.Running)
            return new(410, null, $"Job {jobId} is not running on this runner.");
        if (await store.CountOfJobAsync(jobId, ct) >= ReportKinds.MaxFilesPerJob)
            return new(409, null, $"A job may upload at most {ReportKinds.MaxFilesPerJob} report files.");

        var content = await ReadCappedAsync(body, ct);
        if (content is null || declaredBytes > ReportKinds.MaxFileBytes)
        {
            var problem = $"too large (over {ReportKinds.MaxFileBytes >> 20} MB), not read";
            await store.SaveAsync(job.BuildId, jobId, kind, path, problem, problem, null, null, ct);
            return new(200, new ReportUploadResponse(false, problem));
        }

        try
        {
            if (kind == ReportKinds.JUnit)
            {
                var cases = Masked(ReportParsers.ParseJUnit(content), masker);
                var summary = Describe(cases);
                await store.SaveAsync(job.BuildId, jobId, kind, path, summary, null, cases, null, ct);
                return new(200, new ReportUploadResponse(true, summary));
            }
            var coverage = Masked(ReportParsers.ParseCobertura(content), masker);
            var text = Describe(coverage);
            await store.SaveAsync(job.BuildId, jobId, kind, path, text, null, null, coverage, ct);
            return new(200, new ReportUploadResponse(true, text));
        }
        catch (ReportFormatException ex)
        {
            // The parser's message may quote the file (an unknown element, a bad value).
            var problem = masker.MaskText(ex.Message)!;
            await store.SaveAsync(job.BuildId, jobId, kind, path, problem, problem, null, null, ct);
            return new(200, new ReportUploadResponse(false, problem));
        }
    }

    /// <summary>The cases with the job's secrets masked in every text the report gave (entities already decoded).</summary>
    private static IReadOnlyList<ParsedTestCase> Masked(IReadOnlyList<ParsedTestCase> cases, SecretMasker masker) =>
        masker.IsEmpty
            ? cases
            : [.. cases.Select(c => c with
            {
                Suite = masker.MaskText(c.Suite)!,
                Name = masker.MaskText(c.Name)!,
                Message = masker.MaskText(c.Message),
                Output = masker.MaskText(c.Output),
            })];

    private static ParsedCoverage Masked(ParsedCoverage coverage, SecretMasker masker) =>
        masker.IsEmpty
            ? coverage
            : coverage with { Files = [.. coverage.Files.Select(f => f with { Filename = masker.MaskText(f.Filename)! })] };

    /// <summary>The body when it is within <see cref="ReportKinds.MaxFileBytes"/>; null when it is larger.</summary>
    private static async Task<MemoryStream?> ReadCappedAsync(Stream body, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > ReportKinds.MaxFileBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        return buffer;
    }

    public static string Describe(IReadOnlyList<ParsedTestCase> cases)
    {
        var failed = cases.Count(c => c.Status == TestStatus.Failed);
        var skipped = cases.Count(c => c.Status == TestStatus.Skipped);
        var text = $"{cases.Count} {(cases.Count == 1 ? "test" : "tests")}, {failed} failed";
        return skipped > 0 ? $"{text}, {skipped} skipped" : text;
    }

    public static string Describe(ParsedCoverage coverage) =>
        $"{Percent(coverage.Percent)} of lines covered ({coverage.LinesCovered} of {coverage.LinesValid}, {coverage.Files.Count} files)";

    public static string Percent(double percent) => percent.ToString("0.#", CultureInfo.InvariantCulture) + "%";

    /// <summary>The build's tests with the flaky ones marked from the project's recent history.</summary>
    public async Task<BuildTests> BuildTestsAsync(long projectId, long buildId, CancellationToken ct = default)
    {
        var cases = await store.CasesOfBuildAsync(buildId, ct);
        var reports = await store.ReportsOfBuildAsync(buildId, ct);
        var flaky = cases.Count == 0 ? new Dictionary<(string, string), string>() : FlakyTests.Find(await store.HistoryAsync(projectId, ct: ct));
        var items = cases.Select(c => new TestResultItem(c.JobId, c.JobName, c.Suite, c.Name, c.Status, c.DurationMs, c.Message, c.Output,
                flaky.GetValueOrDefault((c.Suite, c.Name))))
            .ToList();
        var ordered = items
            .OrderBy(t => t.Status switch { TestStatus.Failed => 0, _ when t.Flaky => 1, TestStatus.Passed => 2, _ => 3 })
            .ThenBy(t => t.Suite, StringComparer.Ordinal).ThenBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        var totals = new TestTotals(items.Count, items.Count(t => t.Status == TestStatus.Passed), items.Count(t => t.Status == TestStatus.Failed),
            items.Count(t => t.Status == TestStatus.Skipped), items.Sum(t => t.DurationMs));
        var slowest = items.Where(t => t.Status != TestStatus.Skipped).OrderByDescending(t => t.DurationMs).Take(SlowestCount).ToList();
        var notes = reports.Select(r => new ReportNote(r.JobId, r.JobName, r.Kind, r.Path, r.Summary, r.Problem)).ToList();
        return new BuildTests(totals, ordered, slowest, notes);
    }

    /// <summary>The build's line coverage over all its coverage reports; null when it has none that could be read.</summary>
    public async Task<CoverageSummary?> CoverageAsync(long buildId, CancellationToken ct = default)
    {
        var reports = (await store.ReportsOfBuildAsync(buildId, ct))
            .Where(r => r.Kind == ReportKinds.Coverage && r.Problem is null && r.LinesValid is not null)
            .ToList();
        if (reports.Count == 0) return null;
        long covered = reports.Sum(r => r.LinesCovered ?? 0), valid = reports.Sum(r => r.LinesValid ?? 0);
        var files = (await store.CoverageFilesAsync(buildId, ct))
            .Select(f => new CoverageFile(f.Filename, f.LinesCovered, f.LinesValid, FileRatio(f.LinesCovered, f.LinesValid)))
            .ToList();
        return new CoverageSummary(covered, valid, Ratio(covered, valid), files);
    }

    /// <summary>Line coverage of a branch's recent builds (every branch when null), oldest first.</summary>
    public async Task<IReadOnlyList<CoveragePoint>> CoverageTrendAsync(long projectId, string? branch, int take = 30,
        CancellationToken ct = default) =>
        (await store.CoverageTrendAsync(projectId, branch, Math.Clamp(take, 1, 200), ct))
        .Select(p => new CoveragePoint(p.BuildId, p.Branch, p.CommitSha, DateTimeOffset.FromUnixTimeMilliseconds(p.QueuedAt),
            p.LinesCovered, p.LinesValid, Ratio(p.LinesCovered, p.LinesValid)))
        .ToList();

    /// <summary>Every test's results in the project's recent builds, oldest first (for history strips).</summary>
    public async Task<IReadOnlyDictionary<(string Suite, string Name), IReadOnlyList<TestRun>>> RecentRunsAsync(long projectId,
        CancellationToken ct = default) =>
        (await store.HistoryAsync(projectId, ct: ct))
        .GroupBy(r => (r.Suite, r.Name))
        .ToDictionary(g => g.Key, g => (IReadOnlyList<TestRun>)g.Select(r => new TestRun(r.BuildId, r.Branch, r.CommitSha, r.Status, r.DurationMs)).ToList());

    /// <summary>One test's results in the project's recent builds, oldest first, and why it is flaky if it is.</summary>
    public async Task<(IReadOnlyList<TestRun> Runs, string? FlakyReason)> HistoryAsync(long projectId, string suite, string name,
        CancellationToken ct = default)
    {
        var rows = await store.HistoryAsync(projectId, suite, name, ct);
        var runs = rows.Select(r => new TestRun(r.BuildId, r.Branch, r.CommitSha, r.Status, r.DurationMs)).ToList();
        return (runs, FlakyTests.Find(rows).GetValueOrDefault((suite, name)));
    }

    private static double Ratio(long covered, long valid) => valid == 0 ? 0 : Math.Round(100.0 * covered / valid, 2);

    /// <summary>A file with no executable lines (an empty <c>__init__.py</c>) has nothing left uncovered: 100%, as coverage.py says.</summary>
    private static double FileRatio(long covered, long valid) => valid == 0 ? 100 : Ratio(covered, valid);
}

/// <summary>
/// The flaky rules: a test is flaky when it both passed and failed on one commit (a rerun changed its result), or when
/// on one branch it went from passing to failing and back (or the other way) within the recent builds.
/// </summary>
public static class FlakyTests
{
    public static Dictionary<(string Suite, string Name), string> Find(IEnumerable<TestRunRow> history)
    {
        var flaky = new Dictionary<(string, string), string>();
        foreach (var test in history.Where(r => r.Status is TestStatus.Passed or TestStatus.Failed).GroupBy(r => (r.Suite, r.Name)))
        {
            var commit = test.GroupBy(r => r.CommitSha).FirstOrDefault(g => g.Select(r => r.Status).Distinct().Count() > 1);
            if (commit is not null)
            {
                flaky[test.Key] = $"passed and failed on commit {Short(commit.Key)}";
                continue;
            }
            foreach (var branch in test.GroupBy(r => r.Branch))
            {
                // One result per build (a test can appear in several jobs), in build order.
                var results = branch.GroupBy(r => r.BuildId).OrderBy(g => g.Key)
                    .Select(g => g.Any(r => r.Status == TestStatus.Failed) ? TestStatus.Failed : TestStatus.Passed)
                    .ToList();
                var changes = results.Zip(results.Skip(1)).Count(p => p.First != p.Second);
                if (changes >= 2)
                {
                    flaky[test.Key] = $"alternated between passing and failing on {branch.Key}";
                    break;
                }
            }
        }
        return flaky;
    }

    private static string Short(string sha) => sha.Length > 7 ? sha[..7] : sha;
}
