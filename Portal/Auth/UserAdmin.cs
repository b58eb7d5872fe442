using System.Security.Claims;
using System.Text.RegularExpressions;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Microsoft.AspNetCore.Identity;

namespace Kaizen.Portal.Auth;

/// <summary>A new user with their first API token, which exists in clear only in this value.</summary>
public sealed record CreatedUser(UserRow User, string Token);

/// <summary>
/// What admins do to people, with its rules, for the API and the users page alike: add, change a role or password,
/// remove. Nobody changes their own role or removes themselves, and there is always at least one admin.
/// </summary>
public sealed partial class UserAdmin(UserStore users, IPasswordHasher<UserRow> hasher, AuditLog audit)
{
    public const int MinPasswordLength = 8;

    public const string NameRule = "A user name is 1 to 100 letters, digits, '.', '_', '-' or '@', starting with a letter or digit.";

    public static readonly string PasswordRule =
        $"A password has at least {MinPasswordLength} characters; leave it out for a user who only uses the API token.";

    public async Task<Outcome<CreatedUser>> CreateAsync(ClaimsPrincipal actor, string? name, string? role, string? password,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        name = name?.Trim() ?? "";
        if (!NamePattern().IsMatch(name)) return Outcome<CreatedUser>.Fail(Problem.Invalid, NameRule);
        var knownRole = ParseRole(role);
        if (knownRole is null) return Outcome<CreatedUser>.Fail(Problem.Invalid, RoleRule(role));
        if (password is { Length: < MinPasswordLength }) return Outcome<CreatedUser>.Fail(Problem.Invalid, PasswordRule);
        if (await users.FindByNameAsync(name, ct) is not null)
            return Outcome<CreatedUser>.Fail(Problem.Conflict, $"There is already a user '{name}'.");

        // Without a password the stored hash is empty, which the hasher never verifies: the user signs in with the token only.
        var hash = password is null ? "" : hasher.HashPassword(new UserRow { Name = name }, password);
        var id = await users.CreateAsync(name, hash, knownRole, ct);
        var token = Tokens.New("kzt_");
        await users.AddTokenAsync(id, "created with the user", Tokens.Hash(token), ct);
        await audit.RecordAsync(actor, AuditActions.UserCreated, $"user:{name}",
            $"role {knownRole}, {(password is null ? "API token only" : "password and API token")}", ct);
        return Outcome<CreatedUser>.Of(new CreatedUser((await users.FindByIdAsync(id, ct))!, token));
    }

    /// <summary>Gives a user another role, password and/or linked GitHub account (its numeric id; 0 unlinks); null
    /// leaves that as it is.</summary>
    public async Task<Outcome<UserRow>> ChangeAsync(ClaimsPrincipal actor, long id, string? role, string? password,
        long? githubId = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var user = await users.FindByIdAsync(id, ct);
        if (user is null) return Outcome<UserRow>.Fail(Problem.NotFound, $"There is no user {id}.");
        string? newRole = null;
        if (role is not null)
        {
            newRole = ParseRole(role);
            if (newRole is null) return Outcome<UserRow>.Fail(Problem.Invalid, RoleRule(role));
        }
        if (password is { Length: < MinPasswordLength })
            return Outcome<UserRow>.Fail(Problem.Invalid, $"A password has at least {MinPasswordLength} characters.");

        var changes = new List<string>();
        if (newRole is not null && newRole != user.Role)
        {
            if (actor.UserId() == user.Id)
                return Outcome<UserRow>.Fail(Problem.Conflict, "You cannot change your own role: ask another admin.");
            if (!await users.UpdateRoleAsync(user.Id, newRole, ct))
                return await users.FindByIdAsync(id, ct) is null
                    ? Outcome<UserRow>.Fail(Problem.NotFound, $"There is no user {id}.")
                    : Outcome<UserRow>.Fail(Problem.Conflict, LastAdmin(user.Name, "demoted"));
            changes.Add($"role {user.Role} → {newRole}");
        }
        if (password is not null)
        {
            await users.UpdatePasswordAsync(user.Id, hasher.HashPassword(user, password), ct);
            changes.Add(user.HasPassword ? "password reset" : "password set");
        }
        if (githubId is { } github && github != (user.GithubId ?? 0))
        {
            if (github < 0) return Outcome<UserRow>.Fail(Problem.Invalid, "A GitHub account id is a positive number (0 unlinks).");
            if (github > 0 && GitHubSignIn.IsBootstrap(user))
                return Outcome<UserRow>.Fail(Problem.Conflict, $"'{user.Name}' signs in with its password only, never with GitHub.");
            if (!await users.SetGithubAsync(user.Id, github == 0 ? null : github, ct))
                return Outcome<UserRow>.Fail(Problem.Conflict, $"GitHub account {github} is linked to another user: unlink it there first.");
            changes.Add(github == 0 ? "GitHub account unlinked" : $"GitHub account id {github} linked");
        }
        if (changes.Count > 0)
            await audit.RecordAsync(actor, AuditActions.UserChanged, $"user:{user.Name}", string.Join(", ", changes), ct);
        return await users.FindByIdAsync(id, ct) is { } changed
            ? Outcome<UserRow>.Of(changed)
            : Outcome<UserRow>.Fail(Problem.NotFound, $"There is no user {id}.");
    }

    /// <summary>Removes a user and their API tokens; their sign-in ends with their next request.</summary>
    public async Task<Outcome<UserRow>> RemoveAsync(ClaimsPrincipal actor, long id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var user = await users.FindByIdAsync(id, ct);
        if (user is null) return Outcome<UserRow>.Fail(Problem.NotFound, $"There is no user {id}.");
        if (actor.UserId() == user.Id)
            return Outcome<UserRow>.Fail(Problem.Conflict, "You cannot remove yourself: ask another admin.");
        if (!await users.DeleteAsync(user.Id, ct))
            return await users.FindByIdAsync(id, ct) is null
                ? Outcome<UserRow>.Fail(Problem.NotFound, $"There is no user {id}.")
                : Outcome<UserRow>.Fail(Problem.Conflict, LastAdmin(user.Name, "removed"));
        await audit.RecordAsync(actor, AuditActions.UserRemoved, $"user:{user.Name}", $"was {user.Role}; API tokens revoked", ct);
        return Outcome<UserRow>.Of(user);
    }

    private static string LastAdmin(string name, string what) =>
        $"'{name}' is the last admin and cannot be {what}: make someone else an admin first.";

    private static string? ParseRole(string? role) =>
        Roles.All.FirstOrDefault(r => string.Equals(r, role?.Trim(), StringComparison.OrdinalIgnoreCase));

    private static string RoleRule(string? role) => $"'{role}' is not a role; use admin, member or viewer.";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")]
    private static partial Regex NamePattern();
}
