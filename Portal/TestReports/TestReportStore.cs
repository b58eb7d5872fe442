using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.TestReports;

/// <summary>One uploaded report file: <see cref="Problem"/> says why it was not read (malformed, too large).</summary>
public sealed class TestReportRow
{
    public long Id { get; init; }
    public long BuildId { get; init; }
    public long JobId { get; init; }
    public string JobName { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Path { get; init; } = "";
    public string? Problem { get; init; }
    public string Summary { get; init; } = "";
    public long? LinesCovered { get; init; }
    public long? LinesValid { get; init; }
}

public sealed class TestCaseRow
{
    public long Id { get; init; }
    public long BuildId { get; init; }
    public long JobId { get; init; }
    public string JobName { get; init; } = "";
    public string Suite { get; init; } = "";
    public string Name { get; init; } = "";
    public string Status { get; init; } = "";
    public long DurationMs { get; init; }
    public string? Message { get; init; }
    public string? Output { get; init; }
}

/// <summary>A test's result in one build, for its history and the flaky rules.</summary>
public sealed class TestRunRow
{
    public long BuildId { get; init; }
    public string Branch { get; init; } = "";
    public string CommitSha { get; init; } = "";
    public string Suite { get; init; } = "";
    public string Name { get; init; } = "";
    public string Status { get; init; } = "";
    public long DurationMs { get; init; }
}

public sealed class CoverageFileRow
{
    public string Filename { get; init; } = "";
    public long LinesCovered { get; init; }
    public long LinesValid { get; init; }
}

/// <summary>A build's line coverage (all its coverage reports together), for trends.</summary>
public sealed class CoveragePointRow
{
    public long BuildId { get; init; }
    public string Branch { get; init; } = "";
    public string CommitSha { get; init; } = "";
    public long QueuedAt { get; init; }
    public long LinesCovered { get; init; }
    public long LinesValid { get; init; }
}

/// <summary>The job a report is uploaded for, and who holds it.</summary>
public sealed class ReportJobRow
{
    public long Id { get; init; }
    public long BuildId { get; init; }
    public long? RunnerId { get; init; }
    public string Status { get; init; } = "";
}

/// <summary>Test results and coverage per build, as read from the jobs' report files.</summary>
public sealed class TestReportStore(Database db, TimeProvider time)
{
    /// <summary>How many recent builds of a project the history and flaky rules look at.</summary>
    public const int HistoryBuilds = 20;

    public async Task<ReportJobRow?> JobAsync(long jobId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ReportJobRow>(TestReportSql.Job, new { Id = jobId });
    }

    public async Task<int> CountOfJobAsync(long jobId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<int>(TestReportSql.CountOfJob, new { JobId = jobId });
    }

    /// <summary>Records a report file: its test cases or coverage (when it was read), or its problem.</summary>
    public async Task SaveAsync(long buildId, long jobId, string kind, string path, string summary, string? problem,
        IReadOnlyList<ParsedTestCase>? cases, ParsedCoverage? coverage, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(TestReportSql.InsertReport, new
        {
            BuildId = buildId, JobId = jobId, Kind = kind, Path = path, Problem = problem, Summary = summary,
            coverage?.LinesCovered, coverage?.LinesValid, Now = time.GetUtcNow().ToUnixTimeMilliseconds(),
        }, tx);
        if (cases is { Count: > 0 })
        {
            await c.ExecuteAsync(TestReportSql.InsertCase, cases.Select(t => new
            {
                BuildId = buildId, JobId = jobId, t.Suite, t.Name, t.Status, t.DurationMs, t.Message, t.Output,
            }), tx);
        }
        if (coverage is { Files.Count: > 0 })
        {
            await c.ExecuteAsync(TestReportSql.InsertCoverageFile, coverage.Files.Select(f => new
            {
                BuildId = buildId, JobId = jobId, f.Filename, f.LinesCovered, f.LinesValid,
            }), tx);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<TestReportRow>> ReportsOfBuildAsync(long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<TestReportRow>(TestReportSql.ReportsOfBuild, new { BuildId = buildId })).AsList();
    }

    public async Task<IReadOnlyList<TestCaseRow>> CasesOfBuildAsync(long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<TestCaseRow>(TestReportSql.CasesOfBuild, new { BuildId = buildId })).AsList();
    }

    /// <summary>Files of the build's coverage reports, one row per file (several reports of one file are added up).</summary>
    public async Task<IReadOnlyList<CoverageFileRow>> CoverageFilesAsync(long buildId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CoverageFileRow>(TestReportSql.CoverageFiles, new { BuildId = buildId })).AsList();
    }

    /// <summary>Results of the project's tests in its last <see cref="HistoryBuilds"/> builds with results, oldest
    /// first; only one test's when <paramref name="suite"/> and <paramref name="name"/> are given.</summary>
    public async Task<IReadOnlyList<TestRunRow>> HistoryAsync(long projectId, string? suite = null, string? name = null,
        CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var sql = db.Sql(name is null ? TestReportSql.History : TestReportSql.HistoryOfTest);
        return (await c.QueryAsync<TestRunRow>(sql, new { ProjectId = projectId, Take = HistoryBuilds, Suite = suite ?? "", Name = name }))
            .AsList();
    }

    /// <summary>Line coverage of the branch's last builds that have coverage, oldest first.</summary>
    public async Task<IReadOnlyList<CoveragePointRow>> CoverageTrendAsync(long projectId, string? branch, int take,
        CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var points = await c.QueryAsync<CoveragePointRow>(db.Sql(TestReportSql.CoverageTrend),
            new { ProjectId = projectId, Branch = branch, AnyBranch = branch is null, Take = take });
        return points.OrderBy(p => p.BuildId).ToList();
    }
}

internal static class TestReportSql
{
    public const string Job = "SELECT id, build_id AS BuildId, runner_id AS RunnerId, status FROM jobs WHERE id = @Id";

    public const string CountOfJob = "SELECT COUNT(*) FROM test_reports WHERE job_id = @JobId";

    public const string InsertReport =
        "INSERT INTO test_reports (build_id, job_id, kind, path, problem, summary, lines_covered, lines_valid, created_at) " +
        "VALUES (@BuildId, @JobId, @Kind, @Path, @Problem, @Summary, @LinesCovered, @LinesValid, @Now)";

    public const string InsertCase =
        "INSERT INTO test_cases (build_id, job_id, suite, name, status, duration_ms, message, output) " +
        "VALUES (@BuildId, @JobId, @Suite, @Name, @Status, @DurationMs, @Message, @Output)";

    public const string InsertCoverageFile =
        "INSERT INTO coverage_files (build_id, job_id, filename, lines_covered, lines_valid) " +
        "VALUES (@BuildId, @JobId, @Filename, @LinesCovered, @LinesValid)";

    public const string ReportsOfBuild =
        "SELECT r.id, r.build_id AS BuildId, r.job_id AS JobId, j.name AS JobName, r.kind, r.path, r.problem, r.summary, " +
        "r.lines_covered AS LinesCovered, r.lines_valid AS LinesValid FROM test_reports r JOIN jobs j ON j.id = r.job_id " +
        "WHERE r.build_id = @BuildId ORDER BY j.position, r.id";

    public const string CasesOfBuild =
        "SELECT t.id, t.build_id AS BuildId, t.job_id AS JobId, j.name AS JobName, t.suite, t.name, t.status, " +
        "t.duration_ms AS DurationMs, t.message, t.output FROM test_cases t JOIN jobs j ON j.id = t.job_id " +
        "WHERE t.build_id = @BuildId ORDER BY t.id";

    public const string CoverageFiles =
        "SELECT filename, SUM(lines_covered) AS LinesCovered, SUM(lines_valid) AS LinesValid FROM coverage_files " +
        "WHERE build_id = @BuildId GROUP BY filename ORDER BY filename";

    private const string HistoryColumns =
        "SELECT t.build_id AS BuildId, b.branch, b.commit_sha AS CommitSha, t.suite, t.name, t.status, " +
        "t.duration_ms AS DurationMs FROM test_cases t JOIN builds b ON b.id = t.build_id ";

    public static readonly SqlText History = new(
        HistoryColumns + "WHERE t.build_id IN (SELECT DISTINCT x.build_id FROM test_cases x JOIN builds y ON y.id = x.build_id " +
        "WHERE y.project_id = @ProjectId ORDER BY x.build_id DESC LIMIT @Take) ORDER BY t.build_id, t.id",
        HistoryColumns + "WHERE t.build_id IN (SELECT DISTINCT TOP (@Take) x.build_id FROM test_cases x JOIN builds y ON y.id = x.build_id " +
        "WHERE y.project_id = @ProjectId ORDER BY x.build_id DESC) ORDER BY t.build_id, t.id");

    public static readonly SqlText HistoryOfTest = new(
        HistoryColumns + "WHERE b.project_id = @ProjectId AND t.suite = @Suite AND t.name = @Name AND t.build_id IN " +
        "(SELECT DISTINCT x.build_id FROM test_cases x JOIN builds y ON y.id = x.build_id WHERE y.project_id = @ProjectId " +
        "ORDER BY x.build_id DESC LIMIT @Take) ORDER BY t.build_id, t.id",
        HistoryColumns + "WHERE b.project_id = @ProjectId AND t.suite = @Suite AND t.name = @Name AND t.build_id IN " +
        "(SELECT DISTINCT TOP (@Take) x.build_id FROM test_cases x JOIN builds y ON y.id = x.build_id WHERE y.project_id = @ProjectId " +
        "ORDER BY x.build_id DESC) ORDER BY t.build_id, t.id");

    private const string TrendColumns =
        "b.id AS BuildId, b.branch, b.commit_sha AS CommitSha, b.queued_at AS QueuedAt, " +
        "SUM(r.lines_covered) AS LinesCovered, SUM(r.lines_valid) AS LinesValid FROM test_reports r " +
        "JOIN builds b ON b.id = r.build_id WHERE b.project_id = @ProjectId AND r.kind = 'coverage' AND r.problem IS NULL " +
        "AND (@AnyBranch = 1 OR b.branch = @Branch) GROUP BY b.id, b.branch, b.commit_sha, b.queued_at ORDER BY b.id DESC";

    public static readonly SqlText CoverageTrend = new(
        "SELECT " + TrendColumns + " LIMIT @Take",
        "SELECT TOP (@Take) " + TrendColumns);
}
