using System.Security.Claims;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Debug;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Api;

/// <summary>A debug session as the API shows it. <see cref="Page"/> is the portal page with the terminal;
/// <see cref="Terminal"/> the WebSocket behind it.</summary>
public sealed record DebugSessionResponse(
    long Id, long JobId, string JobName, long BuildId, string Project, string Kind, string Status, string User, string? Runner,
    bool WithSecrets, bool RunSetup, string? Image, long CreatedAt, long? StartedAt, long? EndedAt, long ExpiresAt, string? EndReason,
    string? SshCommand, string Page, string Terminal)
{
    public static DebugSessionResponse Of(DebugSessionRow s) => new(
        s.Id, s.JobId, s.JobName, s.BuildId, s.ProjectSlug, s.Kind, s.Status, s.UserName, s.RunnerName, s.WithSecrets, s.RunSetup,
        s.Image, s.CreatedAt, s.StartedAt, s.EndedAt, s.ExpiresAt, s.EndReason, s.SshCommand, $"/debug/{s.Id}",
        DebugEndpoints.TerminalPath(s.Id));
}

/// <summary>
/// Debug sessions: start one on a finished job (members and admins) or attach to a running job (admins), read, extend
/// and end it; the terminal's WebSockets for the browser (the session's user only) and for the runner.
/// </summary>
public static class DebugEndpoints
{
    public static string TerminalPath(long id) => $"/api/v1/debug-sessions/{id}/terminal";

    public static IEndpointRouteBuilder MapDebugApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Debug sessions");
        api.MapPost("/jobs/{id:long}/debug", (long id, DebugRequest? body, DebugSessionService sessions, ClaimsPrincipal user, CancellationToken ct) =>
                StartAsync(id, DebugKinds.Debug, body, sessions, user, ct))
            .WithSummary("Set a finished job up again on a runner with its commands written to kaizen-commands.sh instead of run, and open a shell in it (members and admins; secrets for admins only, never for a fork's build).");
        api.MapPost("/jobs/{id:long}/attach", (long id, DebugRequest? body, DebugSessionService sessions, ClaimsPrincipal user, CancellationToken ct) =>
                StartAsync(id, DebugKinds.Attach, body, sessions, user, ct))
            .WithSummary("Open a shell next to a running job, in its environment (admins).");
        api.MapGet("/debug-sessions/{id:long}", async (long id, DebugSessionService sessions, ClaimsPrincipal user, CancellationToken ct) =>
                await sessions.VisibleAsync(id, user, ct) is { } session
                    ? Results.Ok(DebugSessionResponse.Of(session))
                    : Results.Problem($"There is no debug session {id} of yours.", statusCode: 404))
            .WithSummary("A debug session: its state, when it ends, the SSH command once the runner offers one.");
        api.MapPost("/debug-sessions/{id:long}/extend", async (long id, ExtendRequest? body, DebugSessionService sessions, ClaimsPrincipal user,
                CancellationToken ct) => Respond(await sessions.ExtendAsync(id, body?.Minutes, user, ct), StatusCodes.Status200OK))
            .WithSummary("Keep a debug session open longer: minutes (default 30) past now or its current end, whichever is later.");
        api.MapDelete("/debug-sessions/{id:long}", async (long id, DebugSessionService sessions, ClaimsPrincipal user, CancellationToken ct) =>
                Respond(await sessions.EndAsync(id, user, ct), StatusCodes.Status200OK))
            .WithSummary("End a debug session now: the shell stops, the runner cleans up and its slot is free again.");
        api.Map("/debug-sessions/{id:long}/terminal", BrowserTerminalAsync).ExcludeFromDescription();

        app.Map("/api/runner/debug/{id:long}/terminal", RunnerTerminalAsync)
            .RequireAuthorization(KaizenAuth.RunnerPolicy).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> StartAsync(long jobId, string kind, DebugRequest? body, DebugSessionService sessions, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var started = await sessions.StartAsync(jobId, kind, body ?? new DebugRequest(), user, ct);
        return started.Ok
            ? Results.Created($"/api/v1/debug-sessions/{started.Value!.Id}", DebugSessionResponse.Of(started.Value))
            : started.ToProblemResult();
    }

    private static IResult Respond(Outcome<DebugSessionRow> outcome, int status) =>
        outcome.Ok ? Results.Json(DebugSessionResponse.Of(outcome.Value!), statusCode: status) : outcome.ToProblemResult();

    private static async Task<IResult> BrowserTerminalAsync(long id, HttpContext http, DebugSessionService sessions, TerminalHub hub,
        ClaimsPrincipal user, IHostApplicationLifetime lifetime)
    {
        if (!http.WebSockets.IsWebSocketRequest) return Results.Problem("Open the terminal as a WebSocket.", statusCode: 400);
        // The sign-in cookie goes with any site's WebSocket: only pages of the portal itself may open this one.
        if (http.Request.Headers.Origin is [{ } origin] && !Hosting.CrossSiteRequests.IsSameOrigin(origin, http.Request))
            return Results.Problem("The terminal opens from the portal's own pages only.", statusCode: 403);
        var session = await sessions.GetAsync(id, http.RequestAborted);
        if (session is null || session.UserId != user.UserId())
            return Results.Problem($"There is no debug session {id} of yours.", statusCode: 404);
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        await hub.ServeBrowserAsync(id, socket, DebugSessionService.StatusOf(session), stopping.Token);
        return Results.Empty;
    }

    private static async Task<IResult> RunnerTerminalAsync(long id, HttpContext http, DebugSessionService sessions, TerminalHub hub,
        ClaimsPrincipal user, IHostApplicationLifetime lifetime)
    {
        if (!http.WebSockets.IsWebSocketRequest) return Results.Problem("Open the terminal as a WebSocket.", statusCode: 400);
        var session = await sessions.GetAsync(id, http.RequestAborted);
        if (session is null || session.RunnerId != user.RunnerId())
            return Results.Problem($"Debug session {id} is not this runner's.", statusCode: 404);
        if (session.IsEnded) return Results.Problem($"Debug session {id} has ended: {session.EndReason}", statusCode: 410);
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        await hub.ServeRunnerAsync(id, socket, [new TerminalControl(TerminalControl.Expires, At: session.ExpiresAt)], async control =>
        {
            switch (control.Type)
            {
                case TerminalControl.Ready:
                    await sessions.RunnerReadyAsync(id, control.Ssh, CancellationToken.None);
                    break;
                case TerminalControl.Ended:
                    if (await sessions.GetAsync(id, CancellationToken.None) is { } current)
                        await sessions.EndAsync(current, Audit.AuditLog.System, control.Reason ?? "the runner ended it", CancellationToken.None);
                    break;
            }
        }, stopping.Token);
        return Results.Empty;
    }
}
