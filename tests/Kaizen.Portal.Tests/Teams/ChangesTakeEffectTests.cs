using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Data;
using Kaizen.Portal.Tests.Integration;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>A changed role or a removal counts at once: for API tokens, sign-in cookies and open pages alike.</summary>
public sealed class ChangesTakeEffectTests(TeamsPortal fixture) : IClassFixture<TeamsPortal>
{
    private readonly PortalHost _portal = fixture.Portal;

    private Task<HttpResponseMessage> SetRoleAsync(long id, string role) =>
        _portal.Api.PatchAsJsonAsync($"/api/v1/users/{id}", new { role });

    [Fact]
    public async Task A_tokens_powers_follow_the_role_from_the_very_next_request()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("rising", "member");
        using var http = fixture.Client(user.Token);
        var asMember = (await http.GetAsync("/api/v1/users")).StatusCode;

        // Act
        (await SetRoleAsync(user.Id, "admin")).Dispose();
        var asAdmin = (await http.GetAsync("/api/v1/users")).StatusCode;
        (await SetRoleAsync(user.Id, "viewer")).Dispose();
        var asViewer = (await http.GetAsync("/api/v1/users")).StatusCode;

        // Assert
        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.OK, HttpStatusCode.Forbidden], [asMember, asAdmin, asViewer]);
    }

    [Fact]
    public async Task A_sign_in_cookie_follows_a_changed_role_on_the_next_request()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("cookie-role", "member", password: "cookie-password");
        using var session = new CookieSession(_portal.BaseUrl);
        await session.SignInOrFailAsync(user.Name, "cookie-password");
        var asMember = (await session.Http.GetAsync("/api/v1/users")).StatusCode;

        // Act
        (await SetRoleAsync(user.Id, "admin")).Dispose();
        var asAdmin = (await session.Http.GetAsync("/api/v1/users")).StatusCode;
        (await SetRoleAsync(user.Id, "member")).Dispose();
        var demoted = (await session.Http.GetAsync("/api/v1/users")).StatusCode;

        // Assert
        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.OK, HttpStatusCode.Forbidden], [asMember, asAdmin, demoted]);
    }

    [Fact]
    public async Task A_removed_users_sign_in_cookie_stops_working_on_the_next_request_and_is_cleared()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("cookie-gone", "member", password: "cookie-password");
        using var session = new CookieSession(_portal.BaseUrl);
        await session.SignInOrFailAsync(user.Name, "cookie-password");
        Assert.Equal(HttpStatusCode.OK, (await session.Http.GetAsync("/api/v1/me/tokens")).StatusCode);

        // Act
        (await _portal.Api.DeleteAsync($"/api/v1/users/{user.Id}")).Dispose();
        using var after = await session.Http.GetAsync("/api/v1/me/tokens");

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains(after.Headers.GetValues("Set-Cookie"), c => c.StartsWith("kaizen=;", StringComparison.Ordinal));
    }

    [Fact]
    public void Open_pages_use_the_revalidating_provider()
    {
        // Act
        using var scope = _portal.App.Services.CreateScope();

        // Assert
        Assert.IsType<UserRevalidatingAuthenticationStateProvider>(scope.ServiceProvider.GetRequiredService<AuthenticationStateProvider>());
        Assert.Equal(TimeSpan.FromSeconds(30), UserRevalidatingAuthenticationStateProvider.DefaultInterval);
    }

    [Fact]
    public async Task An_open_page_gets_a_changed_role_and_then_loses_a_removed_user_when_it_rechecks()
    {
        // Arrange
        await using var db = await TestDatabase.CreateAsync("Sqlite");
        await db.Users.CreateAsync("root", "", Roles.Admin);
        var id = await db.Users.CreateAsync("dana", "", Roles.Member);
        using var provider = new UserRevalidatingAuthenticationStateProvider(NullLoggerFactory.Instance, db.Users)
        {
            Interval = TimeSpan.FromMilliseconds(50),
        };
        var states = new List<ClaimsPrincipal>();
        var changed = new SemaphoreSlim(0);
        provider.AuthenticationStateChanged += async task =>
        {
            var state = await task;
            lock (states) states.Add(state.User);
            changed.Release();
        };
        provider.SetAuthenticationState(Task.FromResult(new AuthenticationState(
            UserPrincipal.Create((await db.Users.FindByIdAsync(id))!, "Cookies"))));
        await changed.WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        await db.Users.UpdateRoleAsync(id, Roles.Admin);
        Assert.True(await changed.WaitAsync(TimeSpan.FromSeconds(10)), "The new role did not reach the page.");
        Assert.True(await db.Users.DeleteAsync(id));
        Assert.True(await changed.WaitAsync(TimeSpan.FromSeconds(10)), "The removal did not reach the page.");

        // Assert
        lock (states)
        {
            Assert.True(states[1].IsInRole(Roles.Admin));
            Assert.Equal("dana", states[1].Identity?.Name);
            Assert.False(states[2].Identity?.IsAuthenticated ?? false);
        }
    }
}
