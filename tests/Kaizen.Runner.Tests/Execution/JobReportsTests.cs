using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

public sealed class JobReportsTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    /// <summary>Keeps what it was sent and answers like the portal does.</summary>
    private sealed class RecordingUploader : IReportUploader
    {
        public List<(string Kind, string Path, string Content)> Sent { get; } = [];

        public Task<ReportUploadResponse> UploadAsync(long jobId, ReportSpec spec, string relativePath, Stream? content, long sizeBytes,
            CancellationToken cancellationToken)
        {
            Sent.Add((spec.Kind, relativePath, new StreamReader(content!).ReadToEnd()));
            return Task.FromResult(new ReportUploadResponse(true, "1 test, 1 failed"));
        }
    }

    [Theory]
    [InlineData("reports/*.xml", new[] { "reports/a.xml", "reports/b.xml" })]
    [InlineData("**/junit.xml", new[] { "junit.xml", "sub/deep/junit.xml" })]
    [InlineData("sub/**/*.xml", new[] { "sub/deep/junit.xml" })]
    [InlineData("reports/?.xml", new[] { "reports/a.xml", "reports/b.xml" })]
    [InlineData("../outside.xml", new string[0])]
    public void Globs_find_workspace_files_only(string pattern, string[] expected)
    {
        foreach (var file in new[] { "reports/a.xml", "reports/b.xml", "reports/notes.txt", "junit.xml", "sub/deep/junit.xml" })
        {
            var path = Path.Combine(_work.Path, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "<x/>");
        }

        Assert.Equal(expected, JobReports.Find(_work.Path, pattern));
    }

    [Fact]
    public async Task A_failing_jobs_reports_are_uploaded_after_its_epilogue_with_a_line_each_in_the_log()
    {
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("readme.txt", "hi\n"));
        var uploader = new RecordingUploader();
        var executor = new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path)) { Reports = uploader };
        var output = new MemoryJobOutput();
        var job = new JobAssignment(42, 7, "acme/web", "test", repo.Path, "main", sha,
            [new JobCommand(0, CommandPhase.Main, "mkdir -p out && echo '<testsuite/>' > out/junit.xml && false"),
             new JobCommand(1, CommandPhase.Epilogue, "echo '<coverage/>' > cov.xml")],
            new Dictionary<string, string>(), 60,
            Reports: [new ReportSpec(ReportKinds.JUnit, "out/*.xml"), new ReportSpec(ReportKinds.Coverage, "cov.xml"),
                new ReportSpec(ReportKinds.JUnit, "missing/*.xml")]);

        var result = await executor.RunAsync(job, output, CancellationToken.None);

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal([(ReportKinds.JUnit, "out/junit.xml", "<testsuite/>\n"), (ReportKinds.Coverage, "cov.xml", "<coverage/>\n")], uploader.Sent);
        var log = output.Log(null);
        Assert.Contains("[kaizen] test report: out/junit.xml (1 test, 1 failed)", log);
        Assert.Contains("[kaizen] test report missing/*.xml: no file matches", log);
    }

    [Fact]
    public async Task Secrets_printed_into_a_report_leave_the_runner_masked()
    {
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("readme.txt", "hi\n"));
        var uploader = new RecordingUploader();
        var executor = new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path)) { Reports = uploader };
        var job = new JobAssignment(43, 7, "acme/web", "test", repo.Path, "main", sha,
            [new JobCommand(0, CommandPhase.Main, "echo \"<testsuite><system-out>$API_TOKEN</system-out></testsuite>\" > junit.xml")],
            new Dictionary<string, string>(), 60, Secrets: [new JobSecret("API_TOKEN", "s3cret-value-42")],
            Reports: [new ReportSpec(ReportKinds.JUnit, "junit.xml")]);

        await executor.RunAsync(job, new MemoryJobOutput(), CancellationToken.None);

        Assert.Equal("<testsuite><system-out>***</system-out></testsuite>\n", Assert.Single(uploader.Sent).Content);
    }
}
