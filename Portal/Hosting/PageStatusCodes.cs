namespace Kaizen.Portal.Hosting;

/// <summary>
/// What an error status looks like: a browser opening an unknown page gets the portal's "not found" page (status 404,
/// in the portal's layout, with a way back); API clients, runners, webhooks and badges keep their JSON problem details.
/// </summary>
public static class PageStatusCodes
{
    /// <summary>The page that unknown addresses show.</summary>
    public const string NotFoundPath = "/not-found";

    /// <summary>Where a signed-in person whose role may not open a page is sent (with <c>ReturnUrl</c>).</summary>
    public const string ForbiddenPath = "/forbidden";

    private static readonly string[] MachinePrefixes = ["/api", "/_blazor", "/_framework", "/_content", "/badges", "/webhooks", "/healthz", "/openapi"];

    /// <summary>A browser asking for a page: a GET or HEAD outside the machines' addresses that accepts HTML.</summary>
    public static bool IsPageRequest(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var request = http.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)) return false;
        if (MachinePrefixes.Any(p => request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase))) return false;
        return request.Headers.Accept.Any(a => a?.Contains("text/html", StringComparison.OrdinalIgnoreCase) == true);
    }

    public static IApplicationBuilder UsePortalStatusCodePages(this IApplicationBuilder app)
    {
        app.UseWhen(IsPageRequest, page => page.UseStatusCodePagesWithReExecute(NotFoundPath, createScopeForStatusCodePages: true));
        app.UseWhen(http => !IsPageRequest(http), machine => machine.UseStatusCodePages());
        return app;
    }
}
