namespace Kaizen.Portal.Hosting;

/// <summary>
/// Headers on every answer that tell browsers what the portal's pages may do: load scripts, styles and connections
/// only from the portal itself, never be framed by another site (clickjacking of Approve or Deploy buttons), never guess
/// a content type (a job's log or artifact served as text stays text), and not hand full addresses to other sites.
/// </summary>
public static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        // Set when the answer starts, so error pages and answers whose headers were cleared on the way get them too.
        http.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy(context.Request);
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            return Task.CompletedTask;
        }, http);
        await next(http);
    });

    /// <summary>
    /// Blazor Server needs its own scripts and a WebSocket back to the portal (named explicitly: browsers before CSP 3
    /// do not count ws: under 'self'); it needs no eval. MudBlazor positions and colors elements with style attributes,
    /// hence 'unsafe-inline' for styles only. Its icons are inline SVG and its fonts are served by the portal.
    /// </summary>
    public static string ContentSecurityPolicy(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var host = request.Host.Value;
        var sockets = string.IsNullOrEmpty(host) ? "" : $" ws://{host} wss://{host}";
        return "default-src 'self'; " +
               "script-src 'self'; " +
               "style-src 'self' 'unsafe-inline'; " +
               "img-src 'self' data:; " +
               "font-src 'self' data:; " +
               $"connect-src 'self'{sockets}; " +
               "object-src 'none'; " +
               "base-uri 'self'; " +
               $"form-action 'self'{GitHubFormTarget(request)}; " +
               "frame-ancestors 'none'";
    }

    /// <summary>
    /// The GitHub account page's "Link" form is answered with a redirect to GitHub's sign-in, which browsers check
    /// against form-action too: that page alone may also send a form on to the configured GitHub.
    /// </summary>
    private static string GitHubFormTarget(HttpRequest request)
    {
        if (!request.Path.StartsWithSegments(Auth.GitHubSignIn.AccountPage)) return "";
        var github = request.HttpContext.RequestServices?.GetService<Microsoft.Extensions.Options.IOptions<KaizenOptions>>()?.Value.GitHub;
        return github is { SignInEnabled: true } && Uri.TryCreate(github.OAuthUrl, UriKind.Absolute, out var url)
            ? " " + url.GetLeftPart(UriPartial.Authority)
            : "";
    }
}
