using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Runners;

/// <summary>
/// Which runners may take which jobs. A job needs every label of its project, of its build's fork pool when it builds a
/// fork's pull request, of its server when it is a deploy, and <see cref="Protected"/> when that server is guarded
/// (approvals or admins only). Jobs of public projects and of fork pull requests need a runner with a sandbox: job code
/// on a runner without one can read the runner's token. Jobs with an image need the Docker executor.
/// </summary>
public static class RunnerPools
{
    /// <summary>The label of runners trusted with deploys to guarded servers.</summary>
    public const string Protected = "protected";

    /// <summary>At most this many labels per setting, each 1-50 letters, digits, '-', '_', '.' or ':'.</summary>
    public const int MaxLabels = 20;

    /// <summary>A stored comma-separated list as distinct labels (trimmed, compared without case).</summary>
    public static IReadOnlyList<string> Parse(string? stored) =>
        (stored ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    public static string Format(IEnumerable<string> labels) => string.Join(',', labels);

    /// <summary>The labels as they are stored, or why they cannot be.</summary>
    public static (string? Stored, string? Error) Normalize(IReadOnlyList<string>? labels)
    {
        var clean = (labels ?? []).Select(l => l?.Trim() ?? "").Where(l => l.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (clean.Count > MaxLabels) return (null, $"At most {MaxLabels} labels.");
        var bad = clean.FirstOrDefault(l => l.Length > 50 || !l.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'));
        if (bad is not null) return (null, $"'{bad}' is not a label: use 1 to 50 letters, digits, '-', '_', '.' or ':'.");
        return (Format(clean), null);
    }

    /// <summary>What a job needs of a runner.</summary>
    public static JobNeeds NeedsOf(JobPoolRow job)
    {
        var labels = new List<string>(Parse(job.ProjectLabels));
        if (job.FromFork) labels.AddRange(Parse(job.ForkLabels));
        if (job.DeployId is not null)
        {
            labels.AddRange(Parse(job.ServerLabels));
            if (job.ServerApprovals > 0 || job.ServerDeployers == Delivery.Deployers.Admins) labels.Add(Protected);
        }
        return new JobNeeds(labels.Distinct(StringComparer.OrdinalIgnoreCase).ToList(), job.IsPublic || job.FromFork, job.Image is not null, job.Image);
    }

    /// <summary>Whether the runner has everything the job needs.</summary>
    public static bool Fits(JobNeeds needs, RunnerOffer offer) =>
        (!needs.Sandbox || offer.Sandbox == RunnerSandbox.Bubblewrap)
        && (!needs.Docker || offer.Docker)
        && needs.Labels.All(l => offer.Labels.Contains(l, StringComparer.OrdinalIgnoreCase));

    /// <summary>Why a queued job waits, in words for its page: "waiting for a runner labelled protected, eu".</summary>
    public static string Describe(JobNeeds needs)
    {
        var parts = new List<string>();
        if (needs.Labels.Count > 0) parts.Add($"labelled {string.Join(", ", needs.Labels)}");
        if (needs.Sandbox) parts.Add("with a sandbox");
        if (needs.Docker) parts.Add(needs.Image is { } image ? $"with docker (image {image})" : "with docker");
        return parts.Count == 0 ? "waiting for a free runner" : $"waiting for a runner {string.Join(" and ", parts)}";
    }
}

/// <summary>See <see cref="RunnerPools.NeedsOf"/>.</summary>
public sealed record JobNeeds(IReadOnlyList<string> Labels, bool Sandbox, bool Docker, string? Image = null);

/// <summary>What a runner offers: its registered labels, its sandbox and whether it runs Docker now.</summary>
public sealed record RunnerOffer(IReadOnlyList<string> Labels, string Sandbox, bool Docker);

/// <summary>A job with what decides where it may run.</summary>
public sealed class JobPoolRow
{
    public long Id { get; init; }
    public string? Image { get; init; }
    public bool IsPublic { get; init; }
    public bool FromFork { get; init; }
    public string ProjectLabels { get; init; } = "";
    public string ForkLabels { get; init; } = "";
    public long? DeployId { get; init; }
    public string? ServerLabels { get; init; }
    public int? ServerApprovals { get; init; }
    public string? ServerDeployers { get; init; }
}
