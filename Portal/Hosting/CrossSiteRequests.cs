using Kaizen.Portal.Auth;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Hosting;

/// <summary>
/// Refuses requests another site makes a signed-in browser send. The sign-in cookie goes with any site's form post or
/// fetch, so a cookie-authenticated change (<c>POST</c>, <c>PUT</c>, <c>PATCH</c>, <c>DELETE</c>) under <c>/api</c>, and
/// any WebSocket opened with the cookie, must show it comes from the portal's own pages: a same-origin <c>Origin</c>,
/// else a same-origin <c>Referer</c>, else an <c>X-Requested-With</c> header (a header no other site can add without a
/// CORS preflight, which the portal never grants). Bearer tokens are not sent by browsers on their own, so requests
/// carrying one are left alone.
/// </summary>
public static class CrossSiteRequests
{
    /// <summary>The header scripts that use the sign-in cookie send instead of an Origin (any value).</summary>
    public const string RequestedWithHeader = "X-Requested-With";

    public static IApplicationBuilder UseCrossSiteRequestChecks(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (MustProveOrigin(http) && RefusalReason(http) is { } reason)
        {
            await Results.Problem(reason, statusCode: StatusCodes.Status403Forbidden, title: "Cross-site request refused")
                .ExecuteAsync(http);
            return;
        }
        await next(http);
    });

    /// <summary>True when <paramref name="origin"/> (an Origin or Referer value) names the portal the request reached,
    /// by its Host header or by <see cref="KaizenOptions.PublicUrl"/>. Only the authority is compared: behind a proxy that
    /// ends TLS the portal sees http while the browser says https.</summary>
    public static bool IsSameOrigin(string? origin, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return false;
        if (string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)) return true;
        var publicUrl = request.HttpContext.RequestServices.GetService<IOptions<KaizenOptions>>()?.Value.PublicUrl;
        return Uri.TryCreate(publicUrl, UriKind.Absolute, out var portal)
               && string.Equals(uri.Authority, portal.Authority, StringComparison.OrdinalIgnoreCase);
    }

    private static bool MustProveOrigin(HttpContext http)
    {
        var request = http.Request;
        if (Tokens.FromHeader(request.Headers.Authorization) is not null) return false;
        if (!request.Cookies.ContainsKey(SignInCookie.Name)) return false;
        if (http.WebSockets.IsWebSocketRequest) return true;
        return request.Path.StartsWithSegments("/api")
               && !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
                    || HttpMethods.IsTrace(request.Method));
    }

    private static string? RefusalReason(HttpContext http)
    {
        var headers = http.Request.Headers;
        if (headers.Origin is [{ } origin, ..])
            return IsSameOrigin(origin, http.Request) ? null
                : $"The request comes from another site ({Shorten(origin)}) with your sign-in cookie. Change things from the portal's own " +
                  "pages, or call the API with an API token (Authorization: Bearer ...).";
        if (headers.Referer is [{ } referer, ..])
            return IsSameOrigin(referer, http.Request) ? null
                : "The request comes from another site's page with your sign-in cookie. Change things from the portal's own pages, " +
                  "or call the API with an API token (Authorization: Bearer ...).";
        if (!string.IsNullOrEmpty(headers[RequestedWithHeader])) return null;
        return "A request with the sign-in cookie must show it comes from the portal: send an Origin header naming the portal " +
               $"(browsers do), or {RequestedWithHeader}: XMLHttpRequest; or call the API with an API token (Authorization: Bearer ...).";
    }

    private static string Shorten(string text) => text.Length > 100 ? text[..100] + "…" : text;
}

/// <summary>The sign-in cookie's name, shared by its configuration and the checks that look for it.</summary>
public static class SignInCookie
{
    public const string Name = "kaizen";
}
