using Kaizen.Portal.TestReports;

namespace Kaizen.Portal.Tests.TestReports;

public sealed class FlakyTestsTests
{
    private static TestRunRow Run(long build, string status, string sha = "aaaaaaaaaa", string branch = "main") =>
        new() { BuildId = build, Status = status, CommitSha = sha, Branch = branch, Suite = "s", Name = "t" };

    [Fact]
    public void Passing_and_failing_on_one_commit_is_flaky() =>
        Assert.Equal("passed and failed on commit aaaaaaa",
            FlakyTests.Find([Run(1, TestStatus.Failed), Run(2, TestStatus.Passed)])[("s", "t")]);

    [Fact]
    public void Alternating_on_one_branch_is_flaky_but_a_fix_is_not()
    {
        var alternating = FlakyTests.Find([Run(1, TestStatus.Passed, "a1"), Run(2, TestStatus.Failed, "a2"), Run(3, TestStatus.Passed, "a3")]);
        var fixedOnce = FlakyTests.Find([Run(1, TestStatus.Failed, "a1"), Run(2, TestStatus.Passed, "a2"), Run(3, TestStatus.Passed, "a3")]);
        var acrossBranches = FlakyTests.Find([Run(1, TestStatus.Passed, "a1"), Run(2, TestStatus.Failed, "b1", "feature"),
            Run(3, TestStatus.Passed, "a3")]);

        Assert.Equal("alternated between passing and failing on main", alternating[("s", "t")]);
        Assert.Empty(fixedOnce);
        Assert.Empty(acrossBranches);
    }

    [Fact]
    public void Skipped_results_do_not_count() =>
        Assert.Empty(FlakyTests.Find([Run(1, TestStatus.Skipped), Run(2, TestStatus.Passed), Run(3, TestStatus.Skipped)]));
}
