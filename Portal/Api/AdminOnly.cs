using Kaizen.Portal.Auth;

namespace Kaizen.Portal.Api;

public static class AdminOnly
{
    /// <summary>Only admins pass; anyone else signed in gets 403, anonymous callers 401.</summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(p => p.RequireRole(Roles.Admin));
}
