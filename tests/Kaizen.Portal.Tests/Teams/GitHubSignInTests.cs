using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Integration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>
/// GitHub's side of an OAuth sign-in on a loopback port: /login/oauth/authorize sends the browser straight back with a
/// code (as if the person approved), /login/oauth/access_token swaps the code for a token, /user says who that is.
/// </summary>
public sealed class FakeGitHub : IAsyncDisposable
{
    public const string ClientId = "kaizen-client";
    public const string ClientSecret = "kaizen-client-secret";

    private WebApplication _app = null!;
    private readonly ConcurrentDictionary<string, (string Login, long Id)> _codes = new();
    private readonly ConcurrentDictionary<string, (string Login, long Id)> _tokens = new();

    private FakeGitHub()
    {
    }

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Who approves the next sign-in.</summary>
    public (string Login, long Id) NextAccount { get; set; } = ("octocat", 1);

    public static async Task<FakeGitHub> StartAsync()
    {
        var fake = new FakeGitHub();
        var (app, url) = await LoopbackServer.StartAsync(app =>
        {
            app.MapGet("/login/oauth/authorize", (HttpContext http) =>
            {
                var q = http.Request.Query;
                if (q["client_id"] != ClientId) return Results.BadRequest("unknown client");
                var code = Guid.NewGuid().ToString("N");
                fake._codes[code] = fake.NextAccount;
                return Results.Redirect($"{q["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(q["state"].ToString())}");
            });
            app.MapPost("/login/oauth/access_token", async (HttpContext http) =>
            {
                var form = await http.Request.ReadFormAsync();
                if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret) return Results.Unauthorized();
                if (!fake._codes.TryRemove(form["code"].ToString(), out var account)) return Results.BadRequest(new { error = "bad_verification_code" });
                var token = "gho_" + Guid.NewGuid().ToString("N");
                fake._tokens[token] = account;
                return Results.Json(new { access_token = token, token_type = "bearer", scope = "" });
            });
            app.MapGet("/user", (HttpContext http) =>
            {
                var token = Tokens.FromHeader(http.Request.Headers.Authorization);
                return token is not null && fake._tokens.TryGetValue(token, out var account)
                    ? Results.Json(new { login = account.Login, id = account.Id })
                    : Results.Unauthorized();
            });
        });
        fake._app = app;
        fake.BaseUrl = url;
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>"Sign in with GitHub" end to end against <see cref="FakeGitHub"/>, following redirects with cookies like a browser.</summary>
public sealed class GitHubSignInTests : IAsyncLifetime
{
    private FakeGitHub _github = null!;
    private PortalHost _portal = null!;

    public async Task InitializeAsync()
    {
        _github = await FakeGitHub.StartAsync();
        var url = _github.BaseUrl.ToString().TrimEnd('/');
        _portal = await PortalHost.StartAsync(embeddedSlots: 0, settings: new Dictionary<string, string>
        {
            ["Kaizen:GitHub:ClientId"] = FakeGitHub.ClientId,
            ["Kaizen:GitHub:ClientSecret"] = FakeGitHub.ClientSecret,
            ["Kaizen:GitHub:OAuthUrl"] = url,
            ["Kaizen:GitHub:ApiUrl"] = url,
        });
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        await _github.DisposeAsync();
    }

    private HttpClient Browser() => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true })
    {
        BaseAddress = _portal.BaseUrl,
    };

    /// <summary>Clicks "Sign in with GitHub" on the sign-in page and follows every redirect; returns where it ends.</summary>
    private static async Task<(Uri At, string Page)> SignInWithGitHubAsync(HttpClient browser, string returnUrl = "/api/v1/me/tokens")
    {
        var login = await browser.GetStringAsync($"/login?returnUrl={Uri.EscapeDataString(returnUrl)}");
        Assert.Contains("Sign in with GitHub", login);
        using var response = await browser.GetAsync($"{GitHubSignIn.StartPath}?returnUrl={Uri.EscapeDataString(returnUrl)}");
        return (response.RequestMessage!.RequestUri!, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_github_account_signs_in_as_the_kaizen_user_of_the_same_name_with_their_role()
    {
        // Arrange
        var user = await TeamsPortal.CreateUserAsync(_portal, "octocat", "member");
        _github.NextAccount = ("octocat", 583231);
        using var browser = Browser();

        // Act
        var (at, page) = await SignInWithGitHubAsync(browser);

        // Assert
        Assert.Equal("/api/v1/me/tokens", at.AbsolutePath);
        Assert.Equal(_portal.BaseUrl.Authority, at.Authority);
        Assert.Contains("created with the user", page);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/api/v1/users")).StatusCode);
        Assert.Equal(583231, (await _portal.Service<UserStore>().FindByIdAsync(user.Id))!.GithubId);
    }

    [Fact]
    public async Task An_unknown_github_account_is_told_to_ask_an_admin_and_is_not_signed_in()
    {
        // Arrange
        _github.NextAccount = ("stranger", 42);
        using var browser = Browser();

        // Act
        var (at, page) = await SignInWithGitHubAsync(browser);

        // Assert
        Assert.Equal("/login", at.AbsolutePath);
        Assert.Contains("The GitHub account &#x27;stranger&#x27; is not a Kaizen user: ask an admin to add you", page);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/me/tokens")).StatusCode);
        Assert.Null(await _portal.Service<UserStore>().FindByNameAsync("stranger"));
    }

    [Fact]
    public async Task Once_linked_a_user_is_refused_to_another_github_account_with_the_same_login()
    {
        // Arrange
        await TeamsPortal.CreateUserAsync(_portal, "renamed", "admin");
        _github.NextAccount = ("renamed", 1001);
        using (var first = Browser()) await SignInWithGitHubAsync(first);
        _github.NextAccount = ("Renamed", 2002);
        using var browser = Browser();

        // Act
        var (at, page) = await SignInWithGitHubAsync(browser);

        // Assert
        Assert.Equal("/login", at.AbsolutePath);
        Assert.Contains("signs in with another GitHub account", page);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/me/tokens")).StatusCode);
    }

    [Fact]
    public async Task The_bootstrap_admin_never_signs_in_with_github()
    {
        // Arrange
        _github.NextAccount = ("admin", 7);
        using var browser = Browser();

        // Act
        var (at, page) = await SignInWithGitHubAsync(browser);

        // Assert
        Assert.Equal("/login", at.AbsolutePath);
        Assert.Contains("signs in with its password, not with GitHub", page);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/me/tokens")).StatusCode);
    }

    [Fact]
    public async Task A_removed_user_signed_in_with_github_is_signed_out_on_the_next_request()
    {
        // Arrange
        var user = await TeamsPortal.CreateUserAsync(_portal, "short-lived", "viewer");
        _github.NextAccount = ("short-lived", 99);
        using var browser = Browser();
        await SignInWithGitHubAsync(browser);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/me/tokens")).StatusCode);

        // Act
        (await _portal.Api.DeleteAsync($"/api/v1/users/{user.Id}")).Dispose();

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/me/tokens")).StatusCode);
    }
}

/// <summary>Without a client id and secret there is no GitHub sign-in at all.</summary>
public sealed class GitHubSignInOffTests(TeamsPortal fixture) : IClassFixture<TeamsPortal>
{
    [Fact]
    public async Task The_sign_in_page_offers_no_github_and_its_start_address_is_not_found()
    {
        // Arrange
        using var http = new HttpClient { BaseAddress = fixture.Portal.BaseUrl };

        // Act
        var page = await http.GetStringAsync("/login");
        using var start = await http.GetAsync(GitHubSignIn.StartPath);

        // Assert
        Assert.DoesNotContain("Sign in with GitHub", page);
        Assert.Equal(HttpStatusCode.NotFound, start.StatusCode);
    }
}
