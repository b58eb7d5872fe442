using System.Security.Claims;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Import.Semaphore;

/// <summary>What applying an import did: the settings as saved (or why not), the servers created and those skipped.</summary>
public sealed record SemaphoreApplied(SettingsChange Settings, IReadOnlyList<string> Created, IReadOnlyList<string> Skipped);

/// <summary>Applies an import: the settings through <see cref="BuildSettingsChanges"/> (checked and audited like every
/// change), then one server per promotion through <see cref="DeployService"/> (a taken name is skipped, saying so).
/// The API and the Settings tab's dialog both come here.</summary>
public static class SemaphoreApply
{
    /// <summary>The audit log's "via …" for an import.</summary>
    public const string Source = "a Semaphore import";

    public static async Task<SemaphoreApplied> ApplyAsync(ProjectRow project, SemaphoreImportResult result, ClaimsPrincipal user,
        BuildSettingsChanges changes, DeployService deploys, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!result.Ok) return new SemaphoreApplied(new SettingsChange(null, [.. result.Errors.Select(e => e.ToString())]), [], []);
        if (result.Problems.Count > 0) return new SemaphoreApplied(new SettingsChange(null, result.Problems), [], []);
        var saved = await changes.SaveAsync(project, result.Settings!, user, Source, ct);
        if (!saved.Ok) return new SemaphoreApplied(saved, [], []);
        List<string> created = [], skipped = [];
        foreach (var server in result.Servers)
        {
            var made = await deploys.CreateServerAsync(project, server.ToSpec(), Actor.From(user), ct);
            if (made.Ok) created.Add(server.Name);
            else skipped.Add($"{server.Name}: {made.Message}");
        }
        return new SemaphoreApplied(saved, created, skipped);
    }
}
