using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>PATCH and DELETE /api/v1/users/{id}: roles, passwords and removal, with their rules and audit entries.</summary>
public sealed class UsersApiRulesTests(TeamsPortal fixture) : IClassFixture<TeamsPortal>
{
    private readonly PortalHost _portal = fixture.Portal;

    private async Task<long> AdminIdAsync() => (await _portal.Service<UserStore>().FindByNameAsync("admin"))!.Id;

    [Fact]
    public async Task An_admin_changes_a_role_and_the_list_shows_it_with_when_the_user_was_added_and_whether_they_have_a_password()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("promoted", "viewer");

        // Act
        using var patch = await _portal.Api.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "member" });

        // Assert
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal("member", (await patch.Content.ReadFromJsonAsync<UserResponse>())!.Role);
        var listed = (await _portal.Api.GetFromJsonAsync<List<UserResponse>>("/api/v1/users"))!.Single(u => u.Id == user.Id);
        Assert.Equal(("member", false), (listed.Role, listed.HasPassword));
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - listed.CreatedAt, 0, 60_000);
        var entry = (await _portal.Service<AuditLog>().NewestAsync(50)).First(e => e.Target == $"user:{user.Name}");
        Assert.Equal((AuditActions.UserChanged, "admin", "role viewer → member"), (entry.Action, entry.Actor, entry.Details));
    }

    [Fact]
    public async Task A_reset_password_signs_in_and_the_old_one_no_longer_does_and_no_password_reaches_the_audit_log()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("forgetful", "member", password: "old-password-1");

        // Act
        using var patch = await _portal.Api.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { password = "new-password-2" });

        // Assert
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        using (var session = new CookieSession(_portal.BaseUrl))
        using (var old = await session.SignInAsync(user.Name, "old-password-1"))
            Assert.StartsWith("/login?error=password", old.Headers.Location?.OriginalString);
        using (var session = new CookieSession(_portal.BaseUrl))
            await session.SignInOrFailAsync(user.Name, "new-password-2");
        var entries = (await _portal.Service<AuditLog>().NewestAsync(100)).Where(e => e.Target == $"user:{user.Name}").ToList();
        Assert.Contains(entries, e => e is { Action: AuditActions.UserChanged, Details: "password reset" });
        Assert.DoesNotContain(entries, e => (e.Details ?? "").Contains("password-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_admin_cannot_demote_or_remove_themselves()
    {
        // Arrange
        var adminId = await AdminIdAsync();

        // Act
        using var demote = await _portal.Api.PatchAsJsonAsync($"/api/v1/users/{adminId}", new { role = "member" });
        using var remove = await _portal.Api.DeleteAsync($"/api/v1/users/{adminId}");

        // Assert
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (demote.StatusCode, remove.StatusCode));
        Assert.Contains("You cannot change your own role", await demote.Content.ReadAsStringAsync());
        Assert.Contains("You cannot remove yourself", await remove.Content.ReadAsStringAsync());
        Assert.Equal(Roles.Admin, (await _portal.Service<UserStore>().FindByIdAsync(adminId))!.Role);
    }

    [Fact]
    public async Task An_admin_may_still_set_their_own_password()
    {
        // Arrange
        var admin = await fixture.CreateUserAsync("self-service", "admin");
        using var http = fixture.Client(admin.Token);

        // Act
        using var patch = await http.PatchAsJsonAsync($"/api/v1/users/{admin.Id}", new { password = "a-new-password" });

        // Assert
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.True((await patch.Content.ReadFromJsonAsync<UserResponse>())!.HasPassword);
    }

    [Fact]
    public async Task A_removed_users_tokens_stop_working_at_once_and_they_are_gone_from_the_list_and_audited()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("leaver", "member");
        using var http = fixture.Client(user.Token);
        using var personal = await http.PostAsJsonAsync("/api/v1/me/tokens", new { name = "laptop" });
        var second = (await personal.Content.ReadFromJsonAsync<CreatedTokenResponse>())!.Token;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/me/tokens")).StatusCode);

        // Act
        using var remove = await _portal.Api.DeleteAsync($"/api/v1/users/{user.Id}");

        // Assert
        Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/me/tokens")).StatusCode);
        using var withSecond = fixture.Client(second);
        Assert.Equal(HttpStatusCode.Unauthorized, (await withSecond.GetAsync("/api/v1/me/tokens")).StatusCode);
        Assert.DoesNotContain((await _portal.Api.GetFromJsonAsync<List<UserResponse>>("/api/v1/users"))!, u => u.Id == user.Id);
        Assert.Equal(HttpStatusCode.NotFound, (await _portal.Api.DeleteAsync($"/api/v1/users/{user.Id}")).StatusCode);
        var entry = (await _portal.Service<AuditLog>().NewestAsync(50)).First(e => e.Target == $"user:{user.Name}");
        Assert.Equal(AuditActions.UserRemoved, entry.Action);
    }

    [Theory]
    [InlineData("""{ "role": "owner" }""", HttpStatusCode.BadRequest, "'owner' is not a role")]
    [InlineData("""{ "password": "short" }""", HttpStatusCode.BadRequest, "at least 8 characters")]
    [InlineData("""{ }""", HttpStatusCode.BadRequest, "with what to change")]
    public async Task Bad_changes_are_refused_saying_why(string json, HttpStatusCode status, string why)
    {
        // Arrange
        var user = await fixture.CreateUserAsync("unchanged", "viewer");

        // Act
        using var response = await _portal.Api.PatchAsync($"/api/v1/users/{user.Id}",
            new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        // Assert
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(why, await response.Content.ReadAsStringAsync());
        Assert.Equal(Roles.Viewer, (await _portal.Service<UserStore>().FindByIdAsync(user.Id))!.Role);
    }

    [Fact]
    public async Task Changing_or_removing_an_unknown_user_is_not_found()
    {
        // Act
        using var patch = await _portal.Api.PatchAsJsonAsync("/api/v1/users/987654", new { role = "member" });
        using var delete = await _portal.Api.DeleteAsync("/api/v1/users/987654");

        // Assert
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (patch.StatusCode, delete.StatusCode));
    }

    [Theory]
    [InlineData("member")]
    [InlineData("viewer")]
    public async Task Only_admins_change_or_remove_users(string role)
    {
        // Arrange
        var caller = await fixture.CreateUserAsync("caller", role);
        var target = await fixture.CreateUserAsync("target", "viewer");
        using var http = fixture.Client(caller.Token);

        // Act
        using var promote = await http.PatchAsJsonAsync($"/api/v1/users/{caller.Id}", new { role = "admin" });
        using var remove = await http.DeleteAsync($"/api/v1/users/{target.Id}");

        // Assert
        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (promote.StatusCode, remove.StatusCode));
        Assert.Equal(role, (await _portal.Service<UserStore>().FindByIdAsync(caller.Id))!.Role);
        Assert.NotNull(await _portal.Service<UserStore>().FindByIdAsync(target.Id));
    }
}
