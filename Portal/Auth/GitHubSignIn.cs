using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Kaizen.Portal.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OAuth;

namespace Kaizen.Portal.Auth;

/// <summary>Why a GitHub account could not sign in, as the sign-in page's <c>error</c> query value.</summary>
public static class GitHubSignInErrors
{
    public const string UnknownUser = "github-unknown";
    public const string OtherAccount = "github-other-account";
    public const string Bootstrap = "github-admin";
    public const string Failed = "github-failed";
}

/// <summary>
/// "Sign in with GitHub" through ASP.NET Core's OAuth handler: a GitHub account signs in as the existing Kaizen user
/// of the same name, with that user's role. Unknown logins are sent back to the sign-in page; nobody is created.
/// </summary>
public static class GitHubSignIn
{
    public const string Scheme = "GitHub";
    public const string CallbackPath = "/signin-github";
    public const string StartPath = "/account/login/github";

    private const string LoginClaim = "urn:github:login";
    private const string IdClaim = "urn:github:id";

    /// <summary>Adds the GitHub scheme when <see cref="GitHubOptions.SignInEnabled"/>; does nothing otherwise.</summary>
    public static AuthenticationBuilder AddGitHubSignIn(this AuthenticationBuilder auth, GitHubOptions github)
    {
        ArgumentNullException.ThrowIfNull(github);
        if (!github.SignInEnabled) return auth;
        var oauthUrl = github.OAuthUrl.TrimEnd('/');
        var apiUrl = github.ApiUrl.TrimEnd('/');
        return auth.AddOAuth(Scheme, "GitHub", o =>
        {
            o.ClientId = github.ClientId!;
            o.ClientSecret = github.ClientSecret!;
            o.CallbackPath = CallbackPath;
            o.AuthorizationEndpoint = $"{oauthUrl}/login/oauth/authorize";
            o.TokenEndpoint = $"{oauthUrl}/login/oauth/access_token";
            o.UserInformationEndpoint = $"{apiUrl}/user";
            o.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            // No scope: the public profile (login and id) is all that is read.
            o.UsePkce = true;
            // Self-hosted portals often run on plain http inside a network; the correlation cookie must still come
            // back on GitHub's top-level redirect, which Lax allows.
            o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.CorrelationCookie.SameSite = SameSiteMode.Lax;
            o.Events.OnCreatingTicket = ReadGitHubAccountAsync;
            o.Events.OnTicketReceived = SignInAsKaizenUserAsync;
            o.Events.OnRemoteFailure = ctx =>
            {
                ctx.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GitHubSignIn))
                    .LogWarning(ctx.Failure, "Sign-in with GitHub failed");
                ctx.Response.Redirect($"/login?error={GitHubSignInErrors.Failed}");
                ctx.HandleResponse();
                return Task.CompletedTask;
            };
        });
    }

    private static async Task ReadGitHubAccountAsync(OAuthCreatingTicketContext ctx)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ctx.Options.UserInformationEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ctx.AccessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Kaizen", "1.0"));
        using var response = await ctx.Backchannel.SendAsync(request, ctx.HttpContext.RequestAborted);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ctx.HttpContext.RequestAborted));
        var login = json.RootElement.GetProperty("login").GetString();
        var id = json.RootElement.GetProperty("id").GetInt64();
        if (string.IsNullOrEmpty(login)) throw new InvalidOperationException("GitHub's /user answer has no login.");
        ctx.Identity!.AddClaim(new Claim(LoginClaim, login));
        ctx.Identity.AddClaim(new Claim(IdClaim, id.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Swaps the GitHub identity for the Kaizen user's before the cookie is written, or turns the account away.</summary>
    private static async Task SignInAsKaizenUserAsync(TicketReceivedContext ctx)
    {
        var login = ctx.Principal!.FindFirstValue(LoginClaim)!;
        var githubId = long.Parse(ctx.Principal!.FindFirstValue(IdClaim)!, CultureInfo.InvariantCulture);
        var users = ctx.HttpContext.RequestServices.GetRequiredService<UserStore>();
        var (user, error) = await FindUserAsync(users, login, githubId, ctx.HttpContext.RequestAborted);
        if (user is null)
        {
            ctx.Response.Redirect($"/login?error={error}&login={Uri.EscapeDataString(login)}");
            ctx.HandleResponse();
            return;
        }
        ctx.Principal = UserPrincipal.Create(user, CookieAuthenticationDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// The Kaizen user a GitHub account signs in as. GitHub logins ignore case, so a user named with other case matches.
    /// The first GitHub sign-in links the account's id to the user; any other account with that login (after a rename)
    /// is refused from then on.
    /// </summary>
    internal static async Task<(UserRow? User, string Error)> FindUserAsync(UserStore users, string login, long githubId, CancellationToken ct)
    {
        var user = await users.FindByNameAsync(login, ct)
                   ?? (await users.ListAsync(ct)).SingleOrDefault(u => string.Equals(u.Name, login, StringComparison.OrdinalIgnoreCase));
        if (user is null) return (null, GitHubSignInErrors.UnknownUser);
        // The bootstrap account's name is too common a GitHub login to hand to whoever owns it there.
        if (string.Equals(user.Name, Bootstrap.AdminName, StringComparison.OrdinalIgnoreCase)) return (null, GitHubSignInErrors.Bootstrap);
        if (user.GithubId is null && await users.LinkGithubAsync(user.Id, githubId, ct)) return (user, "");
        var linked = await users.FindByIdAsync(user.Id, ct);
        return linked?.GithubId == githubId ? (linked, "") : (null, GitHubSignInErrors.OtherAccount);
    }
}
