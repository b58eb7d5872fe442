using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

/// <summary>The <c>kaizen</c> function in whole jobs run by <see cref="JobExecutor"/>.</summary>
public sealed class KaizenJobTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    private JobExecutor Executor() => new(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path));

    private static JobAssignment Job(long id, string gitUrl, string sha, params (CommandPhase Phase, string Text)[] commands) =>
        Job(id, "acme/web", gitUrl, sha, commands);

    private static JobAssignment Job(long id, string project, string gitUrl, string sha, params (CommandPhase Phase, string Text)[] commands) => new(
        JobId: id,
        BuildId: 7,
        ProjectSlug: project,
        JobName: "test",
        GitUrl: gitUrl,
        Branch: "main",
        CommitSha: sha,
        Commands: [.. commands.Select((c, i) => new JobCommand(i, c.Phase, c.Text))],
        Environment: new Dictionary<string, string> { ["KAIZEN_CACHE_DIR"] = "/job-cannot-move-the-cache" },
        LeaseSeconds: 60);

    [Fact]
    public async Task Every_job_shell_has_the_kaizen_function_also_the_epilogue_shell_after_the_first_one_died()
    {
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("yarn.lock", "left-pad@1.3.0\n"));
        const string Restore = "kaizen cache restore deps yarn.lock -- node_modules";

        var first = new MemoryJobOutput();
        var firstResult = await Executor().RunAsync(Job(1, repo.Path, sha,
            (CommandPhase.Setup, Restore),
            (CommandPhase.Main, "mkdir node_modules && echo built once > node_modules/left-pad.js; exit"),
            (CommandPhase.Epilogue, "type -t kaizen && kaizen cache store deps yarn.lock -- node_modules")), first, CancellationToken.None);

        var second = new MemoryJobOutput();
        var secondResult = await Executor().RunAsync(Job(2, repo.Path, sha,
            (CommandPhase.Setup, Restore),
            (CommandPhase.Main, "cat node_modules/left-pad.js; echo \"$KAIZEN_CACHE_DIR\"")), second, CancellationToken.None);

        Assert.Equal(new JobResult(JobOutcome.Passed), firstResult);
        Assert.Matches(@"^cache: miss for deps-[0-9a-f]{16} \(nothing stored yet\)\n$", first.Log(0));
        Assert.Matches(@"^function\ncache: stored deps-[0-9a-f]{16} ", first.Log(2));
        Assert.Equal(new JobResult(JobOutcome.Passed), secondResult);
        Assert.Matches(@"^cache: restored deps-[0-9a-f]{16} \(", second.Log(0));
        Assert.Equal($"built once\n{_work.Combine("cache", "acme_web")}\n", second.Log(1));
        Assert.Equal(KaizenFunctions.Script, File.ReadAllText(_work.Combine("bin", "kaizen.sh")));
    }

    [Fact]
    public async Task One_project_never_restores_a_cache_another_project_stored_under_the_same_name()
    {
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("yarn.lock", "left-pad@1.3.0\n"));

        var alpha = new MemoryJobOutput();
        await Executor().RunAsync(Job(1, "alpha", repo.Path, sha,
            (CommandPhase.Main, "mkdir node_modules && echo planted > node_modules/x.js"),
            (CommandPhase.Main, "kaizen cache store deps yarn.lock -- node_modules")), alpha, CancellationToken.None);
        var beta = new MemoryJobOutput();
        await Executor().RunAsync(Job(2, "beta", repo.Path, sha,
            (CommandPhase.Main, "kaizen cache restore deps yarn.lock -- node_modules"),
            (CommandPhase.Main, "test ! -e node_modules/x.js && echo clean")), beta, CancellationToken.None);

        Assert.Matches(@"^cache: stored deps-", alpha.Log(1));
        Assert.Matches(@"^cache: miss for deps-", beta.Log(0));
        Assert.Equal("clean\n", beta.Log(1));
    }
}
