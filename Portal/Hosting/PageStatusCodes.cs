using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Routing;

namespace Kaizen.Portal.Hosting;

/// <summary>
/// What an error status looks like: a browser opening an unknown page gets the portal's "not found" page (status 404,
/// in the portal's layout, with a way back); API clients, runners, webhooks and badges keep their problem details.
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
        var machines = new StatusCodePagesOptions();
        return app.UseStatusCodePages(context =>
            context.HttpContext.Response.StatusCode == StatusCodes.Status404NotFound && IsPageRequest(context.HttpContext)
                ? NotFoundPageAsync(context)
                : machines.HandleAsync(context));
    }

    // Renders the not-found page in place of the empty answer. The built-in re-execution would have to route the request
    // again, which a branch of the pipeline cannot (the endpoints are the application's); the page's endpoint is looked
    // up instead, and the rest of the pipeline (authentication, antiforgery, the endpoint) runs for it.
    private static async Task NotFoundPageAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var page = http.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .FirstOrDefault(e => e.RoutePattern.RawText == NotFoundPath);
        if (page is null)
        {
            await new StatusCodePagesOptions().HandleAsync(context);
            return;
        }
        var (path, query) = (http.Request.Path, http.Request.QueryString);
        http.Features.Set<IStatusCodeReExecuteFeature>(new StatusCodeReExecuteFeature
        {
            OriginalPath = path,
            OriginalPathBase = http.Request.PathBase.Value ?? "",
            OriginalQueryString = query.HasValue ? query.Value : null,
        });
        http.Request.Path = NotFoundPath;
        http.Request.QueryString = QueryString.Empty;
        http.Request.RouteValues.Clear();
        http.SetEndpoint(page);
        try
        {
            await context.Next(http);
        }
        finally
        {
            http.Request.Path = path;
            http.Request.QueryString = query;
        }
    }
}
