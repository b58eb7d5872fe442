using System.Security.Claims;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

/// <summary>REST API v1 for people and scripts ("Authorization: Bearer &lt;API token&gt;" or the sign-in cookie).</summary>
public static class ApiEndpoints
{
    public const string WritePolicy = "Write";

    public static IEndpointRouteBuilder MapKaizenApi(this IEndpointRouteBuilder app)
    {
        // Reads of a public project (its builds, jobs and logs) are open to anyone; everything else needs a user.
        var open = app.MapOpenReads("Kaizen");
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Kaizen");

        api.MapPost("/projects", CreateProject).RequireAuthorization(WritePolicy)
            .WithSummary("Create a project from a git repository (https://, ssh://, git:// or user@host:path; admins also a local path or file://).");
        open.MapGet("/projects", ListProjects).WithSummary("Every project the caller may see (anonymous callers: the public ones).");
        open.MapGet("/projects/{slug}", GetProject).WithSummary("A project with its branches.");
        api.MapGet("/projects/{slug}/settings", GetSettings).WithSummary("The project's build settings.");
        api.MapPut("/projects/{slug}/settings", PutSettings).RequireAuthorization(WritePolicy)
            .WithSummary("Replace the project's build settings (setup, jobs, epilogue).");
        open.MapGet("/projects/{slug}/builds", ListBuilds).WithSummary("The project's builds, newest first (paged).");
        api.MapPost("/projects/{slug}/builds", StartBuild).RequireAuthorization(WritePolicy)
            .WithSummary("Build a branch's head, a tag or a commit (\"ref\"; or \"branch\", the default branch when neither is given), " +
                "with extra plain \"variables\" for this build.");
        open.MapGet("/builds/{id:long}", GetBuild).WithSummary("A build with its jobs and their commands.");
        api.MapGet("/builds/{id:long}/snapshot", GetSnapshot)
            .WithSummary("What the build ran with and its deploys run: its build settings and the shared script versions it pinned.");
        api.MapPost("/builds/{id:long}/cancel", CancelBuild).RequireAuthorization(WritePolicy).WithSummary("Cancel a build.");
        api.MapPost("/builds/{id:long}/approve", ApproveBuild).RequireAuthorization(WritePolicy)
            .WithSummary("Let a pull request's build from a fork, which waits for approval, run (members and admins).");
        api.MapPost("/builds/{id:long}/rerun", RerunBuild).RequireAuthorization(WritePolicy)
            .WithSummary("Build the same commit again; returns the new build.");
        api.MapPost("/builds/{id:long}/rerun-failed", RerunFailedJobs).RequireAuthorization(WritePolicy)
            .WithSummary("Build the same commit again, running only the jobs that failed or were canceled (and those that depend on them).");
        open.MapGet("/jobs/{id:long}/log", GetLog).WithSummary("The job's whole log as text/plain (with section markers: ?sections=true).");
        return app;
    }

    private static async Task<IResult> CreateProject(CreateProjectRequest? body, ProjectService projects, ClaimsPrincipal user, CancellationToken ct)
    {
        if (body is null) return Results.Problem("Send a JSON body: { \"name\": \"...\", \"gitUrl\": \"...\" }.", statusCode: 400);
        var created = await projects.CreateAsync(body.Name, body.GitUrl, body.Public ?? body.IsPublic ?? false, user, ct);
        if (!created.Ok) return created.ToProblemResult();
        var p = created.Value!;
        return Results.Created($"/api/v1/projects/{p.Slug}",
            new CreatedProjectResponse(p.Id, p.Slug, p.DefaultBranch, p.Branches.Select(b => b.Name).ToList()));
    }

    private static async Task<IResult> ListProjects(ProjectStore store, ClaimsPrincipal user, CancellationToken ct) =>
        Results.Ok((await store.ListAsync(ct)).Where(p => ProjectAccess.CanRead(user, p)).Select(p => ProjectResponse.From(p, [])));

    private static async Task<IResult> GetProject(string slug, ProjectStore store, WebhookSecrets webhooks, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var project = await store.FindBySlugAsync(slug, ct);
        if (!ProjectAccess.CanRead(user, project)) return NotFound($"No project '{slug}'.");
        var response = ProjectResponse.From(project, await store.BranchesAsync(project.Id, ct));
        if (user.IsInRole(Roles.Admin))
        {
            response = response with
            {
                WebhookSecret = await webhooks.GetOrCreateAsync(project.Id, ct),
                BadgeToken = project.BadgeToken,
                ForkSecrets = project.ForkSecrets,
            };
        }
        return Results.Ok(response);
    }

    private static async Task<IResult> GetSettings(string slug, ProjectStore store, CancellationToken ct)
    {
        var project = await store.FindBySlugAsync(slug, ct);
        return project is null ? NotFound($"No project '{slug}'.") : Results.Ok(project.Settings);
    }

    private static async Task<IResult> PutSettings(string slug, SettingsRequest? body, ProjectStore store,
        BuildSettingsChanges changes, SettingsSourceStore sources, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await store.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound($"No project '{slug}'.");
        // Builds read the repository's file: a copy changed here would not be what runs.
        if ((await sources.GetAsync(project.Id, ct)).InRepository)
            return Results.Problem(BuildSettingsChanges.InRepositoryMessage(slug), statusCode: 409);
        if (body is null) return Results.Problem("Send a JSON body: { \"setup\": [], \"jobs\": [{ \"name\", \"commands\": [] }], \"epilogue\": [] }.", statusCode: 400);
        var saved = await changes.SaveAsync(project, body.ToSettings(), user, SettingsSources.Api, ct);
        return saved.Ok
            ? Results.Ok(saved.Saved)
            : Results.ValidationProblem(SettingsErrors.ByPath("settings", saved.Errors), detail: string.Join(" ", saved.Errors));
    }

    private static async Task<IResult> ListBuilds(string slug, ProjectStore projects, BuildStore builds, ClaimsPrincipal user,
        CancellationToken ct, int page = 1, int pageSize = 20, string? branch = null, string? status = null)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (!ProjectAccess.CanRead(user, project)) return NotFound($"No project '{slug}'.");
        string[] statuses = [Status.Queued, Status.AwaitingApproval, Status.Running, Status.Passed, Status.Failed, Status.Canceled];
        if (status is not null && !statuses.Contains(status))
            return Results.Problem($"status must be one of {string.Join(", ", statuses)}; '{Truncated(status)}' is not a build status.", statusCode: 400);
        if (branch is { Length: > Builds.BranchNames.MaxLength })
            return Results.Problem($"branch names are at most {Builds.BranchNames.MaxLength} characters.", statusCode: 400);
        page = Math.Max(1, page);
        pageSize = Math.Clamp(pageSize, 1, 100);
        var result = await builds.ListAsync(project.Id, (page - 1) * pageSize, pageSize, branch, status, ct);
        return Results.Ok(new BuildListResponse(result.Items.Select(BuildSummary.From).ToList(), result.Total, page, pageSize));
    }

    /// <summary>A caller's value quoted back in an error, cut short: an error never echoes a megabyte.</summary>
    internal static string Truncated(string value) => value.Length <= 60 ? value : value[..60] + "…";

    private static async Task<IResult> StartBuild(string slug, StartBuildRequest? body, ProjectStore projects,
        BuildService service, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound($"No project '{slug}'.");
        if (body?.Ref is not null && !string.IsNullOrWhiteSpace(body.Branch))
            return Results.Problem("Send either ref (a branch, tag or commit) or branch, not both.", statusCode: 400);
        if (VariablesOf(body?.Variables) is not { } variables)
            return Results.Problem("variables: send an object of names to text values, like { \"DEPLOY_ENV\": \"staging\" }.", statusCode: 400);
        var started = await service.RunAsync(project, body?.Ref, body?.Branch, variables, Trigger.Api, user, ct);
        return started.Ok ? Results.Created($"/api/v1/builds/{started.Value}", new CreatedResponse(started.Value)) : started.ToProblemResult();
    }

    /// <summary>The variables of a request (none when absent); null when they are not an object of names to text (or null) values.</summary>
    private static List<KeyValuePair<string, string?>>? VariablesOf(System.Text.Json.JsonElement? variables)
    {
        if (variables is not { } json || json.ValueKind == System.Text.Json.JsonValueKind.Null) return [];
        if (json.ValueKind != System.Text.Json.JsonValueKind.Object) return null;
        var list = new List<KeyValuePair<string, string?>>();
        foreach (var property in json.EnumerateObject())
        {
            if (property.Value.ValueKind is not (System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Null)) return null;
            list.Add(new(property.Name, property.Value.GetString()));
        }
        return list;
    }

    private static async Task<IResult> GetBuild(long id, BuildStore builds, ProjectStore projects, Runners.RunnerStore runners,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        if (build is null || !ProjectAccess.CanRead(user, await projects.FindBySlugAsync(build.ProjectSlug, ct)))
            return NotFound($"No build {id}.");
        var jobs = await builds.JobsAsync(id, ct);
        var commands = await builds.CommandsOfBuildAsync(id, ct);
        var response = BuildResponse.From(build, jobs, commands);
        // A queued job no runner could take says which runner it waits for (labels, sandbox, Docker).
        var waiting = new List<JobResponse>();
        foreach (var job in response.Jobs)
        {
            var reason = job.Status == Status.Queued ? await runners.WaitingReasonAsync(job.Id, Runners.RunnerStore.SeenWithin, ct) : null;
            waiting.Add(reason is null ? job : job with { Waiting = reason });
        }
        return Results.Ok(response with { Jobs = waiting });
    }

    /// <summary>Signed-in readers only, like the settings it holds; a build from before snapshots is a 404 that says so.</summary>
    private static async Task<IResult> GetSnapshot(long id, BuildStore builds, ProjectStore projects, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        if (build is null || !ProjectAccess.CanRead(user, await projects.FindBySlugAsync(build.ProjectSlug, ct)))
            return NotFound($"No build {id}.");
        var snapshot = await builds.SnapshotAsync(id, ct);
        return snapshot is null
            ? NotFound(BuildSnapshotResponse.NoneMessage(id))
            : Results.Ok(BuildSnapshotResponse.From(id, snapshot));
    }

    private static async Task<IResult> CancelBuild(long id, BuildStore builds, BuildService service, ClaimsPrincipal user, CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        if (build is null) return NotFound($"No build {id}.");
        return await service.CancelAsync(build, ct, user)
            ? Results.Accepted($"/api/v1/builds/{id}")
            : Results.Problem($"Build {id} has already finished ({build.Status}).", statusCode: 409);
    }

    private static async Task<IResult> ApproveBuild(long id, BuildStore builds, ProjectStore projects, BuildService service,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        if (build is null || !ProjectAccess.CanRead(user, await projects.FindBySlugAsync(build.ProjectSlug, ct)))
            return NotFound($"No build {id}.");
        var approved = await service.ApproveAsync(build, user, ct);
        if (!approved.Ok) return approved.ToProblemResult();
        var jobs = await builds.JobsAsync(id, ct);
        return Results.Ok(BuildResponse.From(approved.Value!, jobs, await builds.CommandsOfBuildAsync(id, ct)));
    }

    private static async Task<IResult> RerunBuild(long id, BuildStore builds, BuildService service, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        if (build is null) return NotFound($"No build {id}.");
        var rerun = await service.RerunAsync(build, AuditLog.ActorOf(user), ct, by: user);
        return rerun.Ok ? Results.Created($"/api/v1/builds/{rerun.Value}", new CreatedResponse(rerun.Value)) : rerun.ToProblemResult();
    }

    private static async Task<IResult> RerunFailedJobs(long id, BuildStore builds, BuildService service, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        if (build is null) return NotFound($"No build {id}.");
        var rerun = await service.RerunAsync(build, AuditLog.ActorOf(user), ct, onlyFailed: true, by: user);
        return rerun.Ok ? Results.Created($"/api/v1/builds/{rerun.Value}", new CreatedResponse(rerun.Value)) : rerun.ToProblemResult();
    }

    private static async Task GetLog(long id, HttpContext http, BuildStore builds, ProjectStore projects, LogStore logs,
        SectionedLog sectioned, CancellationToken ct)
    {
        // The same reading rule as the job itself (a deploy's log: signed-in users only, even for a public project).
        if (await JobEndpoints.ReadableAsync(id, http.User, builds, projects, ct) is not var (job, build))
        {
            await NotFound($"No job {id}.").ExecuteAsync(http);
            return;
        }
        http.Response.ContentType = "text/plain; charset=utf-8";
        if (http.Request.Query["download"] is ["1" or "true"])
        {
            var name = $"{build.ProjectSlug}-build{job.BuildId}-{job.Name}.log";
            // Only characters that are safe in any file system and header.
            name = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '-'));
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
        }
        if (http.Request.Query["sections"] is ["1" or "true"])
        {
            await sectioned.WriteAsync(id, await builds.CommandsOfJobAsync(id, ct), http.Response.Body, ct);
            return;
        }
        await logs.WriteTextAsync(id, http.Response.Body, ct);
    }


    private static IResult NotFound(string message) => Results.Problem(message, statusCode: 404);

}
