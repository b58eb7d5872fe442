using Kaizen.Portal.Auth;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

/// <summary>
/// The API's open reads: routes anyone may call (public projects answer anonymously), which still refuse a token that
/// does not authenticate (mistyped, revoked, or a runner's): its caller expects to be someone, and answering as if
/// anonymous would hide the problem.
/// </summary>
public static class OpenReads
{
    /// <summary>A <c>/api/v1</c> group of open reads tagged <paramref name="tag"/> in the OpenAPI document.</summary>
    public static RouteGroupBuilder MapOpenReads(this IEndpointRouteBuilder app, string tag) =>
        app.MapGroup("/api/v1").WithTags(tag).AddEndpointFilter(RefuseInvalidTokens);

    private static async ValueTask<object?> RefuseInvalidTokens(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (Tokens.FromHeader(http.Request.Headers.Authorization) is not null && !ProjectAccess.IsSignedIn(http.User))
            return Results.Problem("The API token is not valid: it is mistyped, revoked, or not a user's token.", statusCode: 401);
        return await next(context);
    }
}
