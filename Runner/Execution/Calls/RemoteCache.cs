using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Kaizen.Runner.Execution.Calls;

/// <summary>
/// Caches stored by the portal, shared by all its runners. Archives stream straight through: the portal's bytes go into
/// <c>zstd -d | tar -x</c> in the job's files as they arrive (and into this runner's copy, kept for the next restore
/// when the bytes hash to the portal's entry), and <c>tar | zstd</c> goes up as it is made. An upload ends with a mark
/// only when tar and zstd both succeeded: the portal stores nothing without it, so a failing tar or a dropped connection
/// never leaves a broken entry under a key that cannot be written again.
/// </summary>
internal sealed class RemoteCache(KaizenCallContext context, string directory, TextWriter output, long started, CancellationToken cancellationToken)
{
    private const string KeyHeader = "Kaizen-Cache-Key";
    private const string MatchHeader = "Kaizen-Cache-Match";
    private const string IdHeader = "Kaizen-Cache-Id";
    private const string SourceHeader = "Kaizen-Cache-Source";
    private const string Sha256Header = "Kaizen-Cache-Sha256";

    /// <summary>Without zstd on the runner the portal compresses and decompresses: same archives, more bytes sent.</summary>
    private static bool Plain => !CacheCommand.CanCompress;

    private string? Folder => context.CacheDirectory;

    private Task Line(string text) => output.WriteLineAsync(text);

    public async Task RestoreAsync(string key, string name, List<string> fallbacks, List<string> paths)
    {
        List<string> query = [];
        if (name.Length > 0)
        {
            query.Add("name=" + KaizenCalls.UrlPath(name));
        }

        query.AddRange(fallbacks.Select(f => "fallback=" + KaizenCalls.UrlPath(f)));

        // Without fallbacks of its own, a classic NAME KEYFILE... restore falls back to the newest NAME-* entry.
        if (fallbacks.Count == 0 && name.Length > 0 && key != name)
        {
            query.Add("fallback=" + KaizenCalls.UrlPath(name + "-"));
        }

        if (Plain)
        {
            query.Add("format=tar");
        }

        var copies = Plain ? "" : Copies();
        var (retry, _) = await TryRestoreAsync(key, paths, query, copies).ConfigureAwait(false);
        if (retry)
        {
            // This runner's copy did not hash to the portal's entry: it is gone, and the portal sends the entry itself.
            await TryRestoreAsync(key, paths, query, "").ConfigureAwait(false);
        }
    }

    /// <summary>One restore request; returns whether to ask again without naming this runner's copies.</summary>
    private async Task<(bool Retry, bool Done)> TryRestoreAsync(string key, List<string> paths, List<string> query, string copies)
    {
        var all = copies.Length > 0 ? [.. query, "have=" + copies] : query;
        var url = $"/api/jobs/caches/{KaizenCalls.UrlPath(key)}{(all.Count > 0 ? "?" + string.Join('&', all) : "")}";
        HttpResponseMessage response;
        try
        {
            using var request = KaizenCalls.Request(context, HttpMethod.Get, url);
            response = await KaizenCalls.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            await Line($"cache: warning: could not reach the portal at {PortalText} ({KaizenCalls.Reason(ex)}); continuing without a cache").ConfigureAwait(false);
            return (false, true);
        }

        using (response)
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    return await UnpackAsync(key, paths, response).ConfigureAwait(false);
                case HttpStatusCode.NotFound:
                    await Line($"cache: miss for {key} (nothing stored yet)").ConfigureAwait(false);
                    break;
                case HttpStatusCode.Unauthorized:
                    await Line("cache: warning: the portal refused the job's token (the job is no longer running); continuing without a cache").ConfigureAwait(false);
                    break;
                default:
                    var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    await Line($"cache: warning: the portal answered {(int)response.StatusCode} for {key}: {KaizenCalls.Detail(body)}; continuing without a cache")
                        .ConfigureAwait(false);
                    break;
            }
        }

        return (false, true);
    }

    private string PortalText => context.Portal!.ToString().TrimEnd('/');

    private async Task<(bool Retry, bool Done)> UnpackAsync(string key, List<string> paths, HttpResponseMessage response)
    {
        string Header(string name) => response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()?.Trim() ?? "" : "";
        var matched = Header(KeyHeader);
        var exact = Header(MatchHeader) == "exact";
        var id = Header(IdHeader);
        var fromRunner = Header(SourceHeader) == "runner";
        var sha256 = Header(Sha256Header).ToLowerInvariant();
        if (!CacheKeyText(matched) || !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            await Line($"cache: warning: the portal's answer for {key} named no entry; continuing without a cache").ConfigureAwait(false);
            return (false, true);
        }

        var copy = Folder is null ? null : Path.Combine(Folder, $"{matched}@{id}.tar.zst");
        string size, where = "";
        int exitCode;
        var reason = "";
        string? partial = null;
        if (fromRunner)
        {
            // Used only when its bytes are the portal's entry: a copy changed on disk (or by anyone) is not restored.
            if (copy is null || sha256.Length == 0 || !await HashMatchesAsync(copy, sha256).ConfigureAwait(false))
            {
                if (copy is not null)
                {
                    CacheCommand.TryDelete(copy);
                }

                await Line($"cache: warning: this runner's copy of {matched} does not match the portal's entry; removed it, fetching the entry").ConfigureAwait(false);
                return (true, false);
            }

            size = KaizenCalls.Size(CacheCommand.SizeOf(copy));
            where = ", this runner's copy";
            (exitCode, reason) = await ExtractAsync("zstd -q -d -c | tar -xf -", async input =>
            {
                await using var file = new FileStream(copy, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
                await file.CopyToAsync(input, 1 << 20, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        else
        {
            size = Plain ? "sent as tar: zstd is not installed here" : KaizenCalls.Size(response.Content.Headers.ContentLength ?? 0);

            // The copy is written next to where it will stay, so keeping it is a rename, not a second copy.
            if (!Plain && copy is not null && sha256.Length > 0)
            {
                try
                {
                    Directory.CreateDirectory(Folder!);
                    partial = Path.Combine(Folder!, $".restore.{Guid.NewGuid():N}.tmp");
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    partial = null;
                }
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var received = false;
            (exitCode, reason) = await ExtractAsync(Plain ? "tar -xf -" : "zstd -q -d -c | tar -xf -", async input =>
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using var keep = partial is null ? null : new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    if (keep is not null)
                    {
                        await keep.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }

                    await input.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }

                received = true;
            }).ConfigureAwait(false);
            if (exitCode == 0 && !received)
            {
                exitCode = 1;
            }

            var matches = sha256.Length > 0 && Convert.ToHexStringLower(hash.GetCurrentHash()) == sha256;
            if (exitCode == 0 && sha256.Length > 0 && !matches && !Plain)
            {
                (exitCode, reason) = (1, "its bytes do not hash to the portal's entry");
            }

            if (exitCode == 0 && partial is not null && matches)
            {
                try
                {
                    // Kept for the next restore here: an entry's id names its bytes for good.
                    File.Move(partial, copy!, overwrite: true);
                    partial = null;
                    await CacheCommand.EvictAsync(context, copy!, output, quiet: true).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                }
            }

            if (partial is not null)
            {
                CacheCommand.TryDelete(partial);
            }
        }

        if (exitCode == 0)
        {
            if (fromRunner)
            {
                CacheCommand.Touch(copy!);
            }

            await Line(exact
                ? $"cache: restored {key} ({size}{where}) in {KaizenCalls.Elapsed(started)}"
                : $"cache: no entry for {key}, restored the newest {matched} instead ({size}{where}) in {KaizenCalls.Elapsed(started)}").ConfigureAwait(false);
            return (false, true);
        }

        // A half-extracted tree is worse than none: the job's install step starts clean instead.
        await context.Files.RemoveAsync(directory, paths, CancellationToken.None).ConfigureAwait(false);
        if (fromRunner)
        {
            CacheCommand.TryDelete(copy!);
        }

        await Line($"cache: warning: could not restore {matched} (broken or cut-off archive{where}: {reason}); continuing without a cache").ConfigureAwait(false);
        return (false, true);
    }

    private static bool CacheKeyText(string key) => key.Length > 0 && KaizenCalls.ValidName(key);

    private async Task<(int ExitCode, string Reason)> ExtractAsync(string script, Func<Stream, Task> feed)
    {
        try
        {
            return await context.Files.StreamAsync(directory, script, [], feed, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return (1, KaizenCalls.Reason(ex));
        }
    }

    private async Task<bool> HashMatchesAsync(string file, string sha256)
    {
        try
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
            var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            return Convert.ToHexStringLower(hash) == sha256;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The entry ids this runner keeps copies of (KEY@ID.tar.zst; '@' is in no key), newest first, comma-separated.</summary>
    private string Copies()
    {
        if (Folder is null || !Directory.Exists(Folder))
        {
            return "";
        }

        return string.Join(',', new DirectoryInfo(Folder).EnumerateFiles("*@*.tar.zst")
            .OrderByDescending(f => f.LastWriteTimeUtc)
            .Select(f => f.Name[(f.Name.LastIndexOf('@') + 1)..^".tar.zst".Length])
            .Where(i => i.Length > 0 && i.All(char.IsAsciiDigit))
            .Take(100));
    }

    public async Task StoreAsync(string key, string name, List<string> paths)
    {
        HttpStatusCode status;
        try
        {
            using var head = KaizenCalls.Request(context, HttpMethod.Head, $"/api/jobs/caches/{KaizenCalls.UrlPath(key)}?store=1");
            using var answer = await KaizenCalls.Http.SendAsync(head, cancellationToken).ConfigureAwait(false);
            status = answer.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            await Line($"cache: warning: could not reach the portal at {PortalText} ({KaizenCalls.Reason(ex)}); {key} not stored").ConfigureAwait(false);
            return;
        }

        switch (status)
        {
            case HttpStatusCode.OK:
                await Line($"cache: {key} already stored, skipping").ConfigureAwait(false);
                return;
            case HttpStatusCode.NotFound:
                break;
            case HttpStatusCode.Forbidden:
                await Line($"cache: not storing {key}: {NoStoreReason}").ConfigureAwait(false);
                return;
            case HttpStatusCode.Unauthorized:
                await Line($"cache: warning: the portal refused the job's token (the job is no longer running); {key} not stored").ConfigureAwait(false);
                return;
            default:
                await Line($"cache: warning: the portal answered {(int)status} for {key}; not stored").ConfigureAwait(false);
                return;
        }

        var present = await new CacheCommand(context, directory, output, cancellationToken).PresentAsync(key, paths).ConfigureAwait(false);
        if (present is null)
        {
            return;
        }

        List<string> query = [];
        if (name.Length > 0)
        {
            query.Add("name=" + KaizenCalls.UrlPath(name));
        }

        if (Plain)
        {
            query.Add("format=tar");
        }

        var content = new ArchiveContent(context.Files, directory, present, Plain ? "tar" : "zst", cancellationToken);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zstd");
        HttpResponseMessage? response = null;
        string? sendError = null;
        try
        {
            using var put = KaizenCalls.Request(context, HttpMethod.Put, $"/api/jobs/caches/{KaizenCalls.UrlPath(key)}{(query.Count > 0 ? "?" + string.Join('&', query) : "")}");
            put.Content = content;
            response = await KaizenCalls.Http.SendAsync(put, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            sendError = KaizenCalls.Reason(ex);
        }

        using (response)
        {
            var code = response is null ? 0 : (int)response.StatusCode;
            var body = response is null ? "" : await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);

            // The portal's answer first: it may have found the key stored meanwhile and answered before reading the upload,
            // and a 201 means the mark, so the whole archive, arrived.
            switch (code)
            {
                case 200:
                    await Line($"cache: {key} was stored meanwhile by another job; keeping that one").ConfigureAwait(false);
                    return;
                case 403:
                    await Line($"cache: not storing {key}: {NoStoreReason}").ConfigureAwait(false);
                    return;
            }

            if (content.ArchiveError is { } archiveError && code is 0 or 400)
            {
                await Line($"cache: warning: could not archive {key} ({archiveError}); not stored").ConfigureAwait(false);
                return;
            }

            if (response is null)
            {
                await Line($"cache: warning: could not send {key} to the portal at {PortalText} ({sendError}); not stored").ConfigureAwait(false);
                return;
            }

            if (code == 201)
            {
                await Line($"cache: stored {key} ({KaizenCalls.Size(content.Sent)}) in {KaizenCalls.Elapsed(started)}").ConfigureAwait(false);
                foreach (var evicted in Evicted(body))
                {
                    await Line($"cache: evicted {evicted} (least recently used) to keep the project's caches within their budget").ConfigureAwait(false);
                }

                return;
            }

            await Line($"cache: warning: {key} not stored: the portal answered {code}: {KaizenCalls.Detail(body)}").ConfigureAwait(false);
        }
    }

    private static IEnumerable<string> Evicted(string body)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("evicted", out var evicted) && evicted.ValueKind == System.Text.Json.JsonValueKind.Array)
            {
                return [.. evicted.EnumerateArray().Select(e => e.GetString() ?? "").Where(e => e.Length > 0)];
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return [];
    }

    /// <summary>Why the portal refuses to store (403): a fork's build, or a debug session (its token reads, never writes).</summary>
    private string NoStoreReason => context.DebugSession
        ? "a debug session restores caches but does not store them (they belong to the build that ran)"
        : "builds of pull requests from forks may restore caches but not store them";

    /// <summary>The archive as it is made (<c>tar | zstd</c> in the job's files), then the mark when both succeeded.</summary>
    private sealed class ArchiveContent(JobFiles files, string directory, List<string> paths, string kind, CancellationToken cancellationToken) : HttpContent
    {
        public long Sent { get; private set; }

        public string? ArchiveError { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var (exitCode, error) = await files.StreamAsync(directory, CacheCommand.ArchiveScript(kind), paths, null, async stdout =>
            {
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await stdout.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    Sent += read;
                }
            }, cancellationToken).ConfigureAwait(false);
            if (exitCode != 0)
            {
                ArchiveError = error;
                return;
            }

            await stream.WriteAsync(CacheCommand.Mark, cancellationToken).ConfigureAwait(false);
            Sent += CacheCommand.Mark.Length;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
