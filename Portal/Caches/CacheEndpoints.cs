using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Artifacts;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace Kaizen.Portal.Caches;

/// <summary>
/// Cache endpoints: /api/jobs/caches for a running job's shell (<c>kaizen cache</c>, with the job's token) and
/// /api/v1/projects/{slug}/caches for people (list: signed in; delete: members and admins).
/// </summary>
public static class CacheEndpoints
{
    /// <summary>Response header of a restore: the key whose archive follows.</summary>
    public const string KeyHeader = "Kaizen-Cache-Key";

    /// <summary>Response header of a restore: <c>exact</c> or <c>fallback</c>.</summary>
    public const string MatchHeader = "Kaizen-Cache-Match";

    /// <summary>Response header of a restore: the entry's id, which names it for good (a key deleted and stored again
    /// gets a new one), so a runner may keep a copy under it.</summary>
    public const string IdHeader = "Kaizen-Cache-Id";

    /// <summary>Response header of a restore: <c>runner</c> when the runner said it has a copy of the entry (no body
    /// follows), else <c>portal</c>.</summary>
    public const string SourceHeader = "Kaizen-Cache-Source";

    /// <summary>Response header of a restore: the SHA-256 (hex) of the entry's stored bytes, when the portal has it. A
    /// runner uses its copy of an entry only when the copy hashes to this, and keeps a download only when it does.</summary>
    public const string Sha256Header = "Kaizen-Cache-Sha256";

    public static IEndpointRouteBuilder MapCaches(this IEndpointRouteBuilder app)
    {
        var job = app.MapGroup(JobTokenAuthentication.PathPrefix + "/caches").RequireAuthorization(JobTokenAuthentication.Policy)
            .ExcludeFromDescription();
        job.MapGet("/{key}", Restore);
        job.MapMethods("/{key}", [HttpMethods.Head], Exists);
        job.MapPut("/{key}", Store).DisableAntiforgery();

        var api = app.MapGroup("/api/v1/projects/{slug}/caches").WithTags("Caches");
        api.MapGet("", List).WithSummary("The project's cache entries (most recently used first) and each cache name's hits, misses and hit rate.")
            .Produces<CacheSummary>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{key}", DeleteOne).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Delete one cache entry: the key of the branch given by ?branch=, else the key of every branch.");
        api.MapDelete("", DeleteAll).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Delete every cache entry of the project (and its hit figures).");
        return app;
    }

    /// <summary>The archive of <paramref name="key"/>, else of the first <c>fallback</c> that matches (exactly, or the newest
    /// key starting with it): on the job's build's branch, else on the project's default branch (never another branch's,
    /// which any push could have written). A miss is a 404; either way the restore is counted under <c>name</c>. <c>have</c> lists the
    /// entry ids the runner keeps copies of: when the match is one of them, only the headers are sent.</summary>
    private static async Task<IResult> Restore(string key, HttpContext http, CacheService caches, CancellationToken ct)
    {
        var fallbacks = http.Request.Query["fallback"].Where(f => !string.IsNullOrEmpty(f)).Select(f => f!).ToList();
        var name = http.Request.Query["name"].FirstOrDefault() is { Length: > 0 } given ? given : CacheKeys.NameOf(key);
        var problem = CacheKeys.Problem(key) ?? CacheKeys.Problem(name, "cache name")
            ?? fallbacks.Select(f => CacheKeys.Problem(f, "fallback key")).FirstOrDefault(p => p is not null);
        if (problem is not null) return Problem(400, problem);
        var job = http.User.Job();
        var match = await caches.ResolveAsync(job.ProjectId, BranchesOf(job), key, fallbacks, name, ct);
        if (match is null) return Problem(404, $"No cache entry for {key}{(fallbacks.Count > 0 ? $" or {string.Join(", ", fallbacks.Select(f => f + "*"))}" : "")}.");
        http.Response.Headers[KeyHeader] = match.Entry.Key;
        http.Response.Headers[MatchHeader] = match.Exact ? "exact" : "fallback";
        http.Response.Headers[IdHeader] = match.Entry.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var have = http.Request.Query["have"].SelectMany(h => (h ?? "").Split(',')).Take(200)
            .Select(h => long.TryParse(h, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : 0);
        if (match.Entry.Sha256 is { Length: > 0 } sha256) http.Response.Headers[Sha256Header] = sha256;
        // Only an entry with a hash may be served from the runner's copy: the runner checks its copy against it.
        if (match.Entry.Sha256 is { Length: > 0 } && have.Contains(match.Entry.Id))
        {
            http.Response.Headers[SourceHeader] = "runner";
            http.Response.ContentLength = 0;
            return Results.Empty;
        }
        http.Response.Headers[SourceHeader] = "portal";
        var stream = await caches.OpenAsync(match.Entry, ct);
        if (stream is null) return Problem(404, $"The archive of cache entry {match.Entry.Key} is missing from the portal's storage.");
        if (http.Request.Query["format"] is [PlainTar.Format])
        {
            // A job without zstd gets the tar itself (its length is not known before the end: chunked).
            await using var tar = PlainTar.Decompress(stream);
            http.Response.ContentType = "application/x-tar";
            await tar.CopyToAsync(http.Response.Body, 1 << 20, ct);
            return Results.Empty;
        }
        await using (stream)
        {
            http.Response.ContentType = "application/zstd";
            http.Response.ContentLength = stream.CanSeek ? stream.Length : null;
            // Large writes: a restore is on the job's critical path, and fewer, bigger socket writes leave more of the
            // runner's CPU to zstd and tar (the default copy writes 64 KB at a time).
            await stream.CopyToAsync(http.Response.Body, 1 << 20, ct);
        }
        return Results.Empty;
    }

    /// <summary>The branches a job's caches are on: its build's (a deploy's and a debug session's too), then the default.</summary>
    private static CacheBranches BranchesOf(RunningJobIdentity job) => new(job.Branch, job.DefaultBranch);

    /// <summary>200 when the job's own branch has the key (what a store would write; an entry of the default branch does
    /// not keep a feature branch from storing its own), else 404 (<c>?store=1</c>: 403 when this job may not store caches).</summary>
    private static async Task<IResult> Exists(string key, HttpContext http, CacheStore store, CancellationToken ct)
    {
        if (CacheKeys.Problem(key) is { } problem) return Problem(400, problem);
        var job = http.User.Job();
        if (await store.ExistsAsync(job.ProjectId, job.Branch, key, ct)) return Results.Ok();
        if (http.Request.Query["store"] is not ["1"]) return Results.NotFound();
        return job.DebugSessionId is not null ? Problem(403, Artifacts.JobTokenAuthentication.DebugRefusal)
            : job.FromFork ? Problem(403, ForkRefusal) : Results.NotFound();
    }

    /// <summary>Why fork builds may not store: their code is someone else's, and what they stored would run in the
    /// project's own builds (cache poisoning), or evict the project's good entries.</summary>
    public const string ForkRefusal =
        "Builds of pull requests from forks may restore caches but not store them: their code is not the project's, and " +
        "what they stored would be restored by the project's own builds.";

    private static async Task<IResult> Store(string key, HttpContext http, CacheService caches, ILogger<CacheService> logger,
        CancellationToken ct)
    {
        var name = http.Request.Query["name"].FirstOrDefault() is { Length: > 0 } given ? given : CacheKeys.NameOf(key);
        if ((CacheKeys.Problem(key) ?? CacheKeys.Problem(name, "cache name")) is { } problem) return Problem(400, problem);
        var job = http.User.Job();
        if (job.DebugSessionId is not null) return Problem(403, Artifacts.JobTokenAuthentication.DebugRefusal);
        if (job.FromFork) return Problem(403, ForkRefusal);
        var limit = Math.Min(caches.MaxEntryBytes, caches.ProjectBudgetBytes);
        // A plain tar (a job without zstd) is compressed here; the limit is on what is stored, so its body may be larger.
        var plain = http.Request.Query["format"] is [PlainTar.Format];
        var bodyMax = (plain ? 4 * limit : limit) + CacheService.CompleteMark.Length;
        if (http.Request.ContentLength > bodyMax) return Problem(413, TooLarge(limit));
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
            bodyLimit.MaxRequestBodySize = bodyMax + 1;
        try
        {
            await using var content = plain ? PlainTar.Compress(http.Request.Body, ct) : null;
            // Only ever the job's own branch: a feature branch's build cannot write what the default branch's restore.
            var result = await caches.StoreAsync(job.ProjectId, job.Branch, key, name, job.BuildId, job.JobId, content ?? http.Request.Body, ct);
            return result.Outcome == CacheStoreOutcome.Stored
                ? Results.Json(new { key, status = "stored", evicted = result.Evicted }, statusCode: 201)
                : Results.Json(new { key, status = "exists", evicted = result.Evicted }, statusCode: 200);
        }
        catch (BlobTooLargeException)
        {
            return Problem(413, TooLarge(limit));
        }
        catch (CacheUploadIncompleteException ex)
        {
            return Problem(400, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && !ct.IsCancellationRequested && !Hosting.StorageFull.Is(ex))
        {
            logger.LogError(ex, "Storing cache entry {Key} of job {JobId} failed", key, job.JobId);
            return Problem(507, $"The portal could not store the cache entry: {ex.GetType().Name}. The portal's log has the details.");
        }
    }

    private static string TooLarge(long limit) =>
        $"The archive is larger than the limit of {limit / (1024 * 1024)} MB (Kaizen:Caches:MaxEntryMegabytes, Kaizen:Caches:ProjectMegabytes).";

    private static async Task<IResult> List(string slug, ClaimsPrincipal user, ProjectStore projects, CacheStore store,
        CacheService caches, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        // Caches are build machinery, like deploys: for signed-in people, never for visitors of a public project.
        if (!ProjectAccess.IsSignedIn(user) || !ProjectAccess.CanRead(user, project)) return Problem(404, $"No project '{slug}'.");
        return Results.Ok(CacheSummary.Of(await store.OfProjectAsync(project.Id, ct), await store.StatsAsync(project.Id, ct),
            caches.ProjectBudgetBytes, caches.MaxEntryBytes));
    }

    private static async Task<IResult> DeleteOne(string slug, string key, string? branch, ClaimsPrincipal user, ProjectStore projects,
        CacheService caches, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Problem(404, $"No project '{slug}'.");
        return await caches.DeleteAsync(project.Id, slug, key, string.IsNullOrEmpty(branch) ? null : branch, user, ct)
            ? Results.NoContent()
            : Problem(404, $"No cache entry '{key}'{(string.IsNullOrEmpty(branch) ? "" : $" of branch '{branch}'")} in project '{slug}'.");
    }

    private static async Task<IResult> DeleteAll(string slug, ClaimsPrincipal user, ProjectStore projects, CacheService caches,
        CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Problem(404, $"No project '{slug}'.");
        return Results.Ok(new { deleted = await caches.DeleteAllAsync(project.Id, slug, user, ct) });
    }

    private static IResult Problem(int status, string detail) => Results.Problem(detail, statusCode: status);
}
