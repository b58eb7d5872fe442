using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>A new password ends every sign-in made with the old one; API tokens are not passwords and keep working.</summary>
public sealed class PasswordResetTests(TeamsPortal fixture) : IClassFixture<TeamsPortal>
{
    private readonly PortalHost _portal = fixture.Portal;

    [Fact]
    public async Task Resetting_a_password_signs_out_the_sessions_made_with_the_old_one_and_the_new_one_works()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("reset", "member", password: "old-password-1");
        using var oldSession = new CookieSession(_portal.BaseUrl);
        await oldSession.SignInOrFailAsync(user.Name, "old-password-1");
        Assert.Equal(HttpStatusCode.OK, (await oldSession.Http.GetAsync("/api/v1/me/tokens")).StatusCode);

        // Act
        (await _portal.Api.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { password = "new-password-2" })).EnsureSuccessStatusCode();
        using var afterReset = await oldSession.Http.GetAsync("/api/v1/me/tokens");
        using var newSession = new CookieSession(_portal.BaseUrl);
        await newSession.SignInOrFailAsync(user.Name, "new-password-2");
        using var token = fixture.Client(user.Token);

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, afterReset.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await newSession.Http.GetAsync("/api/v1/me/tokens")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await token.GetAsync("/api/v1/me/tokens")).StatusCode);
    }
}
