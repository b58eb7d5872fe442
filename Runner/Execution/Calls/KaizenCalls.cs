using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace Kaizen.Runner.Execution.Calls;

/// <summary>
/// What the runner knows of one job for its <c>kaizen cache|checksum|artifact</c> calls: where its files are (and how to
/// reach them safely, <see cref="Files"/>), the portal and the job's token (held here, in the runner's process, and never
/// given to a process of the job's), this runner's copies of the project's caches and their budget.
/// </summary>
/// <param name="Portal">The portal's address; null: caches live in <paramref name="CacheDirectory"/> alone and artifacts
/// are not available.</param>
/// <param name="Workspace">The job's workspace: artifact paths must be in it (the runner and a container share nothing else).</param>
/// <param name="DebugSession">The calls are a debug session's (its token reads caches and never writes them).</param>
public sealed record KaizenCallContext(
    JobFiles Files, Uri? Portal, string? Token, string? CacheDirectory, long CacheMaxMegabytes, string? Workspace, bool DebugSession)
{
    /// <summary>The context described by the runner's variables for a job (<see cref="KaizenFunctions.PrivateVariables"/>
    /// and the job's own <c>KAIZEN_WORKSPACE</c> and <c>KAIZEN_DEBUG_SESSION</c>).</summary>
    public static KaizenCallContext From(JobFiles files, IReadOnlyDictionary<string, string> variables)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(variables);
        string? Get(string name) => variables.TryGetValue(name, out var value) && value.Length > 0 ? value : null;
        var max = long.TryParse(Get("KAIZEN_CACHE_MAX_MB"), NumberStyles.None, CultureInfo.InvariantCulture, out var mb)
            ? mb : KaizenFunctions.DefaultCacheMaxMegabytes;
        return new KaizenCallContext(
            files,
            Get("KAIZEN_PORTAL_URL") is { } url && Uri.TryCreate(url, UriKind.Absolute, out var portal) ? portal : null,
            Get(KaizenFunctions.JobTokenVariable),
            Get("KAIZEN_CACHE_DIR"),
            max,
            Get("KAIZEN_WORKSPACE"),
            Get("KAIZEN_DEBUG_SESSION") is not null);
    }
}

/// <summary>
/// The runner's side of a job's <c>kaizen cache</c>, <c>kaizen checksum</c> and <c>kaizen artifact</c> calls: the job's
/// <c>kaizen</c> function forwards its arguments and directory (see <see cref="Docker.KaizenForwarder"/>), this class does
/// the work (HTTP to the portal with the job's token, the runner's cache copies, hashes) and writes what the job's log
/// shows; the job's files are read and written through <see cref="JobFiles"/>. Returns the call's exit code.
/// </summary>
public static class KaizenCalls
{
    public const string Usage = """
        Usage:
          kaizen cache restore NAME KEYFILE... -- PATH...   restore PATH... from the cache entry NAME-<checksum of KEYFILE...>,
                                                            or from the newest NAME-* entry when that one is missing
          kaizen cache store NAME KEYFILE... -- PATH...     store PATH... as NAME-<checksum of KEYFILE...> unless it exists
          kaizen cache restore|store [--fallback PREFIX]... --key 'deps-{{ checksum "yarn.lock" }}' -- PATH...
                                                            the same with a key template; restore tries the key, then each
                                                            PREFIX in turn (that key, or the newest key starting with it)
          kaizen cache has KEY                              exit 0 when the entry KEY exists, 1 when not
          kaizen tool use NAME VERSION [--path DIR]... -- INSTALL...
                                                            install once per runner (INSTALL runs in the tool's folder,
                                                            $KAIZEN_TOOL_PREFIX), then put its DIRs (default: bin) on PATH
          kaizen checksum KEYFILE...                        print the checksum a cache key uses
          kaizen artifact push [--build|--job|--project] PATH [NAME]
                                                            publish a file (or a folder, packed as .tar.gz) as an artifact of
                                                            the build (default), the job, or the project's downloads
          kaizen artifact pull [--project] [--wait SECONDS] NAME [DEST]
                                                            fetch a build artifact (waiting up to SECONDS, default 600, while
                                                            other jobs of the build may still push it) or a project download
          kaizen help                                       this text
        PATHs are relative to the current directory. Caches are the portal's (shared by all runners) inside Kaizen jobs, a
        runner folder without a portal. A cache miss, a broken entry or an unreachable portal never fails the command.

        """;

    /// <summary>One client for every job's calls: connections to the portal are reused, and a restore or an artifact
    /// transfer may take as long as it takes (the job's cancellation stops it).</summary>
    internal static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        AutomaticDecompression = System.Net.DecompressionMethods.None,
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Runs <paramref name="arguments"/> (<c>cache ...</c>, <c>checksum ...</c>, <c>artifact ...</c>, <c>help</c>; anything
    /// else is a usage error)
    /// in the job's <paramref name="directory"/>, writing to <paramref name="output"/>.</summary>
    public static async Task<int> RunAsync(
        KaizenCallContext context, string directory, IReadOnlyList<string> arguments, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(output);
        var rest = arguments.Skip(1).ToList();
        switch (arguments.FirstOrDefault())
        {
            case "cache":
                return await new CacheCommand(context, directory, output, cancellationToken).RunAsync(rest).ConfigureAwait(false);
            case "checksum":
                var sum = await context.Files.ChecksumAsync(directory, rest, cancellationToken).ConfigureAwait(false);
                if (sum is null)
                {
                    await output.WriteLineAsync("checksum: could not read the key files").ConfigureAwait(false);
                    return 1;
                }

                await output.WriteLineAsync(sum).ConfigureAwait(false);
                return 0;
            case "artifact":
                return await new ArtifactCommand(context, directory, output, cancellationToken).RunAsync(rest).ConfigureAwait(false);
            case "help" or "-h" or "--help":
                await output.WriteAsync(Usage).ConfigureAwait(false);
                return 0;
            default:
                await output.WriteAsync(Usage).ConfigureAwait(false);
                return 2;
        }
    }

    /// <summary>Letters, digits, '.', '_', '+', '-', not starting with '.'.</summary>
    internal static bool ValidName(string name) =>
        name.Length > 0 && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-');

    /// <summary>"12.3 MB" / "512 KB".</summary>
    internal static string Size(long bytes)
    {
        if (bytes < 1048576)
        {
            return $"{(bytes + 1023) / 1024} KB";
        }

        var tenths = ((bytes * 10) + 524288) / 1048576;
        return $"{tenths / 10}.{tenths % 10} MB";
    }

    /// <summary>"40 ms" / "2.4 s" since <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    internal static string Elapsed(long started)
    {
        var micros = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        if (micros < 999500)
        {
            return $"{(micros + 500) / 1000} ms";
        }

        var tenths = (micros + 50000) / 100000;
        return $"{tenths / 10}.{tenths % 10} s";
    }

    /// <summary><paramref name="value"/> with every byte but unreserved ones and '/' percent-encoded, for a URL's path.</summary>
    internal static string UrlPath(string value)
    {
        var builder = new System.Text.StringBuilder();
        foreach (var b in JobFiles.Utf8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '~' or '/' or '-')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>A request to the portal with the job's token.</summary>
    internal static HttpRequestMessage Request(KaizenCallContext context, HttpMethod method, string pathAndQuery)
    {
        var request = new HttpRequestMessage(method, new Uri(context.Portal!.ToString().TrimEnd('/') + pathAndQuery));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", context.Token);
        return request;
    }

    /// <summary>The "detail" of the portal's problem answer, else the start of the answer.</summary>
    internal static string Detail(string body)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && json.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == System.Text.Json.JsonValueKind.String)
            {
                return detail.GetString() ?? "";
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return body.Length > 300 ? body[..300] : body;
    }

    /// <summary>Why a request did not reach the portal, in one line.</summary>
    internal static string Reason(Exception exception)
    {
        var inner = exception;
        while (inner.InnerException is not null && inner is HttpRequestException or IOException)
        {
            inner = inner.InnerException;
        }

        return JobFiles.FirstLine(inner.Message);
    }
}
