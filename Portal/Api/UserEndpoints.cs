using System.Security.Claims;
using Kaizen.Portal.Auth;

namespace Kaizen.Portal.Api;

public sealed record CreateUserRequest(string? Name, string? Role, string? Password);

/// <summary>A role, a new password and/or the GitHub account id to link (0 unlinks); what is left out stays as it is.</summary>
public sealed record ChangeUserRequest(string? Role, string? Password, long? GithubId = null);

/// <summary>A new user with their first API token, shown this once (only its hash is kept).</summary>
public sealed record CreatedUserResponse(long Id, string Name, string Role, string Token);

/// <summary>A user: never their password or tokens, only whether they have a password.</summary>
public sealed record UserResponse(long Id, string Name, string Role, long CreatedAt, bool HasPassword, long? GithubId)
{
    public static UserResponse Of(UserRow u) => new(u.Id, u.Name, u.Role, u.CreatedAt, u.HasPassword, u.GithubId);
}

/// <summary>People and their roles: /api/v1/users, for admins.</summary>
public static class UserEndpoints
{
    public const int MinPasswordLength = UserAdmin.MinPasswordLength;

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Users");
        api.MapPost("/users", CreateUser).RequireAdmin()
            .WithSummary("Add a user with a role (admin, member, viewer) and an API token, returned once; a password lets them sign in.");
        api.MapGet("/users", ListUsers).RequireAdmin().WithSummary("Every user with their role.");
        api.MapPatch("/users/{id:long}", ChangeUser).RequireAdmin()
            .WithSummary("Change a user's role, password and/or linked GitHub account id. Nobody changes their own role; the last admin stays admin.");
        api.MapDelete("/users/{id:long}", RemoveUser).RequireAdmin()
            .WithSummary("Remove a user and their API tokens at once. Nobody removes themselves; the last admin stays.");
        return app;
    }

    private static async Task<IResult> CreateUser(CreateUserRequest? body, UserAdmin admin, ClaimsPrincipal user, CancellationToken ct)
    {
        if (body is null)
            return Invalid("Send a JSON body: { \"name\": \"...\", \"role\": \"admin\" | \"member\" | \"viewer\", \"password\": \"...\" (optional) }.");
        var created = await admin.CreateAsync(user, body.Name, body.Role, body.Password, ct);
        if (!created.Ok) return created.ToProblemResult();
        var (row, token) = created.Value!;
        return Results.Created("/api/v1/users", new CreatedUserResponse(row.Id, row.Name, row.Role, token));
    }

    private static async Task<IResult> ListUsers(UserStore users, CancellationToken ct) =>
        Results.Ok((await users.ListAsync(ct)).Select(UserResponse.Of));

    private static async Task<IResult> ChangeUser(long id, ChangeUserRequest? body, UserAdmin admin, ClaimsPrincipal user, CancellationToken ct)
    {
        if (body is null || (body.Role is null && body.Password is null && body.GithubId is null))
            return Invalid("Send a JSON body with what to change: { \"role\": \"admin\" | \"member\" | \"viewer\", \"password\": \"...\", \"githubId\": 123 (0 unlinks) }.");
        var changed = await admin.ChangeAsync(user, id, body.Role, body.Password, body.GithubId, ct);
        return changed.Ok ? Results.Ok(UserResponse.Of(changed.Value!)) : changed.ToProblemResult();
    }

    private static async Task<IResult> RemoveUser(long id, UserAdmin admin, ClaimsPrincipal user, CancellationToken ct)
    {
        var removed = await admin.RemoveAsync(user, id, ct);
        return removed.Ok ? Results.NoContent() : removed.ToProblemResult();
    }

    private static IResult Invalid(string message) => Results.Problem(message, statusCode: 400);
}
