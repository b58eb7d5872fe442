using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.GitHub;

/// <summary>
/// Reports each build of a project linked to a GitHub repository as a commit status (pending, success, failure,
/// error) when <c>Kaizen:GitHub:Token</c> is set. It follows build changes as they are published, sends only what
/// changed, and retries a failed report on the next change or sweep; GitHub being down never affects builds.
/// </summary>
public sealed class CommitStatusReporter(BuildStore builds, ProjectStore projects, LiveUpdates live, IHttpClientFactory http, IOptions<KaizenOptions> options,
    TimeProvider time, ILogger<CommitStatusReporter> logger) : BackgroundService
{
    /// <summary>Finished builds are reported for this long after they finish (a sweep catches missed changes).</summary>
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(10);

    /// <summary>The description of a held fork build's pending status (the link to the build is its target URL).</summary>
    public const string WaitingForApproval = "Waiting for approval by a member";

    private readonly ConcurrentDictionary<long, string> _reported = new();
    private readonly SemaphoreSlim _pulse = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(options.Value.GitHub.Token)) return;
        using var subscription = live.Subscribe(LiveUpdates.Keys.Dashboard, () =>
        {
            if (_pulse.CurrentCount == 0)
            {
                try { _pulse.Release(); } catch (SemaphoreFullException) { }
            }
            return Task.CompletedTask;
        });
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReportChangesAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Reporting commit statuses failed; will retry");
            }
            try
            {
                await _pulse.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The commit status state of a build status.</summary>
    public static string State(string status) => status switch
    {
        Status.Passed => "success",
        Status.Failed => "failure",
        Status.Canceled => "error",
        _ => "pending",
    };

    private static string Description(BuildRow build) => build.Status switch
    {
        Status.Queued => "Queued",
        Status.Running => "Running",
        Status.Passed => "Passed",
        Status.Failed => "Failed",
        _ => "Canceled",
    };

    private async Task ReportChangesAsync(CancellationToken ct)
    {
        var since = (time.GetUtcNow() - Window).ToUnixTimeMilliseconds();
        var recent = await builds.RecentOfGithubProjectsAsync(since, ct);
        var repositories = new Dictionary<long, string?>();
        foreach (var build in recent)
        {
            if (_reported.TryGetValue(build.Id, out var sent) && sent == build.Status) continue;
            if (!repositories.TryGetValue(build.ProjectId, out var repository))
                repositories[build.ProjectId] = repository = await RepositoryOfAsync(build, ct);
            if (repository is null) continue;
            if (await SendAsync(repository, build, ct)) _reported[build.Id] = build.Status;
        }
        // Forget builds that left the window.
        var current = recent.Select(b => b.Id).ToHashSet();
        foreach (var id in _reported.Keys.Where(id => !current.Contains(id)).ToList()) _reported.TryRemove(id, out _);
    }

    private async Task<string?> RepositoryOfAsync(BuildRow build, CancellationToken ct) =>
        (await projects.FindBySlugAsync(build.ProjectSlug, ct))?.GithubRepository;

    private async Task<bool> SendAsync(string repository, BuildRow build, CancellationToken ct)
    {
        var github = options.Value.GitHub;
        var client = http.CreateClient(nameof(CommitStatusReporter));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{github.ApiUrl.TrimEnd('/')}/repos/{repository}/statuses/{build.CommitSha}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", github.Token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Kaizen", "1.0"));
        request.Headers.Add("X-GitHub-Api-Version", "2022-11-28");
        var publicUrl = options.Value.PublicUrl?.TrimEnd('/');
        request.Content = JsonContent.Create(new
        {
            state = State(build.Status),
            target_url = publicUrl is null ? null : $"{publicUrl}/builds/{build.Id}",
            // The pull request's page shows this to its author and reviewers: it says what has to happen next.
            description = build.Status == Status.AwaitingApproval ? WaitingForApproval : $"{Description(build)}: build #{build.Id}",
            context = $"kaizen/{build.ProjectSlug}",
        });
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            using var response = await client.SendAsync(request, timeout.Token);
            if (response.IsSuccessStatusCode) return true;
            logger.LogWarning("GitHub refused the status of build {BuildId} on {Repository}: {Status}", build.Id, repository, (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            logger.LogWarning("Could not reach GitHub to report build {BuildId}: {Message}", build.Id, ex.Message);
        }
        return false;
    }
}
