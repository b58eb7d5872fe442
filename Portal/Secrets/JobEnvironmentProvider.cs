using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Secrets;

/// <summary>
/// What a job receives of the variables and secrets: the organization's, then its project's (then, for deploys
/// a deploy's, its server's); a narrower scope's value replaces a wider one of the same name, whatever its kind.
/// Plain variables go into the environment; secrets are decrypted into <see cref="JobSecret"/>s for the runner,
/// which masks them. A build's job never gets a server's values, and a fork's pull request gets no secrets at all.
/// </summary>
public sealed class JobEnvironmentProvider(VariableStore store)
{
    /// <exception cref="SecretUnreadableException">A secret cannot be decrypted (its keys are gone); the job must not run.</exception>
    public Task<(IReadOnlyDictionary<string, string> Environment, IReadOnlyList<JobSecret> Secrets)> ForBuildJobAsync(
        long projectId, CancellationToken ct) =>
        ForScopesAsync([VariableScope.Org, VariableScope.Project(projectId)], ct);

    /// <summary>What the job of <paramref name="origin"/> receives.</summary>
    /// <exception cref="SecretUnreadableException">A secret cannot be decrypted (its keys are gone); the job must not run.</exception>
    public async Task<(IReadOnlyDictionary<string, string> Environment, IReadOnlyList<JobSecret> Secrets)> ForJobAsync(
        Runners.JobOrigin origin, CancellationToken ct)
    {
        var scopes = new List<VariableScope> { VariableScope.Org, VariableScope.Project(origin.ProjectId) };
        if (origin.ServerId is { } serverId) scopes.Add(VariableScope.Server(serverId));
        // A fork's code could print or send anything it is given: it gets plain variables, and no secret (none is
        // even decrypted for it) but those the project explicitly allows for forks.
        if (!origin.FromFork) return await ForScopesAsync(scopes, ct);
        var allowed = origin.ForkSecrets.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return await ForScopesAsync(scopes, ct, allowed.Contains);
    }

    private async Task<(IReadOnlyDictionary<string, string> Environment, IReadOnlyList<JobSecret> Secrets)> ForScopesAsync(
        IReadOnlyList<VariableScope> widestFirst, CancellationToken ct, Func<string, bool>? maySee = null)
    {
        // Names compare without case, as the database does, so one name never reaches a job twice.
        var merged = new Dictionary<string, JobValue>(StringComparer.OrdinalIgnoreCase);
        foreach (var (_, values) in await store.ValuesForJobAsync(widestFirst, ct, maySee))
        {
            foreach (var value in values) merged[value.Name] = value;
        }

        var environment = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var secrets = new List<JobSecret>();
        foreach (var value in merged.Values.OrderBy(v => v.Name, StringComparer.Ordinal))
        {
            // Without secrets, a secret still hides a wider variable of its name: its scope meant to replace that value.
            if (value.IsSecret) { if (maySee?.Invoke(value.Name) ?? true) secrets.Add(new JobSecret(value.Name, value.Value, value.FilePath)); }
            else environment[value.Name] = value.Value;
        }
        return (environment, secrets);
    }
}
