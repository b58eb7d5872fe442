using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Import.Semaphore;

/// <summary>What <see cref="SemaphoreSource.ReadAsync"/> read: where from, <c>semaphore.yml</c>'s text, the other files of
/// the folder by name; or why nothing could be read.</summary>
public sealed record SemaphoreFiles(string Source, string? Main, IReadOnlyDictionary<string, string> Files, ImportError? Error);

/// <summary>Reads a project's <c>.semaphore</c> folder at the head of its default branch from the portal's git mirror
/// (fetched first), every file of it that ends in <c>.yml</c> or <c>.yaml</c>.</summary>
public static class SemaphoreSource
{
    public static async Task<SemaphoreFiles> ReadAsync(ProjectRow project, ProjectService projects, GitMirror git, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(project);
        static SemaphoreFiles Fail(string message) => new("", null, new Dictionary<string, string>(), new ImportError(SemaphoreImporter.DefaultPath, 0, 0, message));
        var branches = await projects.RefreshBranchesAsync(project.Id, project.GitUrl, ct);
        if (!branches.Ok) return Fail($"the repository could not be fetched: {branches.Message}");
        var head = branches.Value!.FirstOrDefault(b => b.Name == project.DefaultBranch);
        if (head is null) return Fail($"the default branch '{project.DefaultBranch}' does not exist any more.");
        var dir = git.MirrorPath(project.Id);
        var listing = await git.ReadAsync(dir, ct, "ls-tree", "-l", "-z", head.HeadSha, ".semaphore/");
        if (!listing.Ok) return Fail($"the files of {project.DefaultBranch} could not be listed: {listing.Error}");
        var source = $"{project.DefaultBranch} at {head.HeadSha[..Math.Min(12, head.HeadSha.Length)]}";
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        string? main = null;
        // "<mode> blob <oid> <size>\t<path>" per file, NUL-separated.
        foreach (var entry in listing.Value!.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var tab = entry.IndexOf('\t');
            if (tab < 0) continue;
            var fields = entry[..tab].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var path = entry[(tab + 1)..];
            var name = path[".semaphore/".Length..];
            if (fields.Length < 4 || fields[1] != "blob" || !(name.EndsWith(".yml", StringComparison.Ordinal) || name.EndsWith(".yaml", StringComparison.Ordinal))) continue;
            if (long.TryParse(fields[3], out var size) && size > SemaphoreImporter.MaxFileChars * 4L)
                return new SemaphoreFiles(source, null, files, new ImportError(path, 0, 0, $"the file has {size:N0} bytes; a pipeline file may have at most {SemaphoreImporter.MaxFileChars:N0} characters."));
            if (files.Count >= SemaphoreImporter.MaxFiles) break;
            var text = await git.ReadAsync(dir, ct, "cat-file", "blob", fields[2]);
            if (!text.Ok) return Fail($"{path} could not be read: {text.Error}");
            if (name == "semaphore.yml") main = text.Value;
            else files[name] = text.Value!;
        }
        return main is null
            ? Fail($"there is no {SemaphoreImporter.DefaultPath} on {source}; upload the file instead ({{ \"yaml\": \"...\" }}).")
            : new SemaphoreFiles(source, main, files, null);
    }
}
