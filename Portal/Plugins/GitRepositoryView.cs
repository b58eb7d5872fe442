using System.Diagnostics;
using System.Text;
using Kaizen.Runner.Execution;
using Kaizen.Sdk;

namespace Kaizen.Portal.Plugins;

/// <summary>
/// A repository at one commit, read from the portal's bare mirror. File contents come from one long-lived
/// <c>git cat-file --batch</c> process (plugins read many small files; a process per file would be slow), which is
/// why this does not go through <see cref="ProcessRunner"/>.
/// </summary>
public sealed class GitRepositoryView : IRepositoryView, IDisposable
{
    private const int MaxTextBytes = 1 << 20;

    private readonly string _gitDir;
    private readonly HashSet<string> _fileSet;
    private readonly Dictionary<string, string?> _texts = [];
    private readonly object _lock = new();
    private Process? _batch;

    private GitRepositoryView(string gitDir, string commitSha, IReadOnlyList<string> files)
    {
        _gitDir = gitDir;
        CommitSha = commitSha;
        Files = files;
        _fileSet = files.ToHashSet(StringComparer.Ordinal);
    }

    public string CommitSha { get; }

    public IReadOnlyList<string> Files { get; }

    public static async Task<GitRepositoryView?> OpenAsync(string gitDir, string commitSha, CancellationToken ct)
    {
        var (result, stdout, _) = await ProcessRunner.CaptureAsync(
            new ProcessRequest("git", ["--git-dir", gitDir, "ls-tree", "-r", "-z", "--name-only", commitSha]), ct);
        if (!result.Succeeded) return null;
        var files = stdout.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        return new GitRepositoryView(gitDir, commitSha, files);
    }

    public bool Exists(string path) => _fileSet.Contains(Normalize(path));

    public string? ReadText(string path)
    {
        path = Normalize(path);
        if (!_fileSet.Contains(path)) return null;
        lock (_lock)
        {
            if (_texts.TryGetValue(path, out var cached)) return cached;
            var text = ReadBlob(path);
            _texts[path] = text;
            return text;
        }
    }

    private static string Normalize(string path) => path.Replace('\\', '/').TrimStart('.', '/');

    private string? ReadBlob(string path)
    {
        _batch ??= Process.Start(new ProcessStartInfo("git", ["--git-dir", _gitDir, "cat-file", "--batch"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var stdin = _batch.StandardInput.BaseStream;
        stdin.Write(Encoding.UTF8.GetBytes($"{CommitSha}:{path}\n"));
        stdin.Flush();
        var stdout = _batch.StandardOutput.BaseStream;
        // "<oid> blob <size>\n<content>\n", or "<name> missing\n".
        var header = ReadLine(stdout).Split(' ');
        if (header.Length != 3 || !long.TryParse(header[2], out var size)) return null;
        var content = new byte[size];
        stdout.ReadExactly(content);
        stdout.ReadByte();
        if (header[1] != "blob" || size > MaxTextBytes || content.AsSpan().Contains((byte)0)) return null;
        return Encoding.UTF8.GetString(content);
    }

    private static string ReadLine(Stream stream)
    {
        var bytes = new List<byte>();
        int b;
        while ((b = stream.ReadByte()) is not -1 and not '\n') bytes.Add((byte)b);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public void Dispose()
    {
        if (_batch is null) return;
        try
        {
            _batch.StandardInput.Close();
            if (!_batch.WaitForExit(2000)) _batch.Kill();
        }
        catch (InvalidOperationException)
        {
        }
        _batch.Dispose();
    }
}
