using System.Security.Claims;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Secrets;

namespace Kaizen.Portal.Api;

public sealed record SecretRequest(string? Value, string? File);

public sealed record VariableRequest(string? Value);

/// <summary>A secret as the API shows it: never its value.</summary>
public sealed record SecretResponse(
    string Name, string Kind, string? File, string Scope, string? Project, string? Server, long CreatedAt, string CreatedBy, long UpdatedAt, string UpdatedBy);

public sealed record VariableResponse(
    string Name, string Value, string Scope, string? Project, string? Server, long CreatedAt, string CreatedBy, long UpdatedAt, string UpdatedBy);

/// <summary>
/// Variables and secrets at the organization scope (/api/v1/variables, /api/v1/secrets) and a project's
/// (/api/v1/projects/{slug}/variables, .../secrets) and a server's (/api/v1/projects/{slug}/servers/{server}/...). Secrets are write-only and for admins alone, down to their names;
/// variables are written by admins and members and read by anyone signed in.
/// </summary>
public static class SecretEndpoints
{
    public static IEndpointRouteBuilder MapSecretsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Variables and secrets");

        api.MapGet("/secrets", (VariableStore store, CancellationToken ct) => ListSecrets(Where.Org, store, ct))
            .RequireAdmin().WithSummary("The organization's secrets: names, kinds and who changed them when; never values.");
        api.MapPut("/secrets/{name}", (string name, SecretRequest? body, VariableStore store, VariableChanges changes,
                ClaimsPrincipal user, CancellationToken ct) => PutSecret(Where.Org, name, body, store, changes, user, ct))
            .RequireAdmin().WithSummary("Create or replace an organization secret (write-only: it is never returned).");
        api.MapDelete("/secrets/{name}", (string name, VariableChanges changes, ClaimsPrincipal user, CancellationToken ct) =>
                DeleteSecret(Where.Org, name, changes, user, ct))
            .RequireAdmin().WithSummary("Delete an organization secret.");

        api.MapGet("/projects/{slug}/secrets", async (string slug, ProjectStore projects, VariableStore store, CancellationToken ct) =>
                await InProject(slug, projects, ct, where => ListSecrets(where, store, ct)))
            .RequireAdmin().WithSummary("The project's own secrets: names, kinds and who changed them when; never values.");
        api.MapPut("/projects/{slug}/secrets/{name}", async (string slug, string name, SecretRequest? body, ProjectStore projects,
                VariableStore store, VariableChanges changes, ClaimsPrincipal user, CancellationToken ct) =>
                await InProject(slug, projects, ct, where => PutSecret(where, name, body, store, changes, user, ct)))
            .RequireAdmin().WithSummary("Create or replace a project secret (write-only: it is never returned).");
        api.MapDelete("/projects/{slug}/secrets/{name}", async (string slug, string name, ProjectStore projects,
                VariableChanges changes, ClaimsPrincipal user, CancellationToken ct) =>
                await InProject(slug, projects, ct, where => DeleteSecret(where, name, changes, user, ct)))
            .RequireAdmin().WithSummary("Delete a project secret.");

        api.MapGet("/variables", (VariableStore store, CancellationToken ct) => ListVariables(Where.Org, store, ct))
            .WithSummary("The organization's plain variables with their values.");
        api.MapGet("/variables/{name}", (string name, VariableStore store, CancellationToken ct) => GetVariable(Where.Org, name, store, ct))
            .WithSummary("One organization variable.");
        api.MapPut("/variables/{name}", (string name, VariableRequest? body, VariableStore store, VariableChanges changes,
                ClaimsPrincipal user, CancellationToken ct) => PutVariable(Where.Org, name, body, store, changes, user, ct))
            .RequireAuthorization(ApiEndpoints.WritePolicy).WithSummary("Create or replace an organization variable.");
        api.MapDelete("/variables/{name}", (string name, VariableChanges changes, ClaimsPrincipal user, CancellationToken ct) =>
                DeleteVariable(Where.Org, name, changes, user, ct))
            .RequireAuthorization(ApiEndpoints.WritePolicy).WithSummary("Delete an organization variable.");

        api.MapGet("/projects/{slug}/variables", async (string slug, ProjectStore projects, VariableStore store, CancellationToken ct) =>
                await InProject(slug, projects, ct, where => ListVariables(where, store, ct)))
            .WithSummary("The project's own plain variables with their values.");
        api.MapGet("/projects/{slug}/variables/{name}", async (string slug, string name, ProjectStore projects, VariableStore store,
                CancellationToken ct) => await InProject(slug, projects, ct, where => GetVariable(where, name, store, ct)))
            .WithSummary("One project variable.");
        api.MapPut("/projects/{slug}/variables/{name}", async (string slug, string name, VariableRequest? body, ProjectStore projects,
                VariableStore store, VariableChanges changes, ClaimsPrincipal user, CancellationToken ct) =>
                await InProject(slug, projects, ct, where => PutVariable(where, name, body, store, changes, user, ct)))
            .RequireAuthorization(ApiEndpoints.WritePolicy).WithSummary("Create or replace a project variable.");
        api.MapDelete("/projects/{slug}/variables/{name}", async (string slug, string name, ProjectStore projects,
                VariableChanges changes, ClaimsPrincipal user, CancellationToken ct) =>
                await InProject(slug, projects, ct, where => DeleteVariable(where, name, changes, user, ct)))
            .RequireAuthorization(ApiEndpoints.WritePolicy).WithSummary("Delete a project variable.");

        // A server's own values: its deploys alone receive them.
        const string server = "/projects/{slug}/servers/{server}";
        api.MapGet(server + "/secrets", async (string slug, string server, ProjectStore projects, DeployStore servers,
                VariableStore store, CancellationToken ct) =>
                await OnServer(slug, server, projects, servers, ct, where => ListSecrets(where, store, ct)))
            .RequireAdmin().WithSummary("The server's own secrets: names, kinds and who changed them when; never values.");
        api.MapPut(server + "/secrets/{name}", async (string slug, string server, string name, SecretRequest? body,
                ProjectStore projects, DeployStore servers, VariableStore store, VariableChanges changes, ClaimsPrincipal user,
                CancellationToken ct) =>
                await OnServer(slug, server, projects, servers, ct, where => PutSecret(where, name, body, store, changes, user, ct)))
            .RequireAdmin().WithSummary("Create or replace a server secret, given to that server's deploys only (write-only).");
        api.MapDelete(server + "/secrets/{name}", async (string slug, string server, string name, ProjectStore projects,
                DeployStore servers, VariableChanges changes, ClaimsPrincipal user, CancellationToken ct) =>
                await OnServer(slug, server, projects, servers, ct, where => DeleteSecret(where, name, changes, user, ct)))
            .RequireAdmin().WithSummary("Delete a server secret.");
        api.MapGet(server + "/variables", async (string slug, string server, ProjectStore projects, DeployStore servers,
                VariableStore store, CancellationToken ct) =>
                await OnServer(slug, server, projects, servers, ct, where => ListVariables(where, store, ct)))
            .WithSummary("The server's own plain variables with their values.");
        api.MapPut(server + "/variables/{name}", async (string slug, string server, string name, VariableRequest? body,
                ProjectStore projects, DeployStore servers, VariableStore store, VariableChanges changes, ClaimsPrincipal user,
                CancellationToken ct) =>
                await OnServer(slug, server, projects, servers, ct, where => PutVariable(where, name, body, store, changes, user, ct)))
            .RequireAuthorization(ApiEndpoints.WritePolicy).WithSummary("Create or replace a server variable.");
        api.MapDelete(server + "/variables/{name}", async (string slug, string server, string name, ProjectStore projects,
                DeployStore servers, VariableChanges changes, ClaimsPrincipal user, CancellationToken ct) =>
                await OnServer(slug, server, projects, servers, ct, where => DeleteVariable(where, name, changes, user, ct)))
            .RequireAuthorization(ApiEndpoints.WritePolicy).WithSummary("Delete a server variable.");
        return app;
    }

    /// <summary>A scope with how the API and the audit log name it.</summary>
    private sealed record Where(VariableScope Scope, string? ProjectSlug, string? ServerName = null)
    {
        public static Where Org { get; } = new(VariableScope.Org, null);

        public string Target => ProjectSlug is null ? "org"
            : ServerName is null ? VariableChanges.ProjectTarget(ProjectSlug) : DeployService.ServerTarget(ProjectSlug, ServerName);

        public string Url => ProjectSlug is null ? "/api/v1"
            : ServerName is null ? $"/api/v1/projects/{ProjectSlug}" : $"/api/v1/projects/{ProjectSlug}/servers/{ServerName}";

        public string Described => ProjectSlug is null ? "the organization"
            : ServerName is null ? $"project {ProjectSlug}" : $"server {ServerName} of project {ProjectSlug}";
    }

    private static async Task<IResult> InProject(string slug, ProjectStore projects, CancellationToken ct, Func<Where, Task<IResult>> then)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        return project is null
            ? Results.Problem($"No project '{slug}'.", statusCode: 404)
            : await then(new Where(VariableScope.Project(project.Id), project.Slug));
    }

    private static async Task<IResult> OnServer(string slug, string server, ProjectStore projects, DeployStore servers,
        CancellationToken ct, Func<Where, Task<IResult>> then)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        var row = await servers.FindServerAsync(project.Id, server, ct);
        return row is null
            ? Results.Problem($"Project '{slug}' has no server '{server}'.", statusCode: 404)
            : await then(new Where(VariableScope.Server(row.Id), project.Slug, row.Name));
    }

    private static async Task<IResult> ListSecrets(Where where, VariableStore store, CancellationToken ct) =>
        Results.Ok((await store.SecretsAsync(where.Scope, ct)).Select(s => ToResponse(s, where)));

    private static async Task<IResult> PutSecret(Where where, string name, SecretRequest? body, VariableStore store,
        VariableChanges changes, ClaimsPrincipal user, CancellationToken ct)
    {
        if (VariableRules.NameError(name) is { } nameError) return Invalid(nameError);
        if (body is null)
            return Invalid("Send a JSON body: { \"value\": \"...\" }, with \"file\": \"relative/path\" to have the job get it as a file.");

        var change = await changes.SetSecretAsync(where.Scope, where.Target, name, body.Value, body.File, AuditLog.ActorOf(user), ct);
        if (change.Status == ChangeStatus.Invalid) return Invalid(change.Error!);
        if (change.Status == ChangeStatus.NameTaken)
            return Results.Problem($"{Capitalized(where.Described)} has a variable named '{name}'; delete it first " +
                                   $"(DELETE {where.Url}/variables/{name}) or choose another name.", statusCode: 409);
        var response = ToResponse((await store.FindSecretAsync(where.Scope, name, ct))!, where);
        return change.Status == ChangeStatus.Created ? Results.Created($"{where.Url}/secrets/{name}", response) : Results.Ok(response);
    }

    private static async Task<IResult> DeleteSecret(Where where, string name, VariableChanges changes, ClaimsPrincipal user,
        CancellationToken ct) =>
        (await changes.DeleteAsync(where.Scope, where.Target, name, isSecret: true, AuditLog.ActorOf(user), user.IsInRole(Roles.Admin), ct)) switch
        {
            { Ok: true } => Results.NoContent(),
            { Status: ChangeStatus.Forbidden } denied => Results.Problem(denied.Error, statusCode: 403),
            _ => Results.Problem($"{Capitalized(where.Described)} has no secret '{name}'.", statusCode: 404),
        };

    private static async Task<IResult> ListVariables(Where where, VariableStore store, CancellationToken ct) =>
        Results.Ok((await store.VariablesAsync(where.Scope, ct)).Select(v => ToResponse(v, where)));

    private static async Task<IResult> GetVariable(Where where, string name, VariableStore store, CancellationToken ct) =>
        await store.FindVariableAsync(where.Scope, name, ct) is { } variable
            ? Results.Ok(ToResponse(variable, where))
            : Results.Problem($"{Capitalized(where.Described)} has no variable '{name}'.", statusCode: 404);

    private static async Task<IResult> PutVariable(Where where, string name, VariableRequest? body, VariableStore store,
        VariableChanges changes, ClaimsPrincipal user, CancellationToken ct)
    {
        if (VariableRules.NameError(name) is { } nameError) return Invalid(nameError);
        if (body is null) return Invalid("Send a JSON body: { \"value\": \"...\" }.");

        var change = await changes.SetVariableAsync(where.Scope, where.Target, name, body.Value, AuditLog.ActorOf(user),
            user.IsInRole(Roles.Admin), ct);
        if (change.Status == ChangeStatus.Forbidden) return Results.Problem(change.Error, statusCode: 403);
        if (change.Status == ChangeStatus.Invalid) return Invalid(change.Error!);
        if (change.Status == ChangeStatus.NameTaken)
            return Results.Problem(NameTakenByASecret(where, name, user), statusCode: 409);
        var response = ToResponse((await store.FindVariableAsync(where.Scope, name, ct))!, where);
        return change.Status == ChangeStatus.Created ? Results.Created($"{where.Url}/variables/{name}", response) : Results.Ok(response);
    }

    private static async Task<IResult> DeleteVariable(Where where, string name, VariableChanges changes, ClaimsPrincipal user,
        CancellationToken ct) =>
        (await changes.DeleteAsync(where.Scope, where.Target, name, isSecret: false, AuditLog.ActorOf(user), user.IsInRole(Roles.Admin), ct)) switch
        {
            { Ok: true } => Results.NoContent(),
            { Status: ChangeStatus.Forbidden } denied => Results.Problem(denied.Error, statusCode: 403),
            _ => Results.Problem($"{Capitalized(where.Described)} has no variable '{name}'.", statusCode: 404),
        };

    private static SecretResponse ToResponse(SecretInfo s, Where where) =>
        new(s.Name, s.Kind, s.FilePath, s.Scope.Kind, where.ProjectSlug, where.ServerName, s.CreatedAt, s.CreatedBy, s.UpdatedAt, s.UpdatedBy);

    private static VariableResponse ToResponse(VariableInfo v, Where where) =>
        new(v.Name, v.Value, v.Scope.Kind, where.ProjectSlug, where.ServerName, v.CreatedAt, v.CreatedBy, v.UpdatedAt, v.UpdatedBy);

    /// <summary>
    /// Why a variable cannot take a secret's name. Only admins see secret names, so everyone else is told what to do
    /// without being told that a secret of that name exists.
    /// </summary>
    private static string NameTakenByASecret(Where where, string name, ClaimsPrincipal user) =>
        user.IsInRole(Roles.Admin)
            ? $"{Capitalized(where.Described)} already uses the name '{name}' for a secret; choose another name."
            : $"The name '{name}' is not available for a variable of {where.Described}; choose another name.";

    private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private static IResult Invalid(string message) => Results.Problem(message, statusCode: 400);
}
