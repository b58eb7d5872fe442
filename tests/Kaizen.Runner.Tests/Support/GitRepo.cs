using Kaizen.Runner.Execution;

namespace Kaizen.Runner.Tests.Support;

/// <summary>A real git repository in a temp folder, with commits by a fixed author; deleted on dispose.</summary>
public sealed class GitRepo : IDisposable
{
    private static readonly IReadOnlyDictionary<string, string?> FixedIdentity = new Dictionary<string, string?>
    {
        ["GIT_AUTHOR_NAME"] = "Kaizen Test",
        ["GIT_AUTHOR_EMAIL"] = "test@kaizen.invalid",
        ["GIT_COMMITTER_NAME"] = "Kaizen Test",
        ["GIT_COMMITTER_EMAIL"] = "test@kaizen.invalid",
        ["GIT_AUTHOR_DATE"] = "2024-01-01T00:00:00Z",
        ["GIT_COMMITTER_DATE"] = "2024-01-01T00:00:00Z",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
    };

    private readonly TempDirectory _dir = new();

    private GitRepo()
    {
    }

    public string Path => _dir.Path;

    public string FileUrl => new Uri(Path).AbsoluteUri;

    public static async Task<GitRepo> CreateAsync(string branch = "main")
    {
        var repo = new GitRepo();
        await repo.GitAsync("init", "-q", "-b", branch);
        return repo;
    }

    /// <summary>Writes <paramref name="files"/> (path → content), commits them and returns the new commit's sha.</summary>
    public async Task<string> CommitAsync(string message, params (string Path, string Content)[] files)
    {
        foreach (var (path, content) in files)
        {
            var full = System.IO.Path.Combine(Path, path);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content);
        }

        await GitAsync("add", "-A");
        await GitAsync("commit", "-q", "--allow-empty", "-m", message);
        return await GitAsync("rev-parse", "HEAD");
    }

    /// <summary>Runs git in this repository (or in <paramref name="directory"/>) and returns its trimmed stdout; throws on failure.</summary>
    public Task<string> GitAsync(params string[] arguments) => RunGitAsync(Path, arguments);

    public static async Task<string> RunGitAsync(string directory, params string[] arguments)
    {
        var (result, stdout, stderr) = await ProcessRunner.CaptureAsync(
            new ProcessRequest("git", ["-C", directory, .. arguments], Environment: FixedIdentity), CancellationToken.None);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed ({result.ExitCode}): {stderr}{result.StartError}");
        }

        return stdout.Trim();
    }

    public void Dispose() => _dir.Dispose();
}
