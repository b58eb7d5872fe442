using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.GitHub;

/// <summary>The answer to a delivery: an HTTP status and a sentence saying what happened (GitHub shows it).</summary>
public sealed record WebhookResult(int StatusCode, string Message);

/// <summary>
/// Handles GitHub webhook deliveries: checks the signature (HMAC SHA-256 of the raw body with the project's webhook
/// secret) while the body is read, before anything parses it, and acts on each delivery id once, then turns push, pull_request, create, delete and ping events into builds,
/// cancellations and branch refreshes. Payloads are matched to projects by their repository ("owner/name").
/// </summary>
public sealed class GithubWebhook(ProjectStore projects, ProjectService projectService, BuildStore builds, BuildService buildService,
    WebhookSecrets secrets, WebhookDeliveries deliveries, BuildFilters filters, ILogger<GithubWebhook> logger)
{
    /// <summary>GitHub caps payloads at 25 MB; anything bigger is not from GitHub.</summary>
    public const int MaxBodyBytes = 25 * 1024 * 1024;

    private static readonly string[] BuiltPullRequestActions = ["opened", "synchronize", "reopened"];

    /// <summary>Handles one delivery: its headers are checked first, then the body is read (at most
    /// <see cref="MaxBodyBytes"/>) while its signature is computed, and only a body a project's secret signed is parsed.
    /// A delivery id a project already acted on is answered without acting again.</summary>
    public async Task<WebhookResult> HandleAsync(string? @event, string? deliveryId, string? signature, long? contentLength, Stream body,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (string.IsNullOrWhiteSpace(@event)) return new(400, "The X-GitHub-Event header is missing: this is not a GitHub webhook delivery.");
        if (string.IsNullOrWhiteSpace(signature) || SignedBodyReader.Parse(signature) is null)
            return new(401, "The delivery is not signed (X-Hub-Signature-256): give the webhook the project's secret in GitHub.");
        if (string.IsNullOrWhiteSpace(deliveryId))
            return new(400, "The X-GitHub-Delivery header is missing: this is not a GitHub webhook delivery.");
        if (contentLength > MaxBodyBytes) return TooLarge;
        var candidates = await SigningProjectsAsync(ct);
        if (candidates.Count == 0)
            return new(401, "No project here has a GitHub repository with a webhook secret: link the project to its repository first.");

        var signed = await SignedBodyReader.ReadAsync(body, signature, candidates, MaxBodyBytes, ct);
        if (signed.TooLarge) return TooLarge;
        // Only a project whose secret signed this body may act on it; the others never learn it arrived.
        if (signed.SignedBy.Count == 0) return new(401, "The signature does not match the webhook secret of any project.");

        JsonElement payload;
        try
        {
            using var document = JsonDocument.Parse(signed.Body, new JsonDocumentOptions { MaxDepth = 128 });
            payload = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return new(400, "The body is not JSON: set the webhook's content type to application/json in GitHub.");
        }
        var repository = Str(payload, "repository", "full_name");
        if (repository is null) return new(400, "The payload names no repository (repository.full_name).");
        var project = signed.SignedBy.FirstOrDefault(p => string.Equals(p.GithubRepository, repository, StringComparison.OrdinalIgnoreCase));
        if (project is null)
            return new(401, $"The signature does not match the webhook secret of any project built from {repository}.");

        var action = Str(payload, "action");
        // Claimed before acting, so two copies arriving together act once; given back when the portal itself failed,
        // so that GitHub's redelivery (the same id) may act.
        if (!await deliveries.ClaimAsync(project.Id, deliveryId, ct))
        {
            var repeat = new WebhookResult(200, $"Delivery {deliveryId} was already handled; nothing was done again.");
            await deliveries.RecordAsync(project.Id, deliveryId, @event, action, repeat.StatusCode, repeat.Message, ct);
            return repeat;
        }
        var result = await ActAsync(project, @event, action, payload, ct);
        if (result.StatusCode >= 500) await deliveries.ReleaseAsync(project.Id, deliveryId, ct);
        logger.LogInformation("GitHub {Event} delivery {Delivery} for {Project}: {Status} {Outcome}", @event, deliveryId, project.Slug,
            result.StatusCode, result.Message);
        await deliveries.RecordAsync(project.Id, deliveryId, @event, action, result.StatusCode, result.Message, ct);
        return result;
    }

    private static readonly WebhookResult TooLarge = new(413, "The body is larger than GitHub ever sends (25 MB).");

    /// <summary>Every project a delivery could be for: linked to a GitHub repository, with a secret that can be read.</summary>
    private async Task<IReadOnlyList<(ProjectRow Key, string Secret)>> SigningProjectsAsync(CancellationToken ct)
    {
        var found = new List<(ProjectRow, string)>();
        foreach (var project in await projects.ListAsync(ct))
        {
            if (project.GithubRepository is null) continue;
            if (await secrets.GetAsync(project.Id, ct) is { } secret) found.Add((project, secret));
        }
        return found;
    }

    private async Task<WebhookResult> ActAsync(ProjectRow project, string @event, string? action, JsonElement payload, CancellationToken ct)
    {
        try
        {
            return @event switch
            {
                "ping" => new(200, "pong: the webhook reaches Kaizen and its secret matches."),
                "push" => await PushAsync(project, payload, ct),
                "pull_request" => await PullRequestAsync(project, payload, action, ct),
                "create" => await CreateAsync(project, payload, ct),
                "delete" => await DeleteAsync(project, payload, ct),
                _ => new(202, $"The {@event} event is not used; Kaizen acts on push, pull_request, create, delete and ping."),
            };
        }
        catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            // A payload missing what its event always has (or with a field of another type).
            return new(400, $"The {@event} payload is missing what Kaizen needs: {ex.Message}");
        }
    }

    public static bool SignatureMatches(string secret, byte[] body, string signature)
    {
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature.Trim().ToLowerInvariant()));
    }

    private async Task<WebhookResult> PushAsync(ProjectRow project, JsonElement payload, CancellationToken ct)
    {
        var gitRef = Required(payload, "ref");
        if (!gitRef.StartsWith("refs/heads/", StringComparison.Ordinal)) return new(202, $"{gitRef} is not a branch; only branch pushes are built.");
        var branch = gitRef["refs/heads/".Length..];
        if (Bool(payload, "deleted")) return await BranchDeletedAsync(project, branch, ct);

        var sha = Required(payload, "after");
        var refreshed = await projectService.RefreshBranchesAsync(project.Id, project.GitUrl, ct);
        if (!refreshed.Ok) return new(502, $"The push to {branch} could not be fetched: {refreshed.Message}");
        var filter = await filters.GetAsync(project.Id, ct);
        if (!filter.Builds(branch))
            return new(202, $"{branch} is not built by itself: the project's build filter builds {filter.Describe()} (Run build builds it by hand).");
        var head = refreshed.Value!.FirstOrDefault(b => b.Name == branch);
        var message = Str(payload, "head_commit", "message") ?? head?.HeadMessage ?? "";
        var author = Str(payload, "head_commit", "author", "name") ?? head?.HeadAuthor ?? "";
        var pusher = Str(payload, "pusher", "name") ?? Str(payload, "sender", "login");
        var started = await buildService.StartCommitAsync(project,
            new CommitBuildRequest(branch, sha, FirstLine(message), author, Trigger.Push, pusher), ct);
        return started.Ok ? new(201, $"Build {started.Value} of {branch} at {Short(sha)} queued.") : new(202, started.Message!);
    }

    private async Task<WebhookResult> PullRequestAsync(ProjectRow project, JsonElement payload, string? action, CancellationToken ct)
    {
        if (action is null || !BuiltPullRequestActions.Contains(action))
            return new(202, $"Pull request '{action}' events are not built; opened, synchronize and reopened are.");
        var number = Required(payload, "number", JsonValueKind.Number).GetInt32();
        var pr = Required(payload, "pull_request", JsonValueKind.Object);
        var sha = Required(pr, "head", "sha");
        var headRef = Required(pr, "head", "ref");
        var baseRepository = Str(pr, "base", "repo", "full_name") ?? Required(payload, "repository", "full_name");
        // A deleted fork leaves head.repo null: it is still someone else's code.
        var headRepository = Str(pr, "head", "repo", "full_name");
        var fromFork = headRepository is null || !string.Equals(headRepository, baseRepository, StringComparison.OrdinalIgnoreCase);
        var owner = headRepository?.Split('/')[0] ?? Str(pr, "head", "user", "login") ?? "unknown";
        var author = Str(pr, "user", "login");
        var started = await buildService.StartCommitAsync(project, new CommitBuildRequest(
            $"pull/{number}", sha, FirstLine(Str(pr, "title") ?? $"Pull request #{number}"), author ?? owner,
            Trigger.PullRequest, Str(payload, "sender", "login"), fromFork, number, fromFork ? $"{owner}/{headRef}" : headRef, author), ct);
        if (!started.Ok) return new(202, started.Message!);
        var held = (await builds.FindAsync(started.Value, ct))?.Status == Status.AwaitingApproval;
        return new(201, $"Build {started.Value} of PR #{number} at {Short(sha)} " +
            (held ? "is waiting for approval by a member" : "queued") + (fromFork ? " (from a fork: no secrets)." : "."));
    }

    private async Task<WebhookResult> CreateAsync(ProjectRow project, JsonElement payload, CancellationToken ct)
    {
        var kind = Required(payload, "ref_type");
        if (kind != "branch") return new(202, $"A new {kind} needs nothing.");
        var refreshed = await projectService.RefreshBranchesAsync(project.Id, project.GitUrl, ct);
        return refreshed.Ok ? new(200, $"Branch {Required(payload, "ref")} added.") : new(502, $"Could not fetch the repository: {refreshed.Message}");
    }

    private async Task<WebhookResult> DeleteAsync(ProjectRow project, JsonElement payload, CancellationToken ct)
    {
        var kind = Required(payload, "ref_type");
        if (kind != "branch") return new(202, $"A deleted {kind} needs nothing.");
        return await BranchDeletedAsync(project, Required(payload, "ref"), ct);
    }

    /// <summary>A deleted branch's queued builds are canceled (running ones finish) and it leaves the branch list.</summary>
    private async Task<WebhookResult> BranchDeletedAsync(ProjectRow project, string branch, CancellationToken ct)
    {
        var canceled = 0;
        foreach (var build in await builds.QueuedOfBranchAsync(project.Id, branch, ct))
        {
            if (await buildService.CancelAsync(build, ct)) canceled++;
        }
        var refreshed = await projectService.RefreshBranchesAsync(project.Id, project.GitUrl, ct);
        var note = refreshed.Ok ? "" : $" (the branch list could not be refreshed: {refreshed.Message})";
        return new(200, $"Branch {branch} deleted; {canceled} queued build(s) canceled{note}.");
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;

    private static bool Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    /// <summary>A string at a path of properties, or null when any step is missing or not of the right kind.</summary>
    private static string? Str(JsonElement e, params string[] path)
    {
        foreach (var name in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out e)) return null;
        }
        return e.ValueKind == JsonValueKind.String ? e.GetString() : null;
    }

    private static string Required(JsonElement e, params string[] path) =>
        Str(e, path) ?? throw new InvalidOperationException($"{string.Join('.', path)} is missing or not a string");

    private static JsonElement Required(JsonElement e, string name, JsonValueKind kind) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == kind
            ? v
            : throw new InvalidOperationException($"{name} is missing or not {kind.ToString().ToLowerInvariant()}");
}
