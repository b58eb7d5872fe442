using Kaizen.Sdk;

namespace Kaizen.Plugins.Tests.Support;

/// <summary>A repository view over files given by the test (path → content), for detection and planning tests.</summary>
public sealed class MemoryRepository(IReadOnlyDictionary<string, string> files, string commitSha = "0123456789abcdef0123456789abcdef01234567")
    : IRepositoryView
{
    public MemoryRepository(params (string Path, string Content)[] files)
        : this(files.ToDictionary(f => f.Path, f => f.Content))
    {
    }

    public string CommitSha { get; } = commitSha;

    public IReadOnlyList<string> Files { get; } = files.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();

    public bool Exists(string path) => files.ContainsKey(path);

    public string? ReadText(string path) => files.TryGetValue(path, out var text) ? text : null;
}
