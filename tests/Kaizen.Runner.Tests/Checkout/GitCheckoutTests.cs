using System.Diagnostics;
using System.Runtime.Versioning;
using Kaizen.Runner.Checkout;
using Kaizen.Runner.Tests.Support;
using Xunit.Abstractions;

namespace Kaizen.Runner.Tests.Checkout;

public sealed class GitCheckoutTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    private async Task<(CheckoutResult Result, OutputCollector Output)> Checkout(GitCheckout checkout, long jobId, string url, string sha)
    {
        var output = new OutputCollector();
        var result = await checkout.CheckoutAsync(jobId, url, sha, "main", output.Write, CancellationToken.None);
        return (result, output);
    }

    [Fact]
    public async Task Checkout_at_an_older_commit_has_that_commits_files_and_head()
    {
        using var repo = await GitRepo.CreateAsync();
        var old = await repo.CommitAsync("first", ("README.md", "version one\n"), ("src/app.sh", "echo one\n"));
        await repo.GitAsync("tag", "-a", "v1.0", "-m", "release one");
        await repo.CommitAsync("second", ("README.md", "version two\n"), ("NEW.txt", "later\n"));
        var checkout = new GitCheckout(_work.Path);

        var (result, output) = await Checkout(checkout, 1, repo.Path, old);

        Assert.True(result.Succeeded, result.Error + output.Text);
        Assert.Equal(checkout.WorkspacePath(1), result.Workspace);
        Assert.Equal("version one\n", File.ReadAllText(Path.Combine(result.Workspace!, "README.md")));
        Assert.Equal("echo one\n", File.ReadAllText(Path.Combine(result.Workspace!, "src", "app.sh")));
        Assert.False(File.Exists(Path.Combine(result.Workspace!, "NEW.txt")));
        Assert.Equal(old, await GitRepo.RunGitAsync(result.Workspace!, "rev-parse", "HEAD"));
        Assert.Equal("", await GitRepo.RunGitAsync(result.Workspace!, "status", "--porcelain"));
        Assert.Equal("v1.0", await GitRepo.RunGitAsync(result.Workspace!, "describe", "--tags"));
        Assert.Contains("origin/main", await GitRepo.RunGitAsync(result.Workspace!, "branch", "-r"));
        Assert.Contains(old, output.Text);
    }

    [Fact]
    public async Task Checkout_from_a_file_url_works_and_reuses_the_mirror()
    {
        using var repo = await GitRepo.CreateAsync();
        var first = await repo.CommitAsync("first", ("a.txt", "a\n"));
        var checkout = new GitCheckout(_work.Path);

        var (one, _) = await Checkout(checkout, 1, repo.FileUrl, first);
        var second = await repo.CommitAsync("second", ("a.txt", "b\n"));
        var (two, twoOutput) = await Checkout(checkout, 2, repo.FileUrl, second);

        Assert.True(one.Succeeded, one.Error);
        Assert.True(two.Succeeded, two.Error);
        Assert.Equal("b\n", File.ReadAllText(Path.Combine(two.Workspace!, "a.txt")));
        Assert.True(Directory.Exists(checkout.MirrorPath(repo.FileUrl)));
        Assert.Contains("Fetching", twoOutput.Text);
    }

    [Fact]
    public async Task An_unknown_commit_is_a_clear_error()
    {
        using var repo = await GitRepo.CreateAsync();
        await repo.CommitAsync("first", ("a.txt", "a\n"));
        var missing = new string('a', 40);

        var (result, _) = await Checkout(new GitCheckout(_work.Path), 1, repo.Path, missing);

        Assert.False(result.Succeeded);
        Assert.Contains($"Commit {missing} was not found", result.Error);
    }

    [Fact]
    public async Task An_unreachable_repository_is_a_clear_error()
    {
        var nowhere = _work.Combine("no-such-repo");

        var (result, output) = await Checkout(new GitCheckout(_work.Path), 1, nowhere, new string('b', 40));

        Assert.False(result.Succeeded);
        Assert.StartsWith($"Could not clone {nowhere}:", result.Error);
        Assert.Contains("does not exist", result.Error);
        Assert.Empty(Directory.EnumerateDirectories(_work.Combine("git")));
        log.WriteLine(result.Error + "\n" + output.Text);
    }

    [Theory]
    [InlineData("main")]
    [InlineData("--upload-pack=touch /tmp/x")]
    public async Task A_commit_that_is_not_a_full_sha_is_rejected(string sha)
    {
        using var repo = await GitRepo.CreateAsync();
        await repo.CommitAsync("first", ("a.txt", "a\n"));

        var (result, _) = await Checkout(new GitCheckout(_work.Path), 1, repo.Path, sha);

        Assert.False(result.Succeeded);
        Assert.Contains("not a full commit id", result.Error);
    }

    [Fact]
    public async Task Concurrent_checkouts_of_the_same_repository_all_succeed()
    {
        using var repo = await GitRepo.CreateAsync();
        var shas = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            shas.Add(await repo.CommitAsync($"commit {i}", ("n.txt", $"{i}\n")));
        }

        var checkout = new GitCheckout(_work.Path);
        var stopwatch = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Checkout(checkout, 100 + i, repo.Path, shas[i % 4])));
        log.WriteLine($"16 concurrent checkouts (first makes the mirror): {stopwatch.ElapsedMilliseconds} ms");

        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(results[i].Result.Succeeded, results[i].Result.Error);
            Assert.Equal($"{i % 4}\n", File.ReadAllText(Path.Combine(results[i].Result.Workspace!, "n.txt")));
        }

        stopwatch.Restart();
        for (var i = 0; i < 20; i++)
        {
            var (again, _) = await Checkout(checkout, 200 + i, repo.Path, shas[0]);
            Assert.True(again.Succeeded, again.Error);
        }

        log.WriteLine($"warm checkout: {stopwatch.Elapsed.TotalMilliseconds / 20:F1} ms each");
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void Deleting_a_workspace_removes_read_only_directories_too()
    {
        var workspace = _work.Combine("jobs", "9");
        Directory.CreateDirectory(Path.Combine(workspace, "locked"));
        File.WriteAllText(Path.Combine(workspace, "locked", "f"), "x");
        File.SetUnixFileMode(Path.Combine(workspace, "locked"), UnixFileMode.UserRead | UnixFileMode.UserExecute);

        GitCheckout.DeleteWorkspace(workspace);

        Assert.False(Directory.Exists(workspace));
    }
}
