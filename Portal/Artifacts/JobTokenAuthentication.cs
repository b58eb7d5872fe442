using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Kaizen.Portal.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Artifacts;

/// <summary>
/// Authenticates a job's own shell by the token the job got at claim (KAIZEN_JOB_TOKEN), on /api/jobs only. The
/// token is looked up on every request, so it stops working the moment its job finishes (a debug session's, the moment
/// the session ends).
/// </summary>
public sealed class JobTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ArtifactStore artifacts)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = Tokens.FromHeader(Request.Headers.Authorization);
        if (token is null) return AuthenticateResult.NoResult();
        var job = await artifacts.FindRunningJobAsync(Tokens.Hash(token), Context.RequestAborted);
        if (job is null) return AuthenticateResult.Fail("Unknown job token, or its job is no longer running.");
        var claims = new List<Claim>
        {
            new(JobTokenAuthentication.JobIdClaim, job.JobId.ToString(CultureInfo.InvariantCulture)),
            new(JobTokenAuthentication.BuildIdClaim, job.BuildId.ToString(CultureInfo.InvariantCulture)),
            new(JobTokenAuthentication.ProjectIdClaim, job.ProjectId.ToString(CultureInfo.InvariantCulture)),
            new(JobTokenAuthentication.BranchClaim, job.Branch),
            new(JobTokenAuthentication.DefaultBranchClaim, job.DefaultBranch),
            new(ClaimTypes.Name, $"job {job.JobId}"),
        };
        if (job.FromFork) claims.Add(new Claim(JobTokenAuthentication.FromForkClaim, "true"));
        if (job.DeployId is { } deploy)
            claims.Add(new Claim(JobTokenAuthentication.DeployClaim, deploy.ToString(CultureInfo.InvariantCulture)));
        if (job.DebugSessionId is { } session)
            claims.Add(new Claim(JobTokenAuthentication.DebugSessionClaim, session.ToString(CultureInfo.InvariantCulture)));
        var identity = new ClaimsIdentity(claims, Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }
}

public static class JobTokenAuthentication
{
    public const string Scheme = "JobToken";
    public const string Policy = "Job";

    /// <summary>Requests under this path with a bearer token are a job's.</summary>
    public const string PathPrefix = "/api/jobs";

    public const string JobIdClaim = "kaizen:job";
    public const string BuildIdClaim = "kaizen:build";
    public const string ProjectIdClaim = "kaizen:project";
    public const string FromForkClaim = "kaizen:fork";
    public const string BranchClaim = "kaizen:branch";
    public const string DefaultBranchClaim = "kaizen:default-branch";
    public const string DebugSessionClaim = "kaizen:debug";
    public const string DeployClaim = "kaizen:deploy";

    /// <summary>Why a debug session's shell may read but not write artifacts and caches.</summary>
    public const string DebugRefusal =
        "A debug session reads the build's artifacts and caches but does not store any: they belong to the build that ran.";

    /// <summary>The calling job, from the claims this scheme set.</summary>
    public static RunningJobIdentity Job(this ClaimsPrincipal user) => new()
    {
        JobId = long.Parse(user.FindFirstValue(JobIdClaim)!, CultureInfo.InvariantCulture),
        BuildId = long.Parse(user.FindFirstValue(BuildIdClaim)!, CultureInfo.InvariantCulture),
        ProjectId = long.Parse(user.FindFirstValue(ProjectIdClaim)!, CultureInfo.InvariantCulture),
        FromFork = user.HasClaim(FromForkClaim, "true"),
        Branch = user.FindFirstValue(BranchClaim) ?? "",
        DefaultBranch = user.FindFirstValue(DefaultBranchClaim) ?? "",
        DebugSessionId = long.TryParse(user.FindFirstValue(DebugSessionClaim), CultureInfo.InvariantCulture, out var session) ? session : null,
        DeployId = long.TryParse(user.FindFirstValue(DeployClaim), CultureInfo.InvariantCulture, out var deploy) ? deploy : null,
    };
}
