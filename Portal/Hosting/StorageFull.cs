using Microsoft.Data.Sqlite;

namespace Kaizen.Portal.Hosting;

/// <summary>
/// Writes that fail because the portal's storage is out of space (SQLite's "database or disk is full" and disk I/O
/// errors, a file write that meets ENOSPC or a quota, SQL Server's full data or log file) are answered
/// <c>507 Insufficient Storage</c> with a problem document that says so, for every caller: API clients, runners, jobs.
/// The answer never carries the exception's message, which names server paths.
/// </summary>
public static class StorageFull
{
    public const string Title = "Insufficient storage";

    /// <summary>What callers are told; the operator's side (which disk, how full) is in /healthz and the portal's log.</summary>
    public const string Detail =
        "The portal's data disk is full: free space on the disk that holds the portal's data folder (or its database), " +
        "then send this again. Nothing was stored by this request; reads keep working meanwhile.";

    // errno on Linux (ENOSPC 28, EDQUOT 122) and macOS (EDQUOT 69); Windows: ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL.
    private static readonly int[] UnixCodes = [28, 122, 69];
    private static readonly int[] WindowsCodes = [0x27, 0x70];

    // SQL Server: 1101/1105 a filegroup could not grow, 9002 the transaction log is full, 3257 no room for a database file.
    private static readonly int[] SqlServerNumbers = [1101, 1105, 9002, 3257];

    /// <summary>True when <paramref name="exception"/> (or one it wraps) is a write refused for lack of space.</summary>
    public static bool Is(Exception? exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                // 13 SQLITE_FULL; 10 SQLITE_IOERR (a write the file system refused, which on a full disk is what one sees).
                case SqliteException sqlite when sqlite.SqliteErrorCode is 13 or 10:
                    return true;
                case Microsoft.Data.SqlClient.SqlException sql when sql.Errors.Cast<Microsoft.Data.SqlClient.SqlError>().Any(e => SqlServerNumbers.Contains(e.Number)):
                    return true;
                case IOException io when IsOutOfSpace(io):
                    return true;
                case AggregateException aggregate when aggregate.InnerExceptions.Any(Is):
                    return true;
            }
        }
        return false;
    }

    private static bool IsOutOfSpace(IOException io)
    {
        if (OperatingSystem.IsWindows()) return WindowsCodes.Contains(io.HResult & 0xFFFF);
        return UnixCodes.Contains(io.HResult);
    }

    /// <summary>The 507 answer.</summary>
    public static IResult Result() =>
        Results.Problem(Detail, statusCode: StatusCodes.Status507InsufficientStorage, title: Title);

    /// <summary>
    /// Turns storage-full failures into 507 answers (and tells <see cref="StorageHealth"/>, so /healthz and the admins'
    /// banner say so at once). Any other failure of an API call (/api/...) is answered as a JSON problem rather than an
    /// HTML error page or an empty body, so a runner or script always gets something it can read.
    /// </summary>
    public static IApplicationBuilder UseStorageFullAnswers(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        try
        {
            await next(http);
        }
        catch (Exception ex) when (Is(ex) && !http.Response.HasStarted)
        {
            var services = http.RequestServices;
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StorageFull));
            // In full once per outage: every runner's heartbeat fails too, and the log must stay readable (and small).
            if (services.GetRequiredService<StorageHealth>().RecordFull())
                logger.LogError(ex, "{Method} {Path} failed for lack of storage space; writes are answered 507 until space is freed",
                    http.Request.Method, http.Request.Path);
            else
                logger.LogDebug("{Method} {Path} failed for lack of storage space; answered 507", http.Request.Method, http.Request.Path);
            http.Response.Clear();
            http.Response.StatusCode = StatusCodes.Status507InsufficientStorage;
            await Result().ExecuteAsync(http);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !http.Response.HasStarted
                                   && http.Request.Path.StartsWithSegments("/api"))
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StorageFull))
                .LogError(ex, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
            http.Response.Clear();
            http.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await Results.Problem("The portal failed to handle this request; its log has the details.",
                statusCode: StatusCodes.Status500InternalServerError, title: "Internal error").ExecuteAsync(http);
        }
    });
}
