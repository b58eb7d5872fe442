using System.Text;
using System.Text.RegularExpressions;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Execution;

/// <summary>Sends one report file to the portal and returns its reading of it (for the job's log).</summary>
public interface IReportUploader
{
    /// <param name="content">The file as it leaves the runner (secrets masked); null when it is over
    /// <see cref="ReportKinds.MaxFileBytes"/>, so only its <paramref name="sizeBytes"/> is announced.</param>
    Task<ReportUploadResponse> UploadAsync(long jobId, ReportSpec spec, string relativePath, Stream? content, long sizeBytes,
        CancellationToken cancellationToken);
}

/// <summary>
/// Finds a job's declared report files in its workspace after the epilogue and uploads each, writing one line per file
/// in the job's log. A report that cannot be found, read or sent is a note, never a change of the job's outcome.
/// </summary>
public static class JobReports
{
    /// <param name="mask">Masks the job's secrets in a report's text (null: the job has none). Reports hold test output,
    /// which may print secrets like any log.</param>
    public static async Task UploadAsync(JobAssignment job, string workspace, IReportUploader uploader,
        Func<string, Task> note, Func<string, string?>? mask, CancellationToken cancellationToken)
    {
        var specs = job.Reports ?? [];
        if (specs.Count == 0) return;
        var sent = new HashSet<string>(StringComparer.Ordinal);
        var count = 0;
        foreach (var spec in specs)
        {
            var what = spec.Kind == ReportKinds.Coverage ? "coverage report" : "test report";
            var files = Find(workspace, spec.Pattern);
            if (files.Count == 0)
            {
                await note($"{what} {spec.Pattern}: no file matches").ConfigureAwait(false);
                continue;
            }
            foreach (var relative in files)
            {
                if (!sent.Add(spec.Kind + "\0" + relative)) continue;
                if (++count > ReportKinds.MaxFilesPerJob)
                {
                    await note($"{what} {relative}: skipped, a job uploads at most {ReportKinds.MaxFilesPerJob} report files").ConfigureAwait(false);
                    continue;
                }
                var full = Path.Combine(workspace, relative);
                try
                {
                    var size = new FileInfo(full).Length;
                    await using var content = size > ReportKinds.MaxFileBytes ? null : await OpenAsync(full, mask, cancellationToken).ConfigureAwait(false);
                    var reply = await uploader.UploadAsync(job.JobId, spec, relative, content, size, cancellationToken).ConfigureAwait(false);
                    await note(reply.Parsed ? $"{what}: {relative} ({reply.Summary})" : $"{what} {relative}: {reply.Summary}").ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    await note($"{what} {relative}: not uploaded ({ex.Message})").ConfigureAwait(false);
                }
            }
        }
    }

    private static async Task<Stream> OpenAsync(string path, Func<string, string?>? mask, CancellationToken cancellationToken)
    {
        if (mask is null) return File.OpenRead(path);
        var text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        return new MemoryStream(Encoding.UTF8.GetBytes(mask(text) ?? ""));
    }

    /// <summary>
    /// Workspace files matching <paramref name="pattern"/> (<c>*</c> and <c>?</c> within a folder name, <c>**</c> across
    /// folders), as sorted relative paths with '/'. Nothing outside the workspace: no '..', no following of symlinked folders.
    /// </summary>
    public static IReadOnlyList<string> Find(string workspace, string pattern)
    {
        var normalized = pattern.Replace('\\', '/').Trim().TrimStart('.', '/');
        if (normalized.Length == 0 || normalized.Split('/').Contains("..") || !Directory.Exists(workspace)) return [];
        var regex = new Regex("^" + ToRegex(normalized) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var root = Path.GetFullPath(workspace);
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
            IgnoreInaccessible = true,
        };
        return Directory.EnumerateFiles(root, "*", options)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith(".git/", StringComparison.Ordinal) && regex.IsMatch(f))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static string ToRegex(string glob)
    {
        var text = new StringBuilder();
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                // "**/" matches any folders (none too); a trailing "**" anything below.
                var slash = i + 2 < glob.Length && glob[i + 2] == '/';
                text.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*') text.Append("[^/]*");
            else if (c == '?') text.Append("[^/]");
            else text.Append(Regex.Escape(c.ToString()));
        }
        return text.ToString();
    }
}
