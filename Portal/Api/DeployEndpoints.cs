using System.Security.Claims;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

public sealed record ServerTriggerRequest(string? Mode, string? Branch);

public sealed record ServerRequest(string? Name, IReadOnlyList<string>? Commands, ServerTriggerRequest? Trigger, int? Approvals, string? Deployers);

public sealed record CordonRequest(string? Reason);

public sealed record DeployRequest(string? Server);

public sealed record DecisionRequest(string? Comment);

public sealed record ServerTriggerResponse(string Mode, string Branch);

public sealed record DecisionResponse(string User, string Decision, string? Comment, DateTimeOffset At);

public sealed record DeployResponse(
    long Id, string Status, string Project, string Server, long BuildId, string Branch, string CommitSha, string CommitMessage,
    string Trigger, string RequestedBy, DateTimeOffset RequestedAt, int ApprovalsRequired, int Approvals,
    IReadOnlyList<DecisionResponse>? Decisions, long? JobId, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    long? DurationMs, string? Note)
{
    public static DeployResponse From(DeployRow d, IReadOnlyList<ApprovalRow>? decisions = null) => new(
        d.Id, d.Status, d.ProjectSlug, d.ServerName, d.BuildId, d.Branch, d.CommitSha, d.CommitMessage, d.TriggerKind,
        d.RequestedBy, DateTimeOffset.FromUnixTimeMilliseconds(d.RequestedAt), d.ApprovalsRequired,
        decisions?.Count(a => a.Decision == ApprovalDecision.Approved) ?? d.Approvals,
        decisions?.Select(a => new DecisionResponse(a.UserName, a.Decision, a.Comment, DateTimeOffset.FromUnixTimeMilliseconds(a.At))).ToList(),
        d.JobId, BuildSummary.Time(d.StartedAt), BuildSummary.Time(d.FinishedAt),
        d.StartedAt is { } s && d.FinishedAt is { } f ? f - s : null, d.Note);
}

public sealed record DeployScriptResponse(string Name, int Version, string Source);

public sealed record PlanLineResponse(string Change, string Text);

public sealed record PlanSectionResponse(string Name, bool Changed, IReadOnlyList<PlanLineResponse> Lines);

/// <summary>
/// What a deploy runs and what changed since the server's last deploy (<see cref="PreviousDeployId"/>; null for its
/// first). <see cref="FromSnapshot"/> false: a build from before snapshots, whose deploy runs the project's current
/// setup and the newest scripts (<see cref="Note"/> says so).
/// </summary>
public sealed record DeployPlanResponse(
    long DeployId, long BuildId, bool FromSnapshot, IReadOnlyList<string> Setup, IReadOnlyList<string> Commands,
    IReadOnlyList<DeployScriptResponse> Scripts, long? PreviousDeployId, long? PreviousBuildId,
    IReadOnlyList<PlanSectionResponse> Changes, string? Note)
{
    public static DeployPlanResponse From(DeployPreview p) => new(
        p.Deploy.Id, p.Deploy.BuildId, p.Plan.FromSnapshot, p.Plan.Setup, p.Plan.Commands,
        p.Plan.Scripts.Select(s => new DeployScriptResponse(s.Name, s.Version, s.Source)).ToList(),
        p.Previous?.Id, p.Previous?.BuildId,
        p.Changes.Select(c => new PlanSectionResponse(c.Name, c.Changed, c.Lines.Select(l => new PlanLineResponse(l.Change, l.Text)).ToList())).ToList(),
        p.Plan.FromSnapshot ? null : BuildSnapshotResponse.NoneMessage(p.Deploy.BuildId));
}

public sealed record ServerResponse(
    long Id, string Name, string Project, IReadOnlyList<string> Commands, ServerTriggerResponse Trigger, int Approvals,
    string Deployers, bool Cordoned, string? CordonReason, DeployResponse? Current, DeployResponse? Latest,
    IReadOnlyList<DeployResponse>? Deploys)
{
    public static ServerResponse From(ServerRow s, DeployRow? current, DeployRow? latest, IReadOnlyList<DeployRow>? deploys = null) => new(
        s.Id, s.Name, s.ProjectSlug, s.Commands, new ServerTriggerResponse(s.TriggerMode, s.BranchPattern), s.Approvals, s.Deployers,
        s.Cordoned, s.CordonReason, current is null ? null : DeployResponse.From(current), latest is null ? null : DeployResponse.From(latest),
        deploys?.Select(d => DeployResponse.From(d)).ToList());
}

/// <summary>
/// Servers (deploy targets) of a project and their deploys: /api/v1/projects/{slug}/servers, /api/v1/builds/{id}/deploys,
/// /api/v1/deploys/{id} (approve, reject, cancel, log) and /api/v1/approvals (what waits for the caller).
/// </summary>
public static class DeployEndpoints
{
    public static IEndpointRouteBuilder MapDeliveryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Delivery");

        api.MapGet("/projects/{slug}/servers", ListServers).WithSummary("The project's servers with what each runs now and its newest deploy.");
        api.MapPost("/projects/{slug}/servers", CreateServer).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Add a server: { name, commands, trigger: { mode: automatic | manual, branch }, approvals, deployers: members | admins }.");
        api.MapGet("/projects/{slug}/servers/{name}", GetServer).WithSummary("A server with its deploys, newest first.");
        api.MapPut("/projects/{slug}/servers/{name}", UpdateServer).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Replace a server's settings (same body as creating one).");
        api.MapDelete("/projects/{slug}/servers/{name}", DeleteServer).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Delete a server with its deploy history, variables and secrets.");
        api.MapPost("/projects/{slug}/servers/{name}/cordon", (string slug, string name, CordonRequest? body, ProjectStore projects,
                DeployStore store, DeployService service, ClaimsPrincipal user, CancellationToken ct) =>
                Cordon(slug, name, true, body?.Reason, projects, store, service, user, ct))
            .WithSummary("Pause the server's deploys: queued ones wait until it is uncordoned. { reason } is optional.");
        api.MapPost("/projects/{slug}/servers/{name}/uncordon", (string slug, string name, ProjectStore projects, DeployStore store,
                DeployService service, ClaimsPrincipal user, CancellationToken ct) =>
                Cordon(slug, name, false, null, projects, store, service, user, ct))
            .WithSummary("Resume the server's deploys; the oldest queued one starts.");

        api.MapGet("/builds/{id:long}/deploys", BuildDeploys).WithSummary("The build's deploys, newest first.");
        api.MapPost("/builds/{id:long}/deploys", RequestDeploy)
            .WithSummary("Deploy this passed build to a server of its project: { server }. Returns the deploy (awaiting_approval when approvals are needed).");
        api.MapGet("/deploys/{id:long}", GetDeploy).WithSummary("A deploy with its approvals.");
        api.MapGet("/deploys/{id:long}/plan", GetPlan)
            .WithSummary("What the deploy runs (its build's setup, the server's commands, script versions) and what changed since the server's last deploy.");
        api.MapGet("/deploys/{id:long}/log", GetDeployLog).WithSummary("The deploy's log as text/plain (empty until it starts).");
        api.MapPost("/deploys/{id:long}/approve", (long id, DecisionRequest? body, DeployService service, ClaimsPrincipal user, CancellationToken ct) =>
                Decide(service.ApproveAsync(id, Actor.From(user), body?.Comment, ct), service, ct))
            .WithSummary("Approve a deploy someone else requested; it starts once it has all its approvals.");
        api.MapPost("/deploys/{id:long}/reject", (long id, DecisionRequest? body, DeployService service, ClaimsPrincipal user, CancellationToken ct) =>
                Decide(service.RejectAsync(id, Actor.From(user), body?.Comment, ct), service, ct))
            .WithSummary("Reject a deploy awaiting approval: { comment } says why.");
        api.MapPost("/deploys/{id:long}/cancel", async (long id, DeployService service, ClaimsPrincipal user, CancellationToken ct) =>
                await Decide(service.CancelAsync(id, Actor.From(user), ct), service, ct))
            .WithSummary("Cancel a deploy: a pending one never runs, a running one is stopped.");
        api.MapGet("/approvals", Approvals).WithSummary("Deploys waiting for an approval the caller may give.");
        return app;
    }

    private static ServerSpec Spec(ServerRequest body) => new(
        body.Name ?? "",
        body.Commands ?? [],
        body.Trigger?.Mode ?? TriggerMode.Manual,
        body.Trigger?.Branch ?? "",
        body.Approvals ?? 0,
        body.Deployers ?? Deployers.Members);

    private const string ServerBodyHelp =
        "Send a JSON body: { \"name\": \"staging\", \"commands\": [\"./deploy.sh\"], \"trigger\": { \"mode\": \"automatic\" | \"manual\", " +
        "\"branch\": \"develop\" }, \"approvals\": 0, \"deployers\": \"members\" | \"admins\" }.";

    private static async Task<IResult> ListServers(string slug, ProjectStore projects, DeployStore store, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound($"No project '{slug}'.");
        return Results.Ok((await store.OverviewAsync(project.Id, ct)).Select(o => ServerResponse.From(o.Server, o.Current, o.Latest)));
    }

    private static async Task<IResult> CreateServer(string slug, ServerRequest? body, ProjectStore projects, DeployService service,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return NotFound($"No project '{slug}'.");
        if (body is null) return Results.Problem(ServerBodyHelp, statusCode: 400);
        var created = await service.CreateServerAsync(project, Spec(body), Actor.From(user), ct);
        if (!created.Ok) return created.ToProblemResult();
        var server = created.Value!;
        return Results.Created($"/api/v1/projects/{slug}/servers/{server.Name}", ServerResponse.From(server, null, null, []));
    }

    private static async Task<IResult> GetServer(string slug, string name, ProjectStore projects, DeployStore store, CancellationToken ct)
    {
        var found = await FindAsync(slug, name, projects, store, ct);
        if (found.Problem is not null) return found.Problem;
        var overview = (await store.OverviewAsync(found.Server!.ProjectId, ct)).First(o => o.Server.Id == found.Server.Id);
        var deploys = await store.DeploysOfServerAsync(found.Server.Id, DeployService.HistoryLimit, ct);
        return Results.Ok(ServerResponse.From(found.Server, overview.Current, overview.Latest, deploys));
    }

    private static async Task<IResult> UpdateServer(string slug, string name, ServerRequest? body, ProjectStore projects,
        DeployStore store, DeployService service, ClaimsPrincipal user, CancellationToken ct)
    {
        var found = await FindAsync(slug, name, projects, store, ct);
        if (found.Problem is not null) return found.Problem;
        if (body is null) return Results.Problem(ServerBodyHelp, statusCode: 400);
        var updated = await service.UpdateServerAsync(found.Server!, Spec(body), Actor.From(user), ct);
        return updated.Ok ? Results.Ok(ServerResponse.From(updated.Value!, null, null)) : updated.ToProblemResult();
    }

    private static async Task<IResult> DeleteServer(string slug, string name, ProjectStore projects, DeployStore store,
        DeployService service, ClaimsPrincipal user, CancellationToken ct)
    {
        var found = await FindAsync(slug, name, projects, store, ct);
        if (found.Problem is not null) return found.Problem;
        var deleted = await service.DeleteServerAsync(found.Server!, Actor.From(user), ct);
        return deleted.Ok ? Results.NoContent() : deleted.ToProblemResult();
    }

    private static async Task<IResult> Cordon(string slug, string name, bool cordoned, string? reason, ProjectStore projects,
        DeployStore store, DeployService service, ClaimsPrincipal user, CancellationToken ct)
    {
        var found = await FindAsync(slug, name, projects, store, ct);
        if (found.Problem is not null) return found.Problem;
        var changed = await service.SetCordonAsync(found.Server!, cordoned, reason, Actor.From(user), ct);
        return changed.Ok ? Results.Ok(ServerResponse.From(changed.Value!, null, null)) : changed.ToProblemResult();
    }

    private static async Task<IResult> BuildDeploys(long id, BuildStore builds, DeployStore store, CancellationToken ct)
    {
        if (await builds.FindAsync(id, ct) is null) return NotFound($"No build {id}.");
        return Results.Ok((await store.DeploysOfBuildAsync(id, ct)).Select(d => DeployResponse.From(d)));
    }

    private static async Task<IResult> RequestDeploy(long id, DeployRequest? body, DeployService service, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var requested = await service.RequestAsync(id, body?.Server, Actor.From(user), ct);
        if (!requested.Ok) return requested.ToProblemResult();
        var deploy = requested.Value!;
        return Results.Created($"/api/v1/deploys/{deploy.Id}", DeployResponse.From(deploy, []));
    }

    private static async Task<IResult> GetDeploy(long id, DeployService service, CancellationToken ct)
    {
        var details = await service.DetailsAsync(id, ct);
        return details is null ? NotFound($"No deploy {id}.") : Results.Ok(DeployResponse.From(details.Deploy, details.Decisions));
    }

    private static async Task<IResult> GetPlan(long id, DeployService service, CancellationToken ct)
    {
        var preview = await service.PreviewAsync(id, ct);
        return preview is null ? NotFound($"No deploy {id}.") : Results.Ok(DeployPlanResponse.From(preview));
    }

    private static async Task GetDeployLog(long id, HttpContext http, DeployStore store, LogStore logs, CancellationToken ct)
    {
        var deploy = await store.FindDeployAsync(id, ct);
        if (deploy is null)
        {
            await NotFound($"No deploy {id}.").ExecuteAsync(http);
            return;
        }
        http.Response.ContentType = "text/plain; charset=utf-8";
        if (deploy.JobId is { } jobId) await logs.WriteTextAsync(jobId, http.Response.Body, ct);
    }

    /// <summary>The deploy after a decision or a cancel, with its decisions (so its approvals count is right).</summary>
    private static async Task<IResult> Decide(Task<Outcome<DeployRow>> decision, DeployService service, CancellationToken ct)
    {
        var outcome = await decision;
        if (!outcome.Ok) return outcome.ToProblemResult();
        var details = await service.DetailsAsync(outcome.Value!.Id, ct);
        return Results.Ok(DeployResponse.From(details?.Deploy ?? outcome.Value!, details?.Decisions ?? []));
    }

    private static async Task<IResult> Approvals(DeployService service, ClaimsPrincipal user, CancellationToken ct) =>
        Results.Ok((await service.AwaitingAsync(Actor.From(user), ct)).Select(d => DeployResponse.From(d.Deploy, d.Decisions)));

    private static async Task<(ServerRow? Server, IResult? Problem)> FindAsync(string slug, string name, ProjectStore projects,
        DeployStore store, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return (null, NotFound($"No project '{slug}'."));
        var server = await store.FindServerAsync(project.Id, name, ct);
        return server is null ? (null, NotFound($"Project '{slug}' has no server '{name}'.")) : (server, null);
    }

    private static IResult NotFound(string message) => Results.Problem(message, statusCode: 404);
}
