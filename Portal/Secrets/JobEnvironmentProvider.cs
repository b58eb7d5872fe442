using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Secrets;

/// <summary>
/// What a job receives of the variables and secrets: the organization's, then its project's (then, for deploys
/// later, its server's); a narrower scope's value replaces a wider one of the same name, whatever its kind.
/// Plain variables go into the environment; secrets are decrypted into <see cref="JobSecret"/>s for the runner,
/// which masks them. Whether a job may have secrets at all (a fork's pull request may not) is the caller's decision.
/// </summary>
public sealed class JobEnvironmentProvider(VariableStore store)
{
    /// <exception cref="SecretUnreadableException">A secret cannot be decrypted (its keys are gone); the job must not run.</exception>
    public Task<(IReadOnlyDictionary<string, string> Environment, IReadOnlyList<JobSecret> Secrets)> ForBuildJobAsync(
        long projectId, CancellationToken ct) =>
        ForScopesAsync([VariableScope.Org, VariableScope.Project(projectId)], ct);

    private async Task<(IReadOnlyDictionary<string, string> Environment, IReadOnlyList<JobSecret> Secrets)> ForScopesAsync(
        IReadOnlyList<VariableScope> widestFirst, CancellationToken ct)
    {
        // Names compare without case, as the database does, so one name never reaches a job twice.
        var merged = new Dictionary<string, JobValue>(StringComparer.OrdinalIgnoreCase);
        foreach (var (_, values) in await store.ValuesForJobAsync(widestFirst, ct))
        {
            foreach (var value in values) merged[value.Name] = value;
        }

        var environment = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var secrets = new List<JobSecret>();
        foreach (var value in merged.Values.OrderBy(v => v.Name, StringComparer.Ordinal))
        {
            if (value.IsSecret) secrets.Add(new JobSecret(value.Name, value.Value, value.FilePath));
            else environment[value.Name] = value.Value;
        }
        return (environment, secrets);
    }
}
