using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Bunit.TestDoubles;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Git;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Secrets;
using Kaizen.Portal.Tests.Data;
using Kaizen.Runner.Protocol;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;

namespace Kaizen.Portal.Tests.Components.OpenSource;

/// <summary>
/// A bUnit context with MudBlazor and the real services (projects, builds, project options, webhook secrets and
/// deliveries, variables, deploys, audit) over a migrated SQLite file: a public project "open" and a private one
/// "closed", each with a passed build of main. An admin is signed in unless a test signs out (<see cref="SignOut"/>).
/// </summary>
public abstract class OpenSourceHarness : BunitContext, IAsyncLifetime
{
    /// <summary>Generous: a loaded CI machine can take seconds to render.</summary>
    protected static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    private TestDatabase? _db;
    private BunitAuthorizationContext _auth = default!;

    internal TestDatabase Db => _db ?? throw new InvalidOperationException("InitializeAsync has not run.");
    protected AuditLog Audit { get; private set; } = default!;
    protected long PublicId { get; private set; }
    protected long PrivateId { get; private set; }
    protected long PublicBuildId { get; private set; }
    protected long PrivateBuildId { get; private set; }

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("Sqlite");
        JSInterop.Mode = JSRuntimeMode.Loose;
        var protection = new EphemeralDataProtectionProvider();
        var options = Options.Create(new KaizenOptions { DataDirectory = Path.Combine(Path.GetTempPath(), $"kaizen-os-{Guid.NewGuid():N}") });
        Services.AddMudServices();
        Services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        Services.AddSingleton<TimeProvider>(Db.Clock);
        Services.AddSingleton<IOptions<KaizenOptions>>(options);
        Services.AddSingleton<IDataProtectionProvider>(protection);
        Services.AddSingleton(Db.Database);
        Services.AddSingleton(Db.Projects);
        Services.AddSingleton(Db.Builds);
        Services.AddSingleton(Db.Logs);
        Services.AddSingleton(new AuditLog(Db.Database, Db.Clock));
        Services.AddSingleton(new DeployStore(Db.Database, Db.Clock));
        Services.AddSingleton(new VariableStore(Db.Database, protection, Db.Clock));
        Services.AddSingleton<VariableChanges>();
        Services.AddSingleton<LiveUpdates>();
        Services.AddSingleton<WorkSignal>();
        Services.AddSingleton<DeployService>();
        Services.AddSingleton<GitMirror>();
        Services.AddSingleton<ProjectService>();
        Services.AddSingleton<BuildService>();
        Services.AddSingleton<WebhookSecrets>();
        Services.AddSingleton(new WebhookDeliveries(Db.Database, Db.Clock));
        Services.AddSingleton<ProjectOptions>();
        _auth = AddAuthorization();
        SignIn("admin", "admin");
        Audit = Services.GetRequiredService<AuditLog>();

        PublicId = await Db.CreateProjectAsync("open", TestDatabase.OneJob());
        PrivateId = await Db.CreateProjectAsync("closed", TestDatabase.OneJob());
        await Db.Projects.SetPublicAsync(PrivateId, false);
        var runnerId = await Db.RegisterRunnerAsync("runner-1");
        PublicBuildId = await PassedBuildAsync(runnerId, PublicId);
        PrivateBuildId = await PassedBuildAsync(runnerId, PrivateId);
    }

    private async Task<long> PassedBuildAsync(long runnerId, long projectId)
    {
        var id = await Db.CreateBuildAsync(projectId, TestDatabase.OneJob());
        var job = await Db.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds);
        await Db.Runners.CompleteAsync(runnerId, job!.JobId, JobOutcome.Passed, 0, null);
        return id;
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_db is not null) await _db.DisposeAsync();
    }

    /// <summary>Who is signed in for what renders next.</summary>
    protected void SignIn(string name, string role)
    {
        _auth.SetAuthorized(name);
        _auth.SetRoles(role);
    }

    /// <summary>Nobody is signed in for what renders next: a visitor.</summary>
    protected void SignOut()
    {
        // The test double would otherwise still grant the roles of whoever signed in before.
        _auth.SetRoles();
        _auth.SetNotAuthorized();
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

    /// <summary>Component <typeparamref name="T"/> with <paramref name="parameters"/>, inside the providers a layout gives it.</summary>
    protected IRenderedComponent<ContainerFragment> RenderInLayout<T>(params (string Name, object? Value)[] parameters)
        where T : IComponent => Render(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<MudDialogProvider>(1);
            b.CloseComponent();
            b.OpenComponent<MudSnackbarProvider>(2);
            b.CloseComponent();
            b.OpenComponent<T>(3);
            foreach (var (name, value) in parameters) b.AddAttribute(4, name, value);
            b.CloseComponent();
        });

    // Live components re-render whenever a notification arrives: finding an element and firing its event happen in
    // one turn of the renderer, so the handler found is the one that runs.

    /// <summary>Clicks what <paramref name="find"/> finds; the returned task ends when the click's handler does.</summary>
    protected static Task ClickAsync(IRenderedComponent<ContainerFragment> cut, Func<IElement> find)
    {
        Task? handled = null;
        var dispatched = cut.InvokeAsync(() => { handled = find().ClickAsync(new MouseEventArgs()); });
        return dispatched.ContinueWith(_ => handled!, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Fires the change event of what <paramref name="find"/> finds (a switch or check box) with <paramref name="value"/>.</summary>
    protected static Task ChangeAsync(IRenderedComponent<ContainerFragment> cut, Func<IElement> find, object value)
    {
        Task? handled = null;
        var dispatched = cut.InvokeAsync(() => { handled = find().ChangeAsync(new ChangeEventArgs { Value = value }); });
        return dispatched.ContinueWith(_ => handled!, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Types <paramref name="value"/> into what <paramref name="find"/> finds.</summary>
    protected static Task TypeAsync(IRenderedComponent<ContainerFragment> cut, Func<IElement> find, string value) =>
        cut.InvokeAsync(() => find().InputAsync(new ChangeEventArgs { Value = value }));

    /// <summary>The buttons whose accessible name (aria-label, else its text) is <paramref name="name"/>.</summary>
    protected static List<IElement> Buttons(IRenderedComponent<ContainerFragment> cut, string name) =>
        cut.FindAll("button, a[href]").Where(b => (b.GetAttribute("aria-label") ?? b.TextContent.Trim()) == name).ToList();

    protected static IElement Button(IRenderedComponent<ContainerFragment> cut, string name)
    {
        var matches = Buttons(cut, name);
        return matches.Count == 1 ? matches[0]
            : throw new InvalidOperationException($"Expected one button named '{name}', found {matches.Count}.");
    }

    /// <summary>The audit entries about project <paramref name="slug"/>, oldest first, as "action: details".</summary>
    protected async Task<List<string>> AuditOfAsync(string slug) =>
        (await Audit.NewestAsync(100)).Where(e => e.Target == VariableChanges.ProjectTarget(slug)).Reverse()
            .Select(e => $"{e.Action}: {e.Details}").ToList();
}
