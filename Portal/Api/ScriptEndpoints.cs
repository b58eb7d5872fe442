using System.Security.Claims;
using System.Text.Json;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Scripts;

namespace Kaizen.Portal.Api;

/// <summary>The body of PUT /api/v1/scripts/{name}.</summary>
public sealed record ScriptSaveRequest(string? Body, string? Description);

/// <summary>A version without its text (lists), or with it (one version).</summary>
public sealed record ScriptVersionResponse(int Version, string Description, string Author, DateTimeOffset CreatedAt, string? CommitSha,
    string? Body = null);

/// <summary>A script: the latest version's text and every version, newest first.</summary>
public sealed record ScriptResponse(string Name, string Description, int LatestVersion, DateTimeOffset UpdatedAt, string UpdatedBy,
    string Body, IReadOnlyList<ScriptVersionResponse> Versions);

/// <summary>A script in the list.</summary>
public sealed record ScriptSummaryResponse(string Name, string Description, int LatestVersion, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>Where the library's scripts come from. <see cref="WebhookSecret"/> is shown to admins only.</summary>
public sealed record ScriptLibraryResponse(bool GitBacked, string? GitUrl, string? Branch, string? Folder, string? ReadOnlyReason,
    DateTimeOffset? SyncedAt, string? SyncedCommit, string? SyncError, string? WebhookUrl, string? WebhookSecret);

/// <summary>The body of PUT /api/v1/script-library: the repository, and a credential (write-only) for https URLs.</summary>
public sealed record ScriptLibraryRequest(string? GitUrl, string? Branch, string? Folder, string? Username, string? Credential);

/// <summary>
/// The shared script library over HTTP: every signed-in person reads, members and admins save and delete (refused
/// in a git-backed library), admins choose where scripts come from; anonymous callers get nothing. The git host's
/// webhook (POST /webhooks/scripts) is verified with the library's secret.
/// </summary>
public static class ScriptEndpoints
{
    public const string WebhookPath = "/webhooks/scripts";

    // The JSON of a 256 KB script can be much longer than 256 KB (escapes); beyond this it is refused unread.
    private const int MaxRequestBytes = 2 * 1024 * 1024;

    public static IEndpointRouteBuilder MapScriptsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Scripts");
        api.MapGet("/scripts", ListAsync).WithSummary("Every script of the shared library with its latest version.");
        api.MapGet("/scripts/{name}", GetAsync).WithSummary("A script: its latest text and every version.");
        api.MapGet("/scripts/{name}/versions/{version:int}", GetVersionAsync).WithSummary("One version of a script, with its text.");
        api.MapGet("/scripts/{name}/usages", UsagesAsync).WithSummary("Build settings and servers that run the script now.");
        api.MapGet("/scripts/{name}/runs", RunsAsync).WithSummary("The script's recent runs and their durations, newest first.");
        api.MapPut("/scripts/{name}", SaveAsync).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Save a script ({ \"body\", \"description\" }); a changed one gets a new version.");
        api.MapDelete("/scripts/{name}", DeleteAsync).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Delete a script that no settings or server uses; builds that ran it keep their text.");
        api.MapPost("/scripts/sync", SyncAsync).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Read new commits of a git-backed library now.");
        api.MapGet("/script-library", LibraryAsync).WithSummary("Where the scripts come from (the portal, or a git repository).");
        api.MapPut("/script-library", ConfigureAsync).RequireAdmin()
            .WithSummary("Make the library git-backed: scripts are the *.sh files of a folder of a repository.");
        api.MapDelete("/script-library", DisableAsync).RequireAdmin().WithSummary("Manage scripts in the portal again.");
        app.MapPost(WebhookPath, WebhookAsync).AllowAnonymous().DisableAntiforgery().WithTags("Webhooks")
            .WithSummary("The git host's push webhook of a git-backed library (X-Hub-Signature-256 or X-Gitlab-Token).");
        return app;
    }

    private static async Task<IResult> ListAsync(ScriptLibrary library, CancellationToken ct) =>
        Results.Ok((await library.ListAsync(ct)).Select(s => new ScriptSummaryResponse(s.Name, s.Description, s.LatestVersion,
            DateTimeOffset.FromUnixTimeMilliseconds(s.UpdatedAt), s.UpdatedBy)));

    private static async Task<IResult> GetAsync(string name, ScriptLibrary library, CancellationToken ct)
    {
        var script = await library.GetAsync(name, ct);
        if (script is null) return NoScript(name);
        var s = script.Script;
        return Results.Ok(new ScriptResponse(s.Name, s.Description, s.LatestVersion, DateTimeOffset.FromUnixTimeMilliseconds(s.UpdatedAt),
            s.UpdatedBy, script.Versions.FirstOrDefault()?.Body ?? "", script.Versions.Select(v => Version(v, withBody: false)).ToList()));
    }

    private static async Task<IResult> GetVersionAsync(string name, int version, ScriptLibrary library, CancellationToken ct)
    {
        var found = await library.GetVersionAsync(name, version, ct);
        return found is null
            ? Results.Problem($"Script '{name}' has no version {version}.", statusCode: 404)
            : Results.Ok(Version(found, withBody: true));
    }

    private static async Task<IResult> UsagesAsync(string name, ScriptLibrary library, CancellationToken ct) =>
        Results.Ok(await library.UsagesAsync(name, ct));

    private static async Task<IResult> RunsAsync(string name, ScriptLibrary library, CancellationToken ct, int limit = ScriptLibrary.DefaultRunLimit) =>
        Results.Ok((await library.RecentRunsAsync(name, Math.Clamp(limit, 1, 200), ct)).Select(r => new
        {
            r.BuildId, r.JobId, Project = r.ProjectSlug, Job = r.JobName, r.Deploy, r.Version, r.Status,
            StartedAt = ApiTime(r.StartedAt), r.DurationMs, r.ExitCode,
        }));

    private static async Task<IResult> SaveAsync(string name, HttpRequest request, ScriptLibrary library, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request.ContentLength > MaxRequestBytes) return TooLarge();
        ScriptSaveRequest? body;
        try
        {
            using var limited = new MemoryStream();
            var buffer = new byte[81920];
            int read;
            while ((read = await request.Body.ReadAsync(buffer, ct)) > 0)
            {
                if (limited.Length + read > MaxRequestBytes) return TooLarge();
                limited.Write(buffer, 0, read);
            }
            body = limited.Length == 0 ? null : JsonSerializer.Deserialize<ScriptSaveRequest>(limited.ToArray(), JsonSerializerOptions.Web);
        }
        catch (JsonException e)
        {
            return Results.Problem($"The body is not valid JSON ({e.Message}). Send {{ \"body\": \"#!/bin/bash ...\", \"description\": \"...\" }}.",
                statusCode: 400);
        }
        if (body?.Body is null)
            return Results.Problem("Send a JSON body: { \"body\": \"the bash script\", \"description\": \"what it does\" }.", statusCode: 400);
        if (System.Text.Encoding.UTF8.GetByteCount(body.Body) > ScriptLibrary.MaxBodyBytes) return TooLarge();

        var saved = await library.SaveAsync(name, body.Body, body.Description, AuditLog.ActorOf(user), ct);
        if (!saved.Ok) return saved.ToProblemResult();
        return Results.Ok(new { saved.Value!.Name, saved.Value.Version, saved.Value.Changed });
    }

    private static async Task<IResult> DeleteAsync(string name, ScriptLibrary library, ClaimsPrincipal user, CancellationToken ct)
    {
        var deleted = await library.DeleteAsync(name, AuditLog.ActorOf(user), ct);
        return deleted.Ok ? Results.NoContent() : deleted.ToProblemResult();
    }

    private static async Task<IResult> SyncAsync(ScriptGitSync git, ClaimsPrincipal user, CancellationToken ct)
    {
        var synced = await git.SyncAsync(AuditLog.ActorOf(user), ct);
        return synced.Ok ? Results.Ok(synced.Value) : synced.ToProblemResult();
    }

    private static async Task<IResult> LibraryAsync(HttpContext http, ScriptLibrary library, ScriptGitSync git, ClaimsPrincipal user,
        CancellationToken ct) => Results.Ok(await LibraryResponseAsync(http, library, git, user, ct));

    private static async Task<IResult> ConfigureAsync(HttpContext http, ScriptLibraryRequest? body, ScriptLibrary library, ScriptGitSync git,
        ClaimsPrincipal user, CancellationToken ct)
    {
        if (body?.GitUrl is null)
            return Results.Problem("Send { \"gitUrl\": \"https://...\", \"branch\": null, \"folder\": \"scripts\", \"username\", \"credential\" }.",
                statusCode: 400);
        var configured = await git.ConfigureAsync(new ScriptGitSettings(body.GitUrl, body.Branch, body.Folder, body.Username, body.Credential),
            AuditLog.ActorOf(user), ct);
        if (!configured.Ok) return configured.ToProblemResult();
        return Results.Ok(new
        {
            Library = await LibraryResponseAsync(http, library, git, user, ct), Sync = configured.Value!.Synced, configured.Value.SyncError,
        });
    }

    private static async Task<IResult> DisableAsync(ScriptGitSync git, ClaimsPrincipal user, CancellationToken ct)
    {
        await git.DisableAsync(AuditLog.ActorOf(user), ct);
        return Results.NoContent();
    }

    private static async Task<IResult> WebhookAsync(HttpRequest request, ScriptGitSync git, CancellationToken ct)
    {
        if (request.ContentLength > GitHub.GithubWebhook.MaxBodyBytes) return Results.Problem("The body is too large.", statusCode: 413);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > GitHub.GithubWebhook.MaxBodyBytes) return Results.Problem("The body is too large.", statusCode: 413);
            buffer.Write(chunk, 0, read);
        }
        if (!await git.VerifyWebhookAsync(buffer.ToArray(), request.Headers["X-Hub-Signature-256"], request.Headers["X-Gitlab-Token"], ct))
            return Results.Problem("The delivery is not signed with the script library's webhook secret (or the library is not git-backed).",
                statusCode: 401);
        if (request.Headers["X-GitHub-Event"] == "ping") return Results.Ok(new { message = "pong" });
        var synced = await git.SyncAsync(AuditLog.System, ct);
        return synced.Ok ? Results.Ok(synced.Value) : synced.ToProblemResult();
    }

    private static async Task<ScriptLibraryResponse> LibraryResponseAsync(HttpContext http, ScriptLibrary library, ScriptGitSync git,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var mode = await library.ModeAsync(ct);
        var admin = user.IsInRole(Roles.Admin);
        return new ScriptLibraryResponse(mode.GitBacked, mode.GitUrl, mode.GitBranch, mode.GitFolder, mode.ReadOnlyReason,
            ApiTime(mode.SyncedAt), mode.SyncedCommit, mode.SyncError,
            mode.GitBacked ? $"{http.Request.Scheme}://{http.Request.Host}{WebhookPath}" : null,
            mode.GitBacked && admin ? await git.WebhookSecretAsync(ct) : null);
    }

    private static ScriptVersionResponse Version(ScriptVersion v, bool withBody) =>
        new(v.Version, v.Description, v.Author, DateTimeOffset.FromUnixTimeMilliseconds(v.CreatedAt), v.CommitSha, withBody ? v.Body : null);

    private static DateTimeOffset? ApiTime(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;

    private static IResult NoScript(string name) => Results.Problem($"No script '{name}'.", statusCode: 404);

    private static IResult TooLarge() =>
        Results.Problem($"A script is at most {ScriptLibrary.MaxBodyBytes / 1024} KB.", statusCode: 413);
}
