using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Kaizen.Runner.Execution.Calls;

/// <summary>
/// <c>kaizen artifact push [--build|--job|--project] PATH [NAME]</c> and <c>kaizen artifact pull [--project] [--wait
/// SECONDS] NAME [DEST]</c>: the file (or the folder, packed as .tar.gz) is read from, or written into, the job's files
/// by <see cref="JobFiles"/>; the transfer to the portal, with the job's token, is the runner's.
/// </summary>
internal sealed class ArtifactCommand(KaizenCallContext context, string directory, TextWriter output, CancellationToken cancellationToken)
{
    private const string FolderHeader = "Kaizen-Artifact-Folder";

    // "outside" when the path, links resolved, leaves the workspace ($2; empty: not checked): the runner packs nothing
    // a link in the workspace points to elsewhere (the runner's folder, /etc).
    private const string KindScript =
        "if [ -n \"$2\" ]; then w=$(cd -P -- \"$2\" && pwd) r=$(readlink -m -- \"$1\"); " +
        "if [ -z \"$w\" ] || { [ \"$r\" != \"$w\" ] && [ \"${r#\"$w\"/}\" = \"$r\" ]; }; then printf 'outside\\n'; exit 0; fi; fi; " +
        "if [ -d \"$1\" ]; then printf 'dir\\n'; cd -- \"$1\" && basename -- \"$(pwd)\"; elif [ -e \"$1\" ]; then printf 'file\\n'; else printf 'none\\n'; fi";

    private const string WriteFileScript =
        "dest=$1 base=$2; case \"$dest\" in */) dest=\"$dest$base\" ;; *) [ ! -d \"$dest\" ] || dest=\"$dest/$base\" ;; esac; " +
        "dir=$(dirname -- \"$dest\") && mkdir -p -- \"$dir\" || exit 1; t=\"$dir/.kaizen-pull.$$.$RANDOM$RANDOM\"; " +
        "if cat >\"$t\" && mv -f -- \"$t\" \"$dest\"; then printf '%s' \"$dest\"; else rm -f -- \"$t\"; exit 1; fi";

    private const string UnpackScript = "mkdir -p -- \"$1\" && tar -xzf - -C \"$1\"";

    private readonly long _started = Stopwatch.GetTimestamp();

    public async Task<int> RunAsync(List<string> arguments)
    {
        var action = arguments.FirstOrDefault();
        if (action is not ("push" or "pull"))
        {
            await output.WriteAsync(KaizenCalls.Usage).ConfigureAwait(false);
            return 2;
        }

        if (context.Portal is null || context.Token is null)
        {
            await Error("artifact: this job has no portal to push to or pull from; artifacts work inside Kaizen jobs only").ConfigureAwait(false);
            return 2;
        }

        var rest = arguments.Skip(1).ToList();
        return action == "push" ? await PushAsync(rest).ConfigureAwait(false) : await PullAsync(rest).ConfigureAwait(false);
    }

    private Task Error(string text) => output.WriteLineAsync(text);

    /// <summary>Why NAME cannot be an artifact name (the portal checks again, and more strictly); null when it can.</summary>
    private static string? Problem(string name) =>
        name.Length == 0 ? "the artifact name is empty"
        : name.StartsWith('/') ? $"'{name}' is an absolute path; artifact names are relative, such as cli/cli-1.0.tar.gz"
        : name.Split('/').Contains("..") ? $"'{name}' holds a '..' segment; artifact names may not leave their folder"
        : name.Any(char.IsControl) ? "the artifact name holds a control character"
        : null;

    /// <summary>
    /// Whether <paramref name="path"/> (relative to the call's directory) is in the workspace: the runner and a container
    /// share the workspace only (mounted at the same path), so any other path would be another file than the job's.
    /// </summary>
    private async Task<bool> InWorkspaceAsync(string action, string path)
    {
        if (context.Workspace is not { Length: > 0 } workspace)
        {
            return true;
        }

        var full = path.StartsWith('/') ? path : directory.TrimEnd('/') + "/" + path;
        if (!full.Split('/').Contains("..") && (full + "/").StartsWith(workspace.TrimEnd('/') + "/", StringComparison.Ordinal))
        {
            return true;
        }

        await Error($"artifact {action}: '{path}' is outside the workspace ({workspace}); the runner pushes and pulls a sandboxed or container job's artifacts in its workspace only")
            .ConfigureAwait(false);
        return false;
    }

    private async Task<int> PushAsync(List<string> args)
    {
        var scope = "build";
        var i = 0;
        for (; i < args.Count; i++)
        {
            if (args[i] is "--build" or "--job" or "--project")
            {
                scope = args[i][2..];
            }
            else if (args[i] == "--")
            {
                i++;
                break;
            }
            else if (args[i].StartsWith('-'))
            {
                await Error($"artifact push: unknown option '{args[i]}'").ConfigureAwait(false);
                return 2;
            }
            else
            {
                break;
            }
        }

        var positional = args.Skip(i).ToList();
        if (positional.Count is < 1 or > 2)
        {
            await Error("artifact push: give PATH and optionally NAME").ConfigureAwait(false);
            return 2;
        }

        var path = positional[0];
        if (!await InWorkspaceAsync("push", path).ConfigureAwait(false))
        {
            return 2;
        }

        var kind = await RunTextAsync(KindScript, [path, context.Workspace ?? ""]).ConfigureAwait(false);
        var lines = kind.Split('\n');
        if (lines[0] == "outside")
        {
            await Error($"artifact push: '{path}' leads out of the workspace through a symbolic link; the runner pushes files of the workspace only").ConfigureAwait(false);
            return 2;
        }

        if (lines[0] is not ("dir" or "file"))
        {
            await Error($"artifact push: '{path}' does not exist").ConfigureAwait(false);
            return 1;
        }

        var folder = lines[0] == "dir";
        var name = positional.Count > 1 ? positional[1] : folder ? $"{(lines.Length > 1 ? lines[1] : "")}.tar.gz" : BaseName(path);
        if (Problem(name) is { } problem)
        {
            await Error($"artifact push: {problem}").ConfigureAwait(false);
            return 2;
        }

        // Packed (or copied) whole before it is sent: a folder that cannot be read completely never reaches the portal half.
        var upload = Path.Combine(Path.GetTempPath(), $"kaizen-artifact-{Guid.NewGuid():N}");
        try
        {
            int exitCode;
            await using (var file = new FileStream(upload, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(upload, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                (exitCode, _) = await context.Files.StreamAsync(directory, folder ? "tar -czf - -C \"$1\" ." : "cat -- \"$1\"", [path], null,
                    stdout => stdout.CopyToAsync(file, 1 << 20, cancellationToken), cancellationToken).ConfigureAwait(false);
            }

            if (exitCode != 0)
            {
                await Error(folder ? $"artifact push: could not pack the folder '{path}'" : $"artifact push: could not read '{path}'").ConfigureAwait(false);
                return 1;
            }

            var size = new FileInfo(upload).Length;
            HttpResponseMessage response;
            try
            {
                await using var body = new FileStream(upload, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
                using var put = KaizenCalls.Request(context, HttpMethod.Put,
                    $"/api/jobs/artifacts/{scope}/{KaizenCalls.UrlPath(name)}?folder={(folder ? 1 : 0)}");
                put.Content = new StreamContent(body, 1 << 20);
                put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                put.Content.Headers.ContentLength = size;
                response = await KaizenCalls.Http.SendAsync(put, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                await Error($"artifact push: could not send '{name}' to the portal at {PortalText}").ConfigureAwait(false);
                return 1;
            }

            using (response)
            {
                var answer = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.Created:
                        await output.WriteLineAsync($"artifact: pushed {name} ({scope}, {KaizenCalls.Size(size)}) in {KaizenCalls.Elapsed(_started)}")
                            .ConfigureAwait(false);
                        return 0;
                    case HttpStatusCode.Unauthorized:
                        await Error("artifact push: the portal refused the job's token: the job is no longer running").ConfigureAwait(false);
                        return 1;
                    default:
                        await Error($"artifact push: the portal refused '{name}' ({(int)response.StatusCode}): {KaizenCalls.Detail(answer)}").ConfigureAwait(false);
                        return 1;
                }
            }
        }
        finally
        {
            CacheCommand.TryDelete(upload);
        }
    }

    private async Task<int> PullAsync(List<string> args)
    {
        var scope = "build";
        var wait = 600;
        var i = 0;
        for (; i < args.Count; i++)
        {
            if (args[i] is "--project" or "--build")
            {
                scope = args[i][2..];
            }
            else if (args[i] == "--wait")
            {
                if (i + 1 >= args.Count || args[i + 1].Length == 0 || !args[i + 1].All(char.IsAsciiDigit)
                    || !int.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out wait))
                {
                    await Error("artifact pull: --wait takes a number of seconds").ConfigureAwait(false);
                    return 2;
                }

                i++;
            }
            else if (args[i] == "--")
            {
                i++;
                break;
            }
            else if (args[i].StartsWith('-'))
            {
                await Error($"artifact pull: unknown option '{args[i]}'").ConfigureAwait(false);
                return 2;
            }
            else
            {
                break;
            }
        }

        var positional = args.Skip(i).ToList();
        if (positional.Count is < 1 or > 2)
        {
            await Error("artifact pull: give NAME and optionally DEST").ConfigureAwait(false);
            return 2;
        }

        var name = positional[0];
        if (!await InWorkspaceAsync("pull", positional.Count > 1 ? positional[1] : directory).ConfigureAwait(false))
        {
            return 2;
        }

        if (Problem(name) is { } problem)
        {
            await Error($"artifact pull: {problem}").ConfigureAwait(false);
            return 2;
        }

        var url = $"/api/jobs/artifacts/{scope}/{KaizenCalls.UrlPath(name)}";
        var deadline = Stopwatch.GetTimestamp() + (wait * Stopwatch.Frequency);
        var waiting = false;
        var download = Path.Combine(Path.GetTempPath(), $"kaizen-artifact-{Guid.NewGuid():N}");
        try
        {
            bool isFolder;
            while (true)
            {
                HttpResponseMessage response;
                try
                {
                    using var get = KaizenCalls.Request(context, HttpMethod.Get, url);
                    response = await KaizenCalls.Http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    await Error($"artifact pull: could not fetch '{name}' from the portal at {PortalText}").ConfigureAwait(false);
                    return 1;
                }

                using (response)
                {
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        isFolder = response.Headers.TryGetValues(FolderHeader, out var values)
                            && values.Any(v => v.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));
                        try
                        {
                            await using var file = new FileStream(download, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(download, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                            await response.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
                        {
                            await Error($"artifact pull: could not fetch '{name}' from the portal at {PortalText}").ConfigureAwait(false);
                            return 1;
                        }

                        break;
                    }

                    var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    switch (response.StatusCode)
                    {
                        case HttpStatusCode.Unauthorized:
                            await Error("artifact pull: the portal refused the job's token: the job is no longer running").ConfigureAwait(false);
                            return 1;
                        case HttpStatusCode.NotFound when response.Headers.RetryAfter is not null:
                            // Another job of the build is queued or running and may still push it.
                            if (Stopwatch.GetTimestamp() < deadline)
                            {
                                if (!waiting)
                                {
                                    await output.WriteLineAsync($"artifact: waiting up to {wait}s for {name}: {KaizenCalls.Detail(body)}").ConfigureAwait(false);
                                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                                    waiting = true;
                                }

                                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
                                continue;
                            }

                            await Error($"artifact pull: '{name}' did not arrive within {wait}s (--wait)").ConfigureAwait(false);
                            return 1;
                        case HttpStatusCode.NotFound:
                            await Error($"artifact pull: {KaizenCalls.Detail(body)}").ConfigureAwait(false);
                            return 1;
                        default:
                            await Error($"artifact pull: the portal refused '{name}' ({(int)response.StatusCode}): {KaizenCalls.Detail(body)}").ConfigureAwait(false);
                            return 1;
                    }
                }
            }

            var size = KaizenCalls.Size(new FileInfo(download).Length);
            var last = name[(name.LastIndexOf('/') + 1)..];
            string dest;
            int exitCode;
            if (isFolder)
            {
                // A folder comes back as a folder.
                dest = positional.Count > 1 && positional[1].Length > 0 ? positional[1]
                    : last.EndsWith(".tar.gz", StringComparison.Ordinal) ? last[..^".tar.gz".Length] : last;
                (exitCode, _) = await context.Files.StreamAsync(directory, UnpackScript, [dest], Feed(download), null, cancellationToken).ConfigureAwait(false);
                if (exitCode != 0)
                {
                    await Error($"artifact pull: could not unpack '{name}' into '{dest}'").ConfigureAwait(false);
                    return 1;
                }
            }
            else
            {
                // DEST names a folder when it is one or ends with '/'.
                dest = positional.Count > 1 && positional[1].Length > 0 ? positional[1] : last;
                using var written = new MemoryStream();
                (exitCode, _) = await context.Files.StreamAsync(directory, WriteFileScript, [dest, last], Feed(download),
                    s => s.CopyToAsync(written, cancellationToken), cancellationToken).ConfigureAwait(false);
                if (exitCode != 0)
                {
                    await Error($"artifact pull: could not write '{dest}'").ConfigureAwait(false);
                    return 1;
                }

                dest = JobFiles.Utf8.GetString(written.ToArray());
            }

            await output.WriteLineAsync($"artifact: pulled {name} ({size}) to {dest} in {KaizenCalls.Elapsed(_started)}").ConfigureAwait(false);
            return 0;
        }
        finally
        {
            CacheCommand.TryDelete(download);
        }
    }

    private Func<Stream, Task> Feed(string file) => async input =>
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        await stream.CopyToAsync(input, 1 << 20, cancellationToken).ConfigureAwait(false);
    };

    private string PortalText => context.Portal!.ToString().TrimEnd('/');

    private async Task<string> RunTextAsync(string script, IReadOnlyList<string> arguments)
    {
        using var text = new MemoryStream();
        await context.Files.StreamAsync(directory, script, arguments, null, s => s.CopyToAsync(text, cancellationToken), cancellationToken).ConfigureAwait(false);
        return JobFiles.Utf8.GetString(text.ToArray()).TrimEnd('\n');
    }

    /// <summary>basename(1): the last segment, trailing slashes ignored.</summary>
    private static string BaseName(string path)
    {
        var trimmed = path.TrimEnd('/');
        return trimmed.Length == 0 ? "/" : trimmed[(trimmed.LastIndexOf('/') + 1)..];
    }
}
