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

    /// <summary>Signs in with the password form, as a browser does (its antiforgery token, then the POST).</summary>
    private static async Task SignInWithPasswordAsync(HttpClient browser, string name, string password)
    {
        var form = await browser.GetStringAsync("/login");
        using var response = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = AntiforgeryToken(form),
            ["username"] = name,
            ["password"] = password,
            ["returnUrl"] = "/api/v1/me/tokens",
        }));
        Assert.Equal("/api/v1/me/tokens", response.RequestMessage!.RequestUri!.AbsolutePath);
    }

    /// <summary>Clicks "Link GitHub account" on the GitHub account page and follows every redirect; returns where it ends.</summary>
    private static async Task<(Uri At, string Page)> LinkGitHubAsync(HttpClient browser)
    {
        var page = await browser.GetStringAsync(GitHubSignIn.AccountPage);
        Assert.Contains("Link GitHub account", page);
        using var response = await browser.PostAsync(GitHubSignIn.LinkPath,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = AntiforgeryToken(page) }));
        return (response.RequestMessage!.RequestUri!, await response.Content.ReadAsStringAsync());
    }

    private static string AntiforgeryToken(string page)
    {
        var match = System.Text.RegularExpressions.Regex.Match(page, "<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"");
        Assert.True(match.Success, "The page has no antiforgery token.");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    private async Task LinkAsAdminAsync(long userId, long githubId)
    {
        using var response = await _portal.Api.PatchAsJsonAsync($"/api/v1/users/{userId}", new { githubId });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_github_login_equal_to_a_kaizen_users_name_does_not_sign_in_as_that_user()
    {
        // Arrange: anyone can register the GitHub login "octocat"; the Kaizen user octocat never linked it.
        var user = await TeamsPortal.CreateUserAsync(_portal, "octocat", "admin");
        _github.NextAccount = ("octocat", 583231);
        using var browser = Browser();

        // Act
        var (at, page) = await SignInWithGitHubAsync(browser);

        // Assert
        Assert.Equal("/login", at.AbsolutePath);
        Assert.Contains("The GitHub account &#x27;octocat&#x27; is not linked to a Kaizen user", page);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/me/tokens")).StatusCode);
        Assert.Null((await _portal.Service<UserStore>().FindByIdAsync(user.Id))!.GithubId);
    }

    [Fact]
    public async Task A_user_links_their_github_account_from_their_own_session_and_then_signs_in_with_it_with_their_role()
    {
        // Arrange: the GitHub login has nothing to do with the Kaizen name.
        var user = await TeamsPortal.CreateUserAsync(_portal, "dana", "member", "danas-password");
        _github.NextAccount = ("dana-on-github", 4242);
        using (var session = Browser())
        {
            await SignInWithPasswordAsync(session, "dana", "danas-password");
            var (linkedAt, linkedPage) = await LinkGitHubAsync(session);
            Assert.Equal(GitHubSignIn.AccountPage, linkedAt.AbsolutePath);
            Assert.Contains("Your GitHub account is linked", linkedPage);
        }
        using var browser = Browser();

        // Act
        var (at, page) = await SignInWithGitHubAsync(browser);

        // Assert
        Assert.Equal("/api/v1/me/tokens", at.AbsolutePath);
        Assert.Equal(_portal.BaseUrl.Authority, at.Authority);
        Assert.Contains("created with the user", page);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/api/v1/users")).StatusCode);
        Assert.Equal(4242, (await _portal.Service<UserStore>().FindByIdAsync(user.Id))!.GithubId);
        var audit = await _portal.Api.GetStringAsync("/api/v1/audit?limit=50");
        Assert.Contains("GitHub account dana-on-github (id 4242) linked from their own session", audit);
    }

    [Fact]
    public async Task Linking_needs_a_signed_in_session_and_goes_nowhere_near_github_without_one()
    {
        // Arrange
        using var browser = Browser();
        var login = await browser.GetStringAsync("/login");

        // Act: the form's post without a session (the antiforgery token of an anonymous page).
        using var response = await browser.PostAsync(GitHubSignIn.LinkPath,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = AntiforgeryToken(login) }));

        // Assert
        Assert.Equal("/login", response.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(_portal.BaseUrl.Authority, response.RequestMessage.RequestUri.Authority);
    }

    [Fact]
    public async Task An_admin_sets_a_users_github_id_and_that_account_signs_in_as_them()
    {
        // Arrange
        var user = await TeamsPortal.CreateUserAsync(_portal, "erik", "viewer");
        await LinkAsAdminAsync(user.Id, 777);
        _github.NextAccount = ("whatever-erik-is-called-there", 777);
        using var browser = Browser();

        // Act
        var (at, _) = await SignInWithGitHubAsync(browser);

        // Assert
        Assert.Equal("/api/v1/me/tokens", at.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/me/tokens")).StatusCode);
    }

    [Fact]
    public async Task A_github_account_linked_to_one_user_is_not_linked_to_another_and_its_login_twin_is_refused()
    {
        // Arrange
        var first = await TeamsPortal.CreateUserAsync(_portal, "renamed", "admin");
        var second = await TeamsPortal.CreateUserAsync(_portal, "other", "member");
        await LinkAsAdminAsync(first.Id, 1001);
        _github.NextAccount = ("Renamed", 2002);
        using var browser = Browser();

        // Act
        using var taken = await _portal.Api.PatchAsJsonAsync($"/api/v1/users/{second.Id}", new { githubId = 1001 });
        var (at, page) = await SignInWithGitHubAsync(browser);

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal("/login", at.AbsolutePath);
        Assert.Contains("is not linked to a Kaizen user", page);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/me/tokens")).StatusCode);
    }

    [Fact]
    public async Task The_bootstrap_admin_never_signs_in_with_github_nor_gets_a_github_account_linked()
    {
        // Arrange
        var admin = (await _portal.Service<UserStore>().FindByNameAsync("admin"))!;
        _github.NextAccount = ("admin", 7);
        using var browser = Browser();

        // Act
        var (at, page) = await SignInWithGitHubAsync(browser);
        using var link = await _portal.Api.PatchAsJsonAsync($"/api/v1/users/{admin.Id}", new { githubId = 7 });

        // Assert
        Assert.Equal("/login", at.AbsolutePath);
        Assert.Contains("is not linked to a Kaizen user", page);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/me/tokens")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, link.StatusCode);
    }

    [Fact]
    public async Task A_removed_user_signed_in_with_github_is_signed_out_on_the_next_request()
    {
        // Arrange
        var user = await TeamsPortal.CreateUserAsync(_portal, "short-lived", "viewer");
        await LinkAsAdminAsync(user.Id, 99);
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
