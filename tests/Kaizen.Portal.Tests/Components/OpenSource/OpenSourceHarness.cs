using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Git;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Secrets;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Components.OpenSource;

/// <summary>
/// A bUnit context with MudBlazor and the real services (projects, builds, project options, webhook secrets and
/// deliveries, variables, deploys, audit) over a migrated SQLite file: a public project "open" and a private one
/// "closed", each with a passed build of main. An admin is signed in unless a test signs out
/// (<see cref="PortalComponentContext.SignOut"/>).
/// </summary>
public abstract class OpenSourceHarness : PortalComponentContext
{
    protected AuditLog Audit { get; private set; } = default!;
    protected long PublicId { get; private set; }
    protected long PrivateId { get; private set; }
    protected long PublicBuildId { get; private set; }
    protected long PrivateBuildId { get; private set; }

    protected override async Task SetUpAsync()
    {
        var protection = new EphemeralDataProtectionProvider();
        var options = Options.Create(new KaizenOptions { DataDirectory = Path.Combine(Path.GetTempPath(), $"kaizen-os-{Guid.NewGuid():N}") });
        Services.AddSingleton<IOptions<KaizenOptions>>(options);
        Services.AddSingleton<IDataProtectionProvider>(protection);
        AddBuildAndDeployServices(protection);
        Services.AddSingleton<GitMirror>();
        Services.AddSingleton<ProjectService>();
        Services.AddSingleton<Kaizen.Portal.Git.GitUrlPolicy>();
        Services.AddSingleton<BuildService>().AddSingleton<BuildRefResolver>();
        Services.AddSingleton<BuildFactsReader>();
        Services.AddSingleton<SettingsSourceStore>().AddSingleton<RepositorySettings>().AddSingleton<SettingsSourceChanges>();
        Services.AddSingleton<WebhookSecrets>();
        Services.AddSingleton(new WebhookDeliveries(Db.Database, Db.Clock));
        Services.AddSingleton<ProjectOptions>();
        SignIn("admin", "admin");
        Audit = Services.GetRequiredService<AuditLog>();

        PublicId = await Db.CreateProjectAsync("open", TestDatabase.OneJob());
        PrivateId = await Db.CreateProjectAsync("closed", TestDatabase.OneJob());
        await Db.Projects.SetPublicAsync(PrivateId, false);
        var runnerId = await Db.RegisterRunnerAsync("runner-1");
        PublicBuildId = await PassedBuildAsync(runnerId, PublicId);
        PrivateBuildId = await PassedBuildAsync(runnerId, PrivateId);
    }

    /// <summary>A build of pull request <paramref name="number"/> of <paramref name="projectId"/>, from a fork or not.</summary>
    protected Task<long> PullRequestBuildAsync(long projectId, int number, string source, bool fromFork)
    {
        var sha = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";
        var plan = BuildStore.Plan(projectId, TestDatabase.OneJob(), $"pull/{number}", sha, "Fix a typo", "outsider", Trigger.PullRequest, null)
            with { FromFork = fromFork, PullRequest = number, PullRequestSource = source };
        return Db.Builds.CreateAsync(plan);
    }

    protected async Task<ProjectRow> ProjectAsync(string slug) => (await Db.Projects.FindBySlugAsync(slug))!;

    /// <summary>The audit entries about project <paramref name="slug"/>, oldest first, as "action: details".</summary>
    protected async Task<List<string>> AuditOfAsync(string slug) =>
        (await Audit.NewestAsync(100)).Where(e => e.Target == VariableChanges.ProjectTarget(slug)).Reverse()
            .Select(e => $"{e.Action}: {e.Details}").ToList();
}
