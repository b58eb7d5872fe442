using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Teams;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Security;

/// <summary>
/// What another site can make a signed-in admin's browser do, played over real HTTP against the real portal: a form
/// or fetch from evil.example carries the admin's cookie and tries to create a user. And what a forged or stale cookie
/// gets. Each attack must fail; the portal's own ways (same-origin pages, API tokens) keep working.
/// </summary>
public sealed class CrossSiteRequestTests(TeamsPortal fixture) : IClassFixture<TeamsPortal>
{
    private readonly PortalHost _portal = fixture.Portal;

    public static TheoryData<string, string?, string?> CrossSiteShapes => new()
    {
        { "a form posted from another site", "https://evil.example", null },
        { "a sandboxed frame (Origin: null)", "null", null },
        { "an old browser sending only a Referer", null, "https://evil.example/attack.html" },
        { "no Origin, no Referer, no custom header", null, null },
    };

    [Theory]
    [MemberData(nameof(CrossSiteShapes))]
    public async Task A_cookie_authenticated_change_from_another_site_is_refused_and_changes_nothing(string shape, string? origin, string? referer)
    {
        // Arrange
        using var session = await SignedInAdminAsync();
        var victim = "csrf-" + Guid.NewGuid().ToString("N")[..8];
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/users")
        {
            Content = JsonContent.Create(new { name = victim, role = "admin", password = "attacker-password-1" }),
        };
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (referer is not null) request.Headers.Referrer = new Uri(referer);

        // Act
        using var response = await session.Http.SendAsync(request);

        // Assert
        Assert.True(HttpStatusCode.Forbidden == response.StatusCode, $"{shape}: {(int)response.StatusCode}");
        Assert.Contains("cross-site", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Null(await _portal.Service<UserStore>().FindByNameAsync(victim));
    }

    [Fact]
    public async Task A_rerun_or_a_delete_from_another_site_is_refused_too()
    {
        // Arrange
        using var session = await SignedInAdminAsync();
        var target = await fixture.CreateUserAsync("kept", "viewer");
        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/users/{target.Id}");
        delete.Headers.Add("Origin", "https://evil.example");
        using var rerun = new HttpRequestMessage(HttpMethod.Post, "/api/v1/builds/1/rerun");
        rerun.Headers.Add("Origin", "https://evil.example");

        // Act
        using var deleted = await session.Http.SendAsync(delete);
        using var reran = await session.Http.SendAsync(rerun);

        // Assert
        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (deleted.StatusCode, reran.StatusCode));
        Assert.NotNull(await _portal.Service<UserStore>().FindByIdAsync(target.Id));
    }

    [Fact]
    public async Task The_portals_own_pages_scripts_and_api_tokens_still_change_things()
    {
        // Arrange
        using var session = await SignedInAdminAsync();
        var portalOrigin = _portal.BaseUrl.GetLeftPart(UriPartial.Authority);

        // Act
        using var fromPage = await PostUserAsync(session.Http, r => r.Headers.Add("Origin", portalOrigin));
        using var fromOldBrowser = await PostUserAsync(session.Http, r => r.Headers.Referrer = new Uri(_portal.BaseUrl, "/admin/users"));
        using var fromScript = await PostUserAsync(session.Http, r => r.Headers.Add("X-Requested-With", "XMLHttpRequest"));
        // A bearer token is never sent by a browser on its own: where the request says it comes from does not matter.
        using var withToken = await PostUserAsync(_portal.Api, r => r.Headers.Add("Origin", "https://evil.example"));

        // Assert
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Created, 4),
            new[] { fromPage.StatusCode, fromOldBrowser.StatusCode, fromScript.StatusCode, withToken.StatusCode });
    }

    [Fact]
    public async Task Reads_with_the_cookie_need_no_proof_of_origin()
    {
        // Arrange
        using var session = await SignedInAdminAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/users");
        request.Headers.Add("Origin", "https://evil.example");

        // Act
        using var response = await session.Http.SendAsync(request);

        // Assert: the browser keeps the answer from the other site (no CORS); the portal has no reason to refuse.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/login")]
    [InlineData("/api/v1/projects")]
    [InlineData("/healthz")]
    public async Task Every_answer_tells_the_browser_to_keep_other_sites_out(string path)
    {
        // Act
        using var anonymous = new HttpClient { BaseAddress = _portal.BaseUrl };
        using var response = await anonymous.GetAsync(path);

        // Assert
        var csp = string.Join(",", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("script-src 'self';", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Contains($"ws://{_portal.BaseUrl.Authority}", csp);
        Assert.Equal("DENY", string.Join(",", response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("strict-origin-when-cross-origin", string.Join(",", response.Headers.GetValues("Referrer-Policy")));
    }

    [Fact]
    public async Task A_sign_in_cookie_without_the_password_stamp_is_refused()
    {
        // Arrange: cookies sealed with the portal's own keys, as someone holding a stolen pre-reset session (or one
        // made before stamps existed) would present them; one with the stamp shows the forging itself works.
        var user = await fixture.CreateUserAsync("stampless", "admin", password: "a-password-1");
        var row = (await _portal.Service<UserStore>().FindByIdAsync(user.Id))!;
        var withStamp = UserPrincipal.Create(row, CookieAuthenticationDefaults.AuthenticationScheme);
        var withoutStamp = new ClaimsPrincipal(new ClaimsIdentity(
            withStamp.Claims.Where(c => c.Type != UserPrincipal.PasswordStampClaim), CookieAuthenticationDefaults.AuthenticationScheme));

        // Act
        using var stamped = await GetWithCookieAsync(Seal(withStamp), "/api/v1/me/tokens");
        using var unstamped = await GetWithCookieAsync(Seal(withoutStamp), "/api/v1/me/tokens");

        // Assert
        Assert.Equal(HttpStatusCode.OK, stamped.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unstamped.StatusCode);
    }

    private async Task<CookieSession> SignedInAdminAsync()
    {
        var admin = await fixture.CreateUserAsync("csrf-admin", "admin", password: "admin-password-1");
        var session = new CookieSession(_portal.BaseUrl);
        await session.SignInOrFailAsync(admin.Name, "admin-password-1");
        return session;
    }

    private static async Task<HttpResponseMessage> PostUserAsync(HttpClient http, Action<HttpRequestMessage> shape)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/users")
        {
            Content = JsonContent.Create(new { name = "made-" + Guid.NewGuid().ToString("N")[..8], role = "viewer" }),
        };
        shape(request);
        return await http.SendAsync(request);
    }

    private string Seal(ClaimsPrincipal principal)
    {
        var cookie = _portal.Service<IOptionsMonitor<CookieAuthenticationOptions>>().Get(CookieAuthenticationDefaults.AuthenticationScheme);
        return cookie.TicketDataFormat.Protect(new AuthenticationTicket(principal, CookieAuthenticationDefaults.AuthenticationScheme));
    }

    private async Task<HttpResponseMessage> GetWithCookieAsync(string cookie, string path)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = _portal.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", $"kaizen={cookie}");
        return await http.SendAsync(request);
    }
}
