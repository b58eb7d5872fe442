using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Kaizen.Runner.Execution.Calls;

/// <summary>
/// <c>kaizen cache restore|store</c>: with a portal, entries are the portal's (shared by all its runners) and this
/// runner keeps copies of what it restored, used again only when their bytes hash to the portal's entry; without one,
/// entries live in the runner's cache folder. A miss, a broken entry or an unreachable portal never fails the call.
/// </summary>
internal sealed partial class CacheCommand(KaizenCallContext context, string directory, TextWriter output, CancellationToken cancellationToken)
{
    /// <summary>The zstd skippable frame that closes a complete upload (the portal stores nothing without it).</summary>
    private static readonly byte[] CompleteMark = [0x50, 0x2a, 0x4d, 0x18, 0x08, 0x00, 0x00, 0x00, .. "KAIZENOK"u8];

    private static readonly Lazy<bool> HasZstd = new(() =>
        new[] { "/usr/bin/zstd", "/bin/zstd", "/usr/local/bin/zstd" }.Any(File.Exists));

    private static readonly Lazy<bool> HasGzip = new(() =>
        new[] { "/usr/bin/gzip", "/bin/gzip", "/usr/local/bin/gzip" }.Any(File.Exists));

    private readonly long _started = Stopwatch.GetTimestamp();

    public async Task<int> RunAsync(List<string> arguments)
    {
        var action = arguments.FirstOrDefault();
        if (action == "has")
        {
            return await HasAsync(arguments.Skip(1).ToList()).ConfigureAwait(false);
        }

        if (action is not ("restore" or "store"))
        {
            await output.WriteAsync(KaizenCalls.Usage).ConfigureAwait(false);
            return 2;
        }

        var (request, error) = Parse(action, arguments.Skip(1).ToList());
        if (error is not null)
        {
            await output.WriteAsync(error).ConfigureAwait(false);
            return 2;
        }

        var (key, name, keyError) = await KeyOfAsync(request!).ConfigureAwait(false);
        if (keyError is not null)
        {
            await output.WriteAsync(keyError).ConfigureAwait(false);
            return keyError.StartsWith("cache: could not compute", StringComparison.Ordinal) ? 0 : 2;
        }

        if (request!.Fallbacks.FirstOrDefault(f => !KaizenCalls.ValidName(f)) is { } badFallback)
        {
            await Line($"cache: '{badFallback}' is not a valid fallback key (letters, digits, '.', '_', '+', '-')").ConfigureAwait(false);
            return 2;
        }

        if (context.Portal is not null && context.Token is not null)
        {
            var remote = new RemoteCache(context, directory, output, _started, cancellationToken);
            await (action == "restore" ? remote.RestoreAsync(key!, name, request.Fallbacks, request.Paths) : remote.StoreAsync(key!, name, request.Paths))
                .ConfigureAwait(false);
            return 0;
        }

        if (context.CacheDirectory is null)
        {
            await Line("cache: this runner has no cache folder").ConfigureAwait(false);
            return 2;
        }

        // Without fallbacks of its own, a classic NAME KEYFILE... restore falls back to the newest NAME-<checksum>.
        var patterns = request.Template is null && request.Fallbacks.Count == 0
            ? [new Regex("^" + Regex.Escape(name) + "-[0-9a-f]{16}\\.tar\\.[a-z]+$")]
            : request.Fallbacks.Select(f => new Regex("^" + Regex.Escape(f) + "[^@]*\\.tar\\.[a-z]+$")).ToList();
        if (action == "restore")
        {
            await LocalRestoreAsync(key!, patterns, request.Paths).ConfigureAwait(false);
        }
        else
        {
            await LocalStoreAsync(key!, request.Paths).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary><c>kaizen cache has KEY</c>: exit 0 when an entry of exactly KEY exists for the job (its branch, else the
    /// default branch's), 1 when not; 2 for a bad key or when the portal cannot be asked.</summary>
    private async Task<int> HasAsync(List<string> args)
    {
        if (args is not [var key] || !KaizenCalls.ValidName(key))
        {
            await Line($"cache: has needs one key (letters, digits, '.', '_', '+', '-')").ConfigureAwait(false);
            return 2;
        }

        if (context.Portal is not null && context.Token is not null)
        {
            try
            {
                using var head = KaizenCalls.Request(context, HttpMethod.Head, $"/api/jobs/caches/{KaizenCalls.UrlPath(key)}");
                using var answer = await KaizenCalls.Http.SendAsync(head, cancellationToken).ConfigureAwait(false);
                return answer.StatusCode switch
                {
                    HttpStatusCode.OK => 0,
                    HttpStatusCode.NotFound => 1,
                    _ => await Fail($"cache: warning: the portal answered {(int)answer.StatusCode} for {key}").ConfigureAwait(false),
                };
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return await Fail($"cache: warning: could not reach the portal ({KaizenCalls.Reason(ex)})").ConfigureAwait(false);
            }
        }

        return context.CacheDirectory is not null && Entry(key) is not null ? 0 : 1;

        async Task<int> Fail(string text)
        {
            await Line(text).ConfigureAwait(false);
            return 2;
        }
    }

    private sealed record Request(string Action, string? Template, string Name, List<string> KeyFiles, List<string> Fallbacks, List<string> Paths);

    private static (Request? Request, string? Error) Parse(string action, List<string> args)
    {
        string? template = null;
        var name = "";
        List<string> fallbacks = [], keyFiles = [];
        var i = 0;
        while (i < args.Count)
        {
            var arg = args[i];
            if (arg is "--key" or "--fallback")
            {
                if (i + 1 >= args.Count)
                {
                    return (null, $"cache: {arg} needs a value\n");
                }

                if (arg == "--key")
                {
                    template = args[i + 1];
                }
                else
                {
                    fallbacks.Add(args[i + 1]);
                }

                i += 2;
            }
            else if (arg.StartsWith("--key=", StringComparison.Ordinal))
            {
                template = arg["--key=".Length..];
                i++;
            }
            else if (arg.StartsWith("--fallback=", StringComparison.Ordinal))
            {
                fallbacks.Add(arg["--fallback=".Length..]);
                i++;
            }
            else
            {
                break;
            }
        }

        if (template is null && i < args.Count)
        {
            name = args[i++];
        }

        while (i < args.Count && args[i] != "--")
        {
            keyFiles.Add(args[i++]);
        }

        if (i >= args.Count)
        {
            return (null, $"cache: '--' and the paths to {action} are missing\n{KaizenCalls.Usage}");
        }

        var paths = args.Skip(i + 1).ToList();
        if (template is not null && keyFiles.Count > 0)
        {
            return (null, "cache: with --key, name the key files inside the key: --key 'deps-{{ checksum \"yarn.lock\" }}'\n");
        }

        if (template is null && !KaizenCalls.ValidName(name))
        {
            return (null, $"cache: '{name}' is not a valid cache name (letters, digits, '.', '_', '+', '-')\n");
        }

        // A keyed restore may leave the paths out: the archive's own paths are unpacked in the current directory (the
        // Semaphore-style `cache restore KEY`); without paths a broken archive cannot be cleaned up after.
        if (paths.Count == 0 && !(action == "restore" && template is not null))
        {
            return (null, $"cache: no paths to {action}\n");
        }

        foreach (var path in paths)
        {
            if (path.StartsWith('/'))
            {
                return (null, $"cache: '{path}' is absolute; cache paths are relative to the current directory\n");
            }

            if (path.Split('/').Contains(".."))
            {
                return (null, $"cache: '{path}' leaves the current directory; cache paths must stay inside it\n");
            }
        }

        return (new Request(action, template, name, keyFiles, fallbacks, paths), null);
    }

    /// <summary>The key (NAME-checksum, or the template expanded) and the cache's name for the portal's figures.</summary>
    private async Task<(string? Key, string Name, string? Error)> KeyOfAsync(Request request)
    {
        if (request.Template is not { } template)
        {
            var sum = await context.Files.ChecksumAsync(directory, request.KeyFiles, cancellationToken).ConfigureAwait(false);
            return sum is null ? (null, request.Name, $"cache: could not compute the key of {request.Name}\n") : ($"{request.Name}-{sum}", request.Name, null);
        }

        var (key, error) = await ExpandAsync(template).ConfigureAwait(false);
        if (error is not null)
        {
            return (null, "", error);
        }

        // The cache's name (for the portal's figures) is the key's text before its first {{ }}.
        var open = template.IndexOf("{{", StringComparison.Ordinal);
        var name = open < 0 ? "" : template[..open];
        if (name.Length > 0 && name[^1] is '-' or '_' or '.' or '+' or ' ')
        {
            name = name[..^1];
        }

        return !KaizenCalls.ValidName(key!)
            ? (null, "", $"cache: '{key}' is not a valid cache key (letters, digits, '.', '_', '+', '-')\n")
            : (key, name, null);
    }

    /// <summary>A --key template with its {{ checksum "FILE"... }} parts replaced by the checksum of those files.</summary>
    private async Task<(string? Key, string? Error)> ExpandAsync(string template)
    {
        var rest = template;
        var expanded = new System.Text.StringBuilder();
        int open;
        while ((open = rest.IndexOf("{{", StringComparison.Ordinal)) >= 0)
        {
            expanded.Append(rest[..open]);
            rest = rest[(open + 2)..];
            var close = rest.IndexOf("}}", StringComparison.Ordinal);
            if (close < 0)
            {
                return (null, $"cache: '{{{{' without '}}}}' in the key '{template}'\n");
            }

            var inner = rest[..close];
            rest = rest[(close + 2)..];
            var words = inner.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || words[0] != "checksum")
            {
                return (null, $"cache: '{{{{{inner}}}}}' in the key: only {{{{ checksum \"FILE\"... }}}} is known\n");
            }

            var files = words.Skip(1).Select(w => w.TrimStart('"', '\'').TrimEnd('"', '\'')).ToList();
            var sum = await context.Files.ChecksumAsync(directory, files, cancellationToken).ConfigureAwait(false);
            if (sum is null)
            {
                return (null, $"cache: could not compute the key of {template}\n");
            }

            expanded.Append(sum);
        }

        return (expanded.Append(rest).ToString(), null);
    }

    private Task Line(string text) => output.WriteLineAsync(text);

    // ---- a runner folder of its own (no portal) ----

    private static bool CanRead(string file) =>
        file.EndsWith(".tar.zst", StringComparison.Ordinal) ? HasZstd.Value : file.EndsWith(".tar.gz", StringComparison.Ordinal) && HasGzip.Value;

    private string? Entry(string key) =>
        new[] { ".tar.zst", ".tar.gz" }.Select(e => Path.Combine(context.CacheDirectory!, key + e)).FirstOrDefault(f => File.Exists(f) && CanRead(f));

    private string? NewestEntry(Regex pattern)
    {
        if (!Directory.Exists(context.CacheDirectory))
        {
            return null;
        }

        return new DirectoryInfo(context.CacheDirectory).EnumerateFiles()
            .Where(f => pattern.IsMatch(f.Name) && CanRead(f.Name))
            .OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault()?.FullName;
    }

    internal static string KeyOf(string archive)
    {
        var file = Path.GetFileName(archive);
        return file[..file.IndexOf(".tar.", StringComparison.Ordinal)];
    }

    internal static string DecompressScript(string file) =>
        file.EndsWith(".gz", StringComparison.Ordinal) ? "gzip -d -c | tar -xf -" : "zstd -q -d -c | tar -xf -";

    private async Task LocalRestoreAsync(string key, IReadOnlyList<Regex> patterns, List<string> paths)
    {
        string message;
        var archive = Entry(key);
        if (archive is not null)
        {
            message = $"restored {key}";
        }
        else
        {
            archive = patterns.Select(NewestEntry).FirstOrDefault(a => a is not null);
            if (archive is null)
            {
                await Line($"cache: miss for {key} (nothing stored yet)").ConfigureAwait(false);
                return;
            }

            message = $"no entry for {key}, restored the newest {KeyOf(archive)} instead";
        }

        int exitCode;
        try
        {
            (exitCode, _) = await context.Files.StreamAsync(directory, DecompressScript(archive), [], async input =>
            {
                await using var file = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
                await file.CopyToAsync(input, 1 << 20, cancellationToken).ConfigureAwait(false);
            }, null, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            exitCode = 1;
        }

        if (exitCode == 0)
        {
            Touch(archive);
            await Line($"cache: {message} ({KaizenCalls.Size(SizeOf(archive))}) in {KaizenCalls.Elapsed(_started)}").ConfigureAwait(false);
            return;
        }

        // A half-extracted tree is worse than none: the job's install step starts clean instead. The broken entry goes,
        // so the next passing job stores a good one.
        await context.Files.RemoveAsync(directory, paths, cancellationToken).ConfigureAwait(false);
        TryDelete(archive);
        await Line($"cache: warning: could not restore {KeyOf(archive)} (broken archive); removed it and continuing without a cache").ConfigureAwait(false);
    }

    private async Task LocalStoreAsync(string key, List<string> paths)
    {
        if (Entry(key) is not null)
        {
            await Line($"cache: {key} already stored, skipping").ConfigureAwait(false);
            return;
        }

        var present = await PresentAsync(key, paths).ConfigureAwait(false);
        if (present is null)
        {
            return;
        }

        var kind = HasZstd.Value ? "zst" : "gz";
        string temp;
        try
        {
            Directory.CreateDirectory(context.CacheDirectory!);
            temp = Path.Combine(context.CacheDirectory!, $".{key}.{Guid.NewGuid():N}.tmp");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Line($"cache: warning: cannot write to {context.CacheDirectory}; {key} not stored").ConfigureAwait(false);
            return;
        }

        int exitCode;
        try
        {
            await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            (exitCode, _) = await context.Files.StreamAsync(directory, ArchiveScript(kind), present, null,
                stdout => stdout.CopyToAsync(file, 1 << 20, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            exitCode = 1;
        }

        if (exitCode != 0)
        {
            TryDelete(temp);
            await Line($"cache: warning: could not archive {key}; not stored").ConfigureAwait(false);
            return;
        }

        var archive = Path.Combine(context.CacheDirectory!, $"{key}.tar.{kind}");
        try
        {
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

            // The rename is atomic: a concurrent job storing the same key leaves one complete archive either way.
            File.Move(temp, archive, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            await Line($"cache: warning: could not move {key} into place; not stored").ConfigureAwait(false);
            return;
        }

        await Line($"cache: stored {key} ({KaizenCalls.Size(SizeOf(archive))}) in {KaizenCalls.Elapsed(_started)}").ConfigureAwait(false);
        await EvictAsync(context, archive, output, quiet: false).ConfigureAwait(false);
    }

    /// <summary>The paths that exist (as ./PATH, so none reads as an option), naming the missing ones; null (and a note)
    /// when none does.</summary>
    internal async Task<List<string>?> PresentAsync(string key, List<string> paths)
    {
        var exists = await context.Files.PresentAsync(directory, paths, cancellationToken).ConfigureAwait(false);
        List<string> present = [];
        for (var i = 0; i < paths.Count; i++)
        {
            if (exists[i] == PathState.Present)
            {
                // Without a trailing '/', tar stores a link as a link: it never follows one out of the job's files.
                var path = paths[i].TrimEnd('/');
                present.Add("./" + (path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path));
            }
            else if (exists[i] == PathState.Outside)
            {
                await Line($"cache: {paths[i]} leads out of the current directory through a symbolic link, not stored").ConfigureAwait(false);
            }
            else
            {
                await Line($"cache: {paths[i]} does not exist, not stored").ConfigureAwait(false);
            }
        }

        if (present.Count == 0)
        {
            await Line($"cache: nothing to store for {key}").ConfigureAwait(false);
            return null;
        }

        return present;
    }

    internal static string ArchiveScript(string kind) => kind switch
    {
        "zst" => "tar -cf - \"$@\" | zstd -q -T0 -c",
        "gz" => "tar -cf - \"$@\" | gzip -c",
        _ => "tar -cf - \"$@\"",
    };

    internal static bool CanCompress => HasZstd.Value;

    /// <summary>
    /// Keeps the cache folder under its budget by removing the least recently used entries (and copies), never
    /// <paramref name="keep"/>; also sweeps temp files that killed calls left behind.
    /// </summary>
    internal static async Task EvictAsync(KaizenCallContext context, string keep, TextWriter output, bool quiet)
    {
        var folder = new DirectoryInfo(context.CacheDirectory!);
        List<FileInfo> entries = [];
        foreach (var file in folder.EnumerateFiles())
        {
            if (file.Name.StartsWith('.') && file.Name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                if (file.LastWriteTimeUtc < DateTime.UtcNow.AddMinutes(-120))
                {
                    TryDelete(file.FullName);
                }
            }
            else if (file.Name.Contains(".tar.", StringComparison.Ordinal))
            {
                entries.Add(file);
            }
        }

        var total = entries.Sum(e => e.Length);
        var limit = context.CacheMaxMegabytes * 1048576;
        foreach (var entry in entries.OrderBy(e => e.LastWriteTimeUtc))
        {
            if (total <= limit)
            {
                break;
            }

            if (entry.FullName == keep || !TryDelete(entry.FullName))
            {
                continue;
            }

            total -= entry.Length;
            if (!quiet)
            {
                await output.WriteLineAsync($"cache: evicted {KeyOf(entry.Name)} to stay under {context.CacheMaxMegabytes} MB").ConfigureAwait(false);
            }
        }
    }

    internal static long SizeOf(string file)
    {
        try
        {
            return new FileInfo(file).Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    internal static void Touch(string file)
    {
        try
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    internal static bool TryDelete(string file)
    {
        try
        {
            File.Delete(file);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    internal static readonly byte[] Mark = CompleteMark;

    internal static bool IsOk(HttpStatusCode code, int value) => (int)code == value;
}
