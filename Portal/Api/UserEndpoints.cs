using System.Security.Claims;
using System.Text.RegularExpressions;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Microsoft.AspNetCore.Identity;

namespace Kaizen.Portal.Api;

public sealed record CreateUserRequest(string? Name, string? Role, string? Password);

/// <summary>A new user with their first API token, shown this once (only its hash is kept).</summary>
public sealed record CreatedUserResponse(long Id, string Name, string Role, string Token);

public sealed record UserResponse(long Id, string Name, string Role);

/// <summary>People and their roles: POST and GET /api/v1/users, for admins.</summary>
public static partial class UserEndpoints
{
    public const int MinPasswordLength = 8;

    private static readonly string[] AllRoles = [Roles.Admin, Roles.Member, Roles.Viewer];

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Users");
        api.MapPost("/users", CreateUser).RequireAdmin()
            .WithSummary("Add a user with a role (admin, member, viewer) and an API token, returned once; a password lets them sign in.");
        api.MapGet("/users", ListUsers).RequireAdmin().WithSummary("Every user with their role.");
        return app;
    }

    private static async Task<IResult> CreateUser(CreateUserRequest? body, UserStore users, IPasswordHasher<UserRow> hasher,
        AuditLog audit, ClaimsPrincipal user, CancellationToken ct)
    {
        if (body is null)
            return Invalid("Send a JSON body: { \"name\": \"...\", \"role\": \"admin\" | \"member\" | \"viewer\", \"password\": \"...\" (optional) }.");
        var name = body.Name?.Trim() ?? "";
        if (!NamePattern().IsMatch(name))
            return Invalid("A user name is 1 to 100 letters, digits, '.', '_', '-' or '@', starting with a letter or digit.");
        var role = AllRoles.FirstOrDefault(r => string.Equals(r, body.Role?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (role is null) return Invalid($"'{body.Role}' is not a role; use admin, member or viewer.");
        if (body.Password is { Length: < MinPasswordLength })
            return Invalid($"A password has at least {MinPasswordLength} characters; leave it out for a user who only uses the API token.");
        if (await users.FindByNameAsync(name, ct) is not null) return Results.Problem($"There is already a user '{name}'.", statusCode: 409);

        // Without a password the stored hash is empty, which the hasher never verifies: the user signs in with the token only.
        var hash = body.Password is null ? "" : hasher.HashPassword(new UserRow { Name = name }, body.Password);
        var id = await users.CreateAsync(name, hash, role, ct);
        var token = Tokens.New("kzt_");
        await users.AddTokenAsync(id, "created with the user", Tokens.Hash(token), ct);
        await audit.RecordAsync(user, AuditActions.UserCreated, $"user:{name}",
            $"role {role}, {(body.Password is null ? "API token only" : "password and API token")}", ct);
        return Results.Created("/api/v1/users", new CreatedUserResponse(id, name, role, token));
    }

    private static async Task<IResult> ListUsers(UserStore users, CancellationToken ct) =>
        Results.Ok((await users.ListAsync(ct)).Select(u => new UserResponse(u.Id, u.Name, u.Role)));

    private static IResult Invalid(string message) => Results.Problem(message, statusCode: 400);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")]
    private static partial Regex NamePattern();
}
