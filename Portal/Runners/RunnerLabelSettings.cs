using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Runners;

/// <summary>A project's runner labels: every job of it needs <see cref="Required"/>; builds of fork pull requests need
/// <see cref="ForkPullRequests"/> as well.</summary>
public sealed record ProjectRunnerLabels(IReadOnlyList<string> Required, IReadOnlyList<string> ForkPullRequests);

/// <summary>A server's runner labels: its deploys need <see cref="Required"/> (and <c>protected</c> when it is guarded).</summary>
public sealed record ServerRunnerLabels(IReadOnlyList<string> Required, bool Guarded);

/// <summary>Where the runner labels of projects and servers are kept; only admins change them (see <see cref="RunnerAdmin"/>).</summary>
public sealed class RunnerLabelSettings(Database db)
{
    public async Task<ProjectRunnerLabels> OfProjectAsync(long projectId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<(string Required, string Fork)>(RunnerLabelSql.OfProject, new { Id = projectId });
        return new ProjectRunnerLabels(RunnerPools.Parse(row.Required), RunnerPools.Parse(row.Fork));
    }

    public async Task<ServerRunnerLabels> OfServerAsync(long serverId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<(string Required, int Approvals, string Deployers)>(RunnerLabelSql.OfServer, new { Id = serverId });
        return new ServerRunnerLabels(RunnerPools.Parse(row.Required), row.Approvals > 0 || row.Deployers == Delivery.Deployers.Admins);
    }

    internal async Task SetProjectAsync(long projectId, string required, string fork, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(RunnerLabelSql.SetProject, new { Id = projectId, Required = required, Fork = fork });
    }

    internal async Task SetServerAsync(long serverId, string required, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(RunnerLabelSql.SetServer, new { Id = serverId, Required = required });
    }
}

internal static class RunnerLabelSql
{
    public const string OfProject = "SELECT runner_labels AS Required, fork_runner_labels AS Fork FROM projects WHERE id = @Id";
    public const string OfServer = "SELECT runner_labels AS Required, approvals, deployers FROM servers WHERE id = @Id";
    public const string SetProject = "UPDATE projects SET runner_labels = @Required, fork_runner_labels = @Fork WHERE id = @Id";
    public const string SetServer = "UPDATE servers SET runner_labels = @Required WHERE id = @Id";
}
