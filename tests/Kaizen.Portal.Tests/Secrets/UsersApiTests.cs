using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Integration;
using Microsoft.AspNetCore.Identity;

namespace Kaizen.Portal.Tests.Secrets;

/// <summary>POST and GET /api/v1/users: people with roles and their first API token.</summary>
public sealed class UsersApiTests(SecretsPortal fixture) : IClassFixture<SecretsPortal>
{
    private readonly PortalHost _portal = fixture.Portal;
    private string Slug => fixture.Slug;

    [Fact]
    public async Task A_created_members_token_works_for_building_and_editing_settings()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("builder", "member");
        using var http = fixture.Client(user.Token);

        // Act
        using var projects = await http.GetAsync("/api/v1/projects");
        using var build = await http.PostAsJsonAsync($"/api/v1/projects/{Slug}/builds", new { });
        using var settings = await http.PutAsJsonAsync($"/api/v1/projects/{Slug}/settings",
            await _portal.Api.GetFromJsonAsync<object>($"/api/v1/projects/{Slug}/settings"));

        // Assert
        Assert.Equal(("builder", "member"), (user.Name, user.Role));
        Assert.StartsWith("kzt_", user.Token);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.OK], [projects.StatusCode, build.StatusCode, settings.StatusCode]);
    }

    [Fact]
    public async Task A_created_viewers_token_reads_but_cannot_build_or_change_settings()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("reader", "viewer");
        using var http = fixture.Client(user.Token);

        // Act
        using var projects = await http.GetAsync("/api/v1/projects");
        using var build = await http.PostAsJsonAsync($"/api/v1/projects/{Slug}/builds", new { });
        using var settings = await http.PutAsJsonAsync($"/api/v1/projects/{Slug}/settings",
            new { setup = Array.Empty<string>(), jobs = new[] { new { name = "x", commands = new[] { "true" } } }, epilogue = Array.Empty<string>() });

        // Assert
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden], [projects.StatusCode, build.StatusCode, settings.StatusCode]);
    }

    [Fact]
    public async Task A_duplicate_user_name_is_a_conflict()
    {
        // Arrange
        await fixture.CreateUserAsync("twice", "viewer");

        // Act
        using var again = await _portal.Api.PostAsJsonAsync("/api/v1/users", new { name = "twice", role = "member" });

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("already a user 'twice'", await again.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{ "name": "someone", "role": "owner" }""", "'owner' is not a role; use admin, member or viewer")]
    [InlineData("""{ "name": "someone" }""", "is not a role")]
    [InlineData("""{ "name": "", "role": "viewer" }""", "A user name is 1 to 100")]
    [InlineData("""{ "name": "two words", "role": "viewer" }""", "A user name is 1 to 100")]
    [InlineData("""{ "name": "someone", "role": "viewer", "password": "short" }""", "at least 8 characters")]
    public async Task Bad_user_input_is_a_bad_request_that_says_why(string json, string why)
    {
        // Act
        using var response = await _portal.Api.PostAsync("/api/v1/users", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(why, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("member")]
    [InlineData("viewer")]
    public async Task Only_admins_add_or_list_users(string role)
    {
        // Arrange
        using var http = fixture.Client(role == "member" ? fixture.MemberToken : fixture.ViewerToken);

        // Act
        using var create = await http.PostAsJsonAsync("/api/v1/users", new { name = "promoted-" + role, role = "admin" });
        using var list = await http.GetAsync("/api/v1/users");

        // Assert
        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (create.StatusCode, list.StatusCode));
        var users = await _portal.Api.GetFromJsonAsync<List<UserResponse>>("/api/v1/users");
        Assert.DoesNotContain(users!, u => u.Name == "promoted-" + role);
    }

    [Fact]
    public async Task Admins_list_users_with_their_roles_and_never_a_token_or_password()
    {
        // Arrange
        await fixture.CreateUserAsync("listed", "viewer", password: "a-long-password");

        // Act
        using var response = await _portal.Api.GetAsync("/api/v1/users");

        // Assert
        var users = await response.Content.ReadFromJsonAsync<List<UserResponse>>();
        Assert.Contains(users!, u => u is { Name: "admin", Role: "admin" });
        Assert.Contains(users!, u => u is { Name: "listed", Role: "viewer" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("passwordHash", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("a-long-password", body);
        Assert.DoesNotContain("\"token\"", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("kzt_", body);
    }

    [Fact]
    public async Task A_user_created_with_a_password_can_sign_in_with_it_and_one_without_has_no_password_at_all()
    {
        // Arrange
        await fixture.CreateUserAsync("with-password", "member", password: "correct horse battery");
        await fixture.CreateUserAsync("token-only", "member");
        var users = _portal.Service<UserStore>();
        var hasher = _portal.Service<IPasswordHasher<UserRow>>();

        // Act
        var withPassword = (await users.FindByNameAsync("with-password"))!;
        var tokenOnly = (await users.FindByNameAsync("token-only"))!;

        // Assert: sign-in verifies with this hasher; an empty hash never verifies, whatever is typed.
        Assert.Equal(PasswordVerificationResult.Success,
            hasher.VerifyHashedPassword(withPassword, withPassword.PasswordHash, "correct horse battery"));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(withPassword, withPassword.PasswordHash, "wrong"));
        Assert.Equal("", tokenOnly.PasswordHash);
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(tokenOnly, tokenOnly.PasswordHash, ""));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(tokenOnly, tokenOnly.PasswordHash, "anything"));
    }
}
