using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Kaizen.Portal.Artifacts;

/// <summary>One artifact as the API shows it. <see cref="Url"/> downloads it (a project download's stable URL).</summary>
public sealed record ArtifactResponse(long Id, string Scope, string Name, long Size, string Sha256, bool Folder,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, long? BuildId, long? JobId, string? JobName, string Url)
{
    public static ArtifactResponse From(ArtifactRow a) => new(a.Id, a.Scope, a.Name, a.Size, a.Sha256, a.Folder,
        DateTimeOffset.FromUnixTimeMilliseconds(a.CreatedAt),
        a.ExpiresAt is { } expires ? DateTimeOffset.FromUnixTimeMilliseconds(expires) : null,
        a.BuildId, a.JobId, a.JobName, ArtifactUrls.Of(a));
}

/// <summary>Who sees an artifact of a project they may read: a deploy's own artifacts are deployment detail, like its
/// log, so signed-in people only (a project's downloads are meant for everyone who may read the project).</summary>
public static class ArtifactAccess
{
    public static bool CanSee(System.Security.Claims.ClaimsPrincipal? user, ArtifactRow artifact) =>
        artifact.DeployId is null || artifact.Scope == ArtifactScope.Project || ProjectAccess.IsSignedIn(user);
}

/// <summary>Where artifacts are downloaded from.</summary>
public static class ArtifactUrls
{
    /// <summary>A project download's stable URL, or a build's artifact by id.</summary>
    public static string Of(ArtifactRow a) =>
        a.Scope == ArtifactScope.Project ? Download(a.ProjectSlug, a.Name) : $"/api/v1/artifacts/{a.Id}";

    public static string Download(string projectSlug, string name) =>
        $"/downloads/{Uri.EscapeDataString(projectSlug)}/{string.Join('/', name.Split('/').Select(Uri.EscapeDataString))}";

    /// <summary>The stable "newest of this kind" URL for a download: <c>cli/cli-1.4.0.tar.gz</c> → <c>cli/latest.tar.gz</c>.</summary>
    public static string LatestName(string name)
    {
        var file = ArtifactNames.FileName(name);
        // The extension is the trailing run of ".letters..." parts, so a version's ".0" is not taken for one.
        var start = file.Length;
        var dot = file.LastIndexOf('.');
        while (dot > 0 && dot + 1 < file.Length && char.IsAsciiLetter(file[dot + 1]))
        {
            start = dot;
            dot = file.LastIndexOf('.', dot - 1);
        }
        var folder = ArtifactNames.Folder(name);
        var latest = "latest" + file[start..];
        return folder.Length == 0 ? latest : $"{folder}/{latest}";
    }
}

/// <summary>
/// Artifact endpoints: /api/jobs/artifacts for a running job's shell (its job token), /api/v1 for people, and the
/// stable download URLs /downloads/{project}/{path} (anonymous for a public project's downloads).
/// </summary>
public static class ArtifactEndpoints
{
    /// <summary>Response header of a job's pull: the artifact was pushed as a folder (a .tar.gz to unpack).</summary>
    public const string FolderHeader = "Kaizen-Artifact-Folder";

    public static IEndpointRouteBuilder MapArtifacts(this IEndpointRouteBuilder app)
    {
        var job = app.MapGroup(JobTokenAuthentication.PathPrefix + "/artifacts").RequireAuthorization(JobTokenAuthentication.Policy)
            .ExcludeFromDescription();
        job.MapPut("/{scope}/{**name}", Push).DisableAntiforgery();
        job.MapGet("/{scope}/{**name}", Pull);

        var open = app.MapGroup("/api/v1").WithTags("Artifacts");
        open.MapGet("/builds/{id:long}/artifacts", ListOfBuild).WithSummary("The build's artifacts (its jobs', its own, and the downloads it published).");
        open.MapGet("/projects/{slug}/downloads", ListDownloads).WithSummary("The project's downloads, newest first.");
        open.MapGet("/artifacts/{id:long}", Download).WithSummary("Download one artifact.");
        app.MapDelete("/api/v1/artifacts/{id:long}", Delete).RequireAuthorization(ApiEndpoints.WritePolicy).WithTags("Artifacts")
            .WithSummary("Delete one artifact.");
        // HEAD too: install scripts and link checkers ask whether a download exists before fetching it.
        app.MapMethods("/downloads/{project}/{**path}", [HttpMethods.Get, HttpMethods.Head], StableDownload).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> Push(string scope, string name, HttpContext http, ArtifactService artifacts,
        LiveUpdates live, ILogger<ArtifactService> logger, CancellationToken ct)
    {
        if (!ArtifactScope.IsKnown(scope)) return Problem(400, $"Unknown scope '{scope}': use job, build or project.");
        if (ArtifactNames.Problem(name) is { } problem) return Problem(400, problem);
        var job = http.User.Job();
        if (job.DebugSessionId is not null) return Problem(403, JobTokenAuthentication.DebugRefusal);
        if (scope == ArtifactScope.Project && job.FromFork)
            return Problem(403, "A fork's build may not publish project downloads.");
        if (http.Request.ContentLength > artifacts.MaxBytes) return Problem(413, new ArtifactTooLargeException(artifacts.MaxBytes).Message);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = artifacts.MaxBytes + 1;
        var folder = http.Request.Query["folder"] is ["1" or "true"];
        try
        {
            var row = await artifacts.PushAsync(new ArtifactPush(job, scope, name, folder), http.Request.Body, ct);
            live.Publish(LiveUpdates.Keys.Build(job.BuildId));
            return Results.Created(ArtifactUrls.Of(row), ArtifactResponse.From(row));
        }
        catch (ArtifactTooLargeException ex)
        {
            return Problem(413, ex.Message);
        }
        catch (BuildEndedException ex)
        {
            return Problem(409, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && !ct.IsCancellationRequested && !Hosting.StorageFull.Is(ex))
        {
            logger.LogError(ex, "Storing artifact {Name} of job {JobId} failed", name, job.JobId);
            return Problem(507, $"The portal could not store the artifact: {ex.GetType().Name}. The portal's log has the details.");
        }
    }

    private static async Task<IResult> Pull(string scope, string name, HttpContext http, ArtifactService artifacts,
        ArtifactStore store, CancellationToken ct)
    {
        if (!ArtifactScope.IsKnown(scope)) return Problem(400, $"Unknown scope '{scope}': use job, build or project.");
        if (ArtifactNames.Problem(name) is { } problem) return Problem(400, problem);
        var job = http.User.Job();
        var found = scope switch
        {
            ArtifactScope.Project => await artifacts.FindDownloadAsync(job.ProjectId, name, ct),
            ArtifactScope.Job => (await store.OfBuildAsync(job.BuildId, ct))
                .LastOrDefault(a => a.JobId == job.JobId && a.Scope == ArtifactScope.Job && a.Name == name),
            _ => await artifacts.FindInBuildAsync(job.BuildId, name, ct),
        };
        if (found is null)
        {
            if (scope != ArtifactScope.Build) return Problem(404, $"No {scope} artifact '{name}'.");
            var others = await store.OtherActiveJobsAsync(job.BuildId, job.JobId, ct);
            if (others == 0)
                return Problem(404, $"No artifact '{name}' in build {job.BuildId}, and no other job of the build is queued or " +
                    "running, so none can push it any more.");
            // Another job may still push it: the caller may ask again after a while.
            http.Response.Headers.RetryAfter = "2";
            return Problem(404, $"No artifact '{name}' in build {job.BuildId} yet; {others} other job(s) of the build may still push it.");
        }
        return await FileAsync(found, http, artifacts, ct);
    }

    private static async Task<IResult> ListOfBuild(long id, ClaimsPrincipal user, BuildStore builds, ProjectStore projects,
        ArtifactStore store, CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        if (build is null || !ProjectAccess.CanRead(user, await projects.FindBySlugAsync(build.ProjectSlug, ct)))
            return Problem(404, $"No build {id}.");
        return Results.Ok((await store.OfBuildAsync(id, ct)).Where(a => ArtifactAccess.CanSee(user, a)).Select(ArtifactResponse.From).ToList());
    }

    private static async Task<IResult> ListDownloads(string slug, ClaimsPrincipal user, ProjectStore projects, ArtifactStore store,
        CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (!ProjectAccess.CanRead(user, project)) return Problem(404, $"No project '{slug}'.");
        return Results.Ok((await store.DownloadsAsync(project.Id, ct)).Select(ArtifactResponse.From).ToList());
    }

    private static async Task<IResult> Download(long id, HttpContext http, ProjectStore projects, ArtifactStore store,
        ArtifactService artifacts, CancellationToken ct)
    {
        var artifact = await store.FindAsync(id, ct);
        if (artifact is null || !ArtifactAccess.CanSee(http.User, artifact)
            || !ProjectAccess.CanRead(http.User, await projects.FindBySlugAsync(artifact.ProjectSlug, ct)))
            return Problem(404, $"No artifact {id}.");
        return await FileAsync(artifact, http, artifacts, ct);
    }

    private static async Task<IResult> Delete(long id, ArtifactStore store, ArtifactService artifacts, CancellationToken ct)
    {
        var artifact = await store.FindAsync(id, ct);
        if (artifact is null || !await artifacts.DeleteAsync(artifact, ct)) return Problem(404, $"No artifact {id}.");
        return Results.NoContent();
    }

    /// <summary>A private project's downloads answer 404 to anyone not signed in, exactly like a missing project.</summary>
    private static async Task<IResult> StableDownload(string project, string path, HttpContext http, ProjectStore projects,
        ArtifactService artifacts, CancellationToken ct)
    {
        var row = await projects.FindBySlugAsync(project, ct);
        if (!ProjectAccess.CanRead(http.User, row) || ArtifactNames.Problem(path) is not null) return Problem(404, "No such download.");
        var artifact = await artifacts.FindDownloadAsync(row.Id, path, ct);
        if (artifact is null) return Problem(404, $"No download '{path}' in project '{project}'.");
        // "latest" names move on with every upload; exact names never change, but a replaced one would.
        http.Response.Headers.CacheControl = "no-cache";
        return await FileAsync(artifact, http, artifacts, ct);
    }

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    private static async Task<IResult> FileAsync(ArtifactRow artifact, HttpContext http, ArtifactService artifacts, CancellationToken ct)
    {
        var stream = await artifacts.OpenAsync(artifact, ct);
        if (stream is null) return Problem(404, $"The bytes of artifact '{artifact.Name}' are missing from the portal's storage.");
        http.Response.Headers[FolderHeader] = artifact.Folder ? "true" : "false";
        var file = ArtifactNames.FileName(artifact.Name);
        if (!ContentTypes.TryGetContentType(file, out var contentType)) contentType = "application/octet-stream";
        return Results.File(stream, contentType, file, DateTimeOffset.FromUnixTimeMilliseconds(artifact.CreatedAt),
            new EntityTagHeaderValue($"\"{artifact.Sha256}\""), enableRangeProcessing: true);
    }

    private static IResult Problem(int status, string detail) => Results.Problem(detail, statusCode: status);
}
