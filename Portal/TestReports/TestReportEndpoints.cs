using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Secrets;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.TestReports;

/// <summary>
/// The runner's upload of report files, and the API reads of test results and coverage. The reads are open like a
/// build's: anyone may read a public project's, signed-in users any project's; otherwise 404.
/// </summary>
public static class TestReportEndpoints
{
    public static IEndpointRouteBuilder MapTestReports(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/runner/jobs/{jobId:long}/reports", Upload)
            .RequireAuthorization(KaizenAuth.RunnerPolicy).ExcludeFromDescription();

        var open = app.MapOpenReads("Kaizen");
        open.MapGet("/builds/{id:long}/tests", BuildTests)
            .WithSummary("A build's tests: totals, failed tests first (with message and output), the slowest, flaky marks, report files.");
        open.MapGet("/builds/{id:long}/coverage", BuildCoverage).WithSummary("A build's line coverage, in total and per file.");
        open.MapGet("/projects/{slug}/tests/history", TestHistory)
            .WithSummary("One test's results in the project's recent builds (?suite=&name=), and whether it is flaky.");
        open.MapGet("/projects/{slug}/coverage", CoverageTrend)
            .WithSummary("Line coverage of the project's recent builds (?branch=, default: the default branch), oldest first.");
        return app;
    }

    private static async Task<IResult> Upload(long jobId, string? kind, string? path, long? size, HttpRequest request,
        ClaimsPrincipal user, TestResultService results, Runners.RunnerStore runners, JobEnvironmentProvider environments,
        CancellationToken ct)
    {
        // Only the claim's lease lets a report in: a runner token alone cannot attach made-up results to a job.
        var lease = await runners.CheckLeaseAsync(user.RunnerId(), jobId, Runners.RunnerEndpoints.LeaseOf(request), ct);
        if (lease is Runners.LeaseCheck.NotClaimed or Runners.LeaseCheck.WrongLease)
            return Results.Problem(Runners.RunnerStore.Describe(lease, jobId), statusCode: 403);
        // The runner masks the file's bytes, but a secret holding '&' or '<' is written as entities in XML and only
        // appears once the report is parsed: the parsed texts are masked again with the secrets the job was given.
        SecretMasker masker;
        try
        {
            masker = await SecretsOfAsync(jobId, runners, environments, ct);
        }
        catch (SecretUnreadableException ex)
        {
            return Results.Problem($"The job's secrets cannot be read, so its report cannot be masked: {ex.Message}", statusCode: 409);
        }
        var receipt = await results.ReceiveAsync(user.RunnerId(), jobId, kind, path, size, request.Body, ct, masker);
        return receipt.Response is { } response
            ? Results.Json(response, RunnerJson.Options)
            : Results.Problem(receipt.Error, statusCode: receipt.StatusCode);
    }

    private static async Task<IResult> BuildTests(long id, BuildStore builds, ProjectStore projects, TestResultService results,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var (_, project) = await ReadableBuildAsync(id, builds, projects, user, ct);
        if (project is null) return NotFound($"No build {id}.");
        return Results.Ok(await results.BuildTestsAsync(project.Id, id, ct));
    }

    private static async Task<IResult> BuildCoverage(long id, BuildStore builds, ProjectStore projects, TestResultService results,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var (_, project) = await ReadableBuildAsync(id, builds, projects, user, ct);
        if (project is null) return NotFound($"No build {id}.");
        return await results.CoverageAsync(id, ct) is { } coverage
            ? Results.Ok(coverage)
            : NotFound($"Build {id} has no coverage report.");
    }

    private static async Task<IResult> TestHistory(string slug, string? suite, string? name, ProjectStore projects,
        TestResultService results, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (!ProjectAccess.CanRead(user, project)) return NotFound($"No project '{slug}'.");
        if (string.IsNullOrEmpty(name)) return Results.Problem("Give the test: ?suite=<class or suite>&name=<test>.", statusCode: 400);
        var (runs, flaky) = await results.HistoryAsync(project.Id, suite ?? "", name, ct);
        return Results.Ok(new TestHistoryResponse(suite ?? "", name, flaky is not null, flaky, runs));
    }

    private static async Task<IResult> CoverageTrend(string slug, string? branch, int? take, ProjectStore projects,
        TestResultService results, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (!ProjectAccess.CanRead(user, project)) return NotFound($"No project '{slug}'.");
        var chosen = string.IsNullOrEmpty(branch) ? project.DefaultBranch : branch;
        return Results.Ok(new CoverageTrendResponse(chosen, await results.CoverageTrendAsync(project.Id, chosen, take ?? 30, ct)));
    }

    private static async Task<(BuildRow? Build, ProjectRow? Project)> ReadableBuildAsync(long id, BuildStore builds, ProjectStore projects,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        var project = build is null ? null : await projects.FindBySlugAsync(build.ProjectSlug, ct);
        return ProjectAccess.CanRead(user, project) ? (build, project) : (null, null);
    }

    /// <summary>A masker of the secrets the job received (the same rules as the runner's: it is the runner's masker).</summary>
    private static async Task<SecretMasker> SecretsOfAsync(long jobId, Runners.RunnerStore runners, JobEnvironmentProvider environments,
        CancellationToken ct)
    {
        var origin = await runners.OriginAsync(jobId, ct);
        if (origin is null) return new SecretMasker();
        var (_, secrets) = await environments.ForJobAsync(origin, ct);
        return SecretMasker.Of(secrets.Select(s => s.Value));
    }

    private static IResult NotFound(string message) => Results.Problem(message, statusCode: 404);
}

public sealed record TestHistoryResponse(string Suite, string Name, bool Flaky, string? FlakyReason, IReadOnlyList<TestRun> Runs);

public sealed record CoverageTrendResponse(string Branch, IReadOnlyList<CoveragePoint> Points);
