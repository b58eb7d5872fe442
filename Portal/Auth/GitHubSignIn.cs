using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Kaizen.Portal.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OAuth;

namespace Kaizen.Portal.Auth;

/// <summary>Why a GitHub account could not sign in or be linked, as the <c>error</c> query value of the sign-in or account page.</summary>
public static class GitHubSignInErrors
{
    public const string NotLinked = "github-not-linked";
    public const string Bootstrap = "github-admin";
    public const string Failed = "github-failed";

    /// <summary>Linking: the GitHub account is linked to another Kaizen user.</summary>
    public const string Taken = "github-taken";

    /// <summary>Linking: the browser that came back from GitHub is not signed in as the user who asked to link.</summary>
    public const string Session = "github-session";
}

/// <summary>
/// "Sign in with GitHub" through ASP.NET Core's OAuth handler: a GitHub account signs in as the Kaizen user it is linked
/// to, with that user's role. A link is made only from the user's own signed-in session (<see cref="LinkPath"/>, on the
/// GitHub account page) or by an admin setting the id; never by a GitHub login that happens to equal a user's name,
/// which anyone can register on GitHub. Unlinked accounts are sent back to the sign-in page; nobody is created.
/// </summary>
public static class GitHubSignIn
{
    public const string Scheme = "GitHub";
    public const string CallbackPath = "/signin-github";
    public const string StartPath = "/account/login/github";

    /// <summary>The signed-in user's GitHub account page, with the link and unlink actions.</summary>
    public const string AccountPage = "/account/github";

    /// <summary>POST (from <see cref="AccountPage"/>, with its antiforgery token): link a GitHub account to the signed-in user.</summary>
    public const string LinkPath = "/account/github/link";

    /// <summary>POST: unlink the signed-in user's GitHub account.</summary>
    public const string UnlinkPath = "/account/github/unlink";

    /// <summary>Carried through GitHub in the protected OAuth state: the id of the user who asked to link.</summary>
    public const string LinkUserItem = "kaizen.link-user";

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

    /// <summary>Swaps the GitHub identity for the Kaizen user's before the cookie is written, or turns the account away;
    /// for a link, links the account to the signed-in user instead and writes no new cookie.</summary>
    private static async Task SignInAsKaizenUserAsync(TicketReceivedContext ctx)
    {
        var login = ctx.Principal!.FindFirstValue(LoginClaim)!;
        var githubId = long.Parse(ctx.Principal!.FindFirstValue(IdClaim)!, CultureInfo.InvariantCulture);
        var users = ctx.HttpContext.RequestServices.GetRequiredService<UserStore>();
        if (ctx.Properties?.Items.TryGetValue(LinkUserItem, out var linkFor) == true && linkFor is not null)
        {
            var error = await LinkAsync(ctx.HttpContext, users, linkFor, login, githubId);
            ctx.Response.Redirect(error is null ? $"{AccountPage}?linked=1" : $"{AccountPage}?error={error}");
            ctx.HandleResponse();
            return;
        }
        var (user, signInError) = await FindUserAsync(users, githubId, ctx.HttpContext.RequestAborted);
        if (user is null)
        {
            ctx.Response.Redirect($"/login?error={signInError}&login={Uri.EscapeDataString(login)}");
            ctx.HandleResponse();
            return;
        }
        ctx.Principal = UserPrincipal.Create(user, CookieAuthenticationDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Links the GitHub account to the user who started the link, if this browser is still signed in as them (the
    /// OAuth state alone could have been started by someone else); null when linked, else the error.
    /// </summary>
    private static async Task<string?> LinkAsync(HttpContext http, UserStore users, string linkFor, string login, long githubId)
    {
        var session = await http.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        var userId = session.Succeeded ? session.Principal!.UserId() : null;
        if (userId is null || userId.Value.ToString(CultureInfo.InvariantCulture) != linkFor) return GitHubSignInErrors.Session;
        var user = await users.FindByIdAsync(userId.Value, http.RequestAborted);
        if (user is null) return GitHubSignInErrors.Session;
        if (IsBootstrap(user)) return GitHubSignInErrors.Bootstrap;
        if (!await users.SetGithubAsync(user.Id, githubId, http.RequestAborted)) return GitHubSignInErrors.Taken;
        await http.RequestServices.GetRequiredService<Audit.AuditLog>().RecordAsync(user.Name, Audit.AuditActions.UserChanged,
            $"user:{user.Name}", $"GitHub account {login} (id {githubId}) linked from their own session", http.RequestAborted);
        return null;
    }

    /// <summary>The Kaizen user a GitHub account signs in as: the one it is linked to, by GitHub's numeric id.</summary>
    internal static async Task<(UserRow? User, string Error)> FindUserAsync(UserStore users, long githubId, CancellationToken ct)
    {
        var user = await users.FindByGithubIdAsync(githubId, ct);
        if (user is null) return (null, GitHubSignInErrors.NotLinked);
        return IsBootstrap(user) ? (null, GitHubSignInErrors.Bootstrap) : (user, "");
    }

    /// <summary>The bootstrap account always signs in with its password.</summary>
    public static bool IsBootstrap(UserRow user) =>
        string.Equals(user.Name, Bootstrap.AdminName, StringComparison.OrdinalIgnoreCase);
}
