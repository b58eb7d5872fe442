using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Bunit.TestDoubles;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Secrets;
using Kaizen.Portal.Tests.Data;
using Kaizen.Runner.Protocol;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using MudBlazor.Services;

namespace Kaizen.Portal.Tests.Components;

/// <summary>
/// The base of the portal's bUnit harnesses: MudBlazor services and permissive JS interop (scrolling and focus calls
/// do nothing here), by default a migrated SQLite <see cref="Db"/> and the authorization test double, and the lookups
/// and event helpers the component tests share. Lookups go by what a person sees: labels, accessible names, button
/// text. Disposed asynchronously because some MudBlazor services only implement <see cref="IAsyncDisposable"/>.
/// </summary>
/// <remarks>
/// A harness registers its own services in <see cref="SetUpAsync"/>, which runs once the database and authorization
/// exist and before any test renders.
/// </remarks>
public abstract class PortalComponentContext : BunitContext, IAsyncLifetime
{
    /// <summary>Generous: a loaded CI machine can take seconds to render.</summary>
    protected static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    private readonly bool _withDatabase;
    private TestDatabase? _db;
    private BunitAuthorizationContext? _auth;

    /// <param name="withDatabase">False for components that need neither a database nor a signed-in person.</param>
    protected PortalComponentContext(bool withDatabase = true)
    {
        _withDatabase = withDatabase;
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    internal TestDatabase Db => _db ?? throw new InvalidOperationException("InitializeAsync has not run.");

    /// <summary>The authorization test double: who is signed in, with which roles, claims and policies.</summary>
    protected BunitAuthorizationContext Auth => _auth ?? throw new InvalidOperationException("InitializeAsync has not run.");

    public async Task InitializeAsync()
    {
        if (!_withDatabase) return;
        _db = await TestDatabase.CreateAsync("Sqlite");
        _auth = AddAuthorization();
        await SetUpAsync();
    }

    /// <summary>Registers the harness's services and creates its data; <see cref="Db"/> and <see cref="Auth"/> exist.</summary>
    protected virtual Task SetUpAsync() => Task.CompletedTask;

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_db is not null) await _db.DisposeAsync();
    }

    /// <summary>
    /// The real services behind builds, variables and deploys over <see cref="Db"/>: clock, null loggers, database,
    /// project, build and log stores, audit log, the script library, deploy and variable stores (variables sealed with
    /// <paramref name="protection"/>), live updates, the work signal, the deploy service, test results and artifacts.
    /// </summary>
    protected void AddBuildAndDeployServices(IDataProtectionProvider protection)
    {
        Services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        Services.AddSingleton<TimeProvider>(Db.Clock);
        Services.AddSingleton(Db.Database);
        Services.AddSingleton(Db.Projects);
        Services.AddSingleton(Db.Builds);
        Services.AddSingleton(Db.Logs);
        Services.AddSingleton(new Kaizen.Portal.Logs.LogViews(Db.Logs, Microsoft.Extensions.Options.Options.Create(new KaizenOptions())));
        Services.AddSingleton(new AuditLog(Db.Database, Db.Clock));
        Services.AddSingleton(new DeployStore(Db.Database, Db.Clock));
        Services.AddSingleton(new VariableStore(Db.Database, protection, Db.Clock));
        Services.AddSingleton<VariableChanges>();
        Services.AddSingleton<LiveUpdates>();
        Services.AddSingleton<WorkSignal>();
        var scripts = new Kaizen.Portal.Scripts.ScriptStore(Db.Database, Db.Clock);
        Services.AddSingleton(scripts);
        Services.AddSingleton<Kaizen.Portal.Scripts.ScriptLibrary>();
        Services.AddSingleton<Kaizen.Portal.Builds.BuildSettingsChanges>();
        if (!Services.Any(d => d.ServiceType == typeof(Kaizen.Portal.Builds.SettingsSourceStore))) Services.AddSingleton<Kaizen.Portal.Builds.SettingsSourceStore>();
        Services.AddSingleton<Kaizen.Portal.Scripts.ScriptPlanner>();
        Services.AddSingleton<DeployService>();
        Services.AddSingleton(new Kaizen.Portal.TestReports.TestReportStore(Db.Database, Db.Clock));
        Services.AddSingleton<Kaizen.Portal.TestReports.TestResultService>();
        // Artifacts: nothing is written in component tests, so the default (relative) folder is never created.
        var artifactOptions = Microsoft.Extensions.Options.Options.Create(new KaizenOptions());
        var artifacts = new Kaizen.Portal.Artifacts.ArtifactStore(Db.Database);
        Services.AddSingleton(artifacts);
        Services.AddSingleton(new Kaizen.Portal.Artifacts.ArtifactService(artifacts, new Kaizen.Portal.Storage.DiskBlobStorage(artifactOptions.Value.Artifacts.ResolveDirectory(artifactOptions.Value)),
            artifactOptions, Db.Clock, NullLogger<Kaizen.Portal.Artifacts.ArtifactService>.Instance));
        // Caches: the project page's Caches tab reads them; nothing is stored in component tests.
        var caches = new Kaizen.Portal.Caches.CacheStore(Db.Database);
        Services.AddSingleton(caches);
        Services.AddSingleton(new Kaizen.Portal.Caches.CacheService(caches,
            new Kaizen.Portal.Storage.DiskBlobStorage(artifactOptions.Value.Caches.ResolveDirectory(artifactOptions.Value)),
            artifactOptions, new AuditLog(Db.Database, Db.Clock), Db.Clock, NullLogger<Kaizen.Portal.Caches.CacheService>.Instance));
        // Debug sessions: the job page offers them; a harness's own options (registered first) win.
        Services.TryAddSingleton<Microsoft.Extensions.Options.IOptions<KaizenOptions>>(artifactOptions);
        Services.AddSingleton(new Kaizen.Portal.Debug.DebugSessionStore(Db.Database));
        Services.AddSingleton<Kaizen.Portal.Debug.TerminalHub>();
        Services.AddSingleton<Kaizen.Portal.Debug.DebugSessionService>();
        // Server pages show the runner labels of their deploys.
        if (!Services.Any(d => d.ServiceType == typeof(Kaizen.Portal.Runners.RunnerStore))) Services.AddSingleton(Db.Runners);
        Services.AddSingleton(new Kaizen.Portal.Runners.RunnerLabelSettings(Db.Database));
        Services.AddSingleton<Kaizen.Portal.Runners.RunnerAdmin>();
    }

    /// <summary>A build of <paramref name="projectId"/>'s main with one job, which runner <paramref name="runnerId"/> ran and passed.</summary>
    protected async Task<long> PassedBuildAsync(long runnerId, long projectId)
    {
        var id = await Db.CreateBuildAsync(projectId, TestDatabase.OneJob());
        var job = await Db.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds);
        await Db.Runners.CompleteAsync(runnerId, job!.JobId, job.LeaseToken, JobOutcome.Passed, 0, null);
        return id;
    }

    /// <summary>Who is signed in for what renders next.</summary>
    protected void SignIn(string name, string role)
    {
        Auth.SetAuthorized(name);
        Auth.SetRoles(role);
    }

    /// <summary>Nobody is signed in for what renders next: a visitor.</summary>
    protected void SignOut()
    {
        // The test double would otherwise still grant the roles of whoever signed in before.
        Auth.SetRoles();
        Auth.SetNotAuthorized();
    }

    /// <summary>Component <typeparamref name="T"/> with <paramref name="parameters"/>, inside the popover, dialog and
    /// snackbar providers a layout gives it; dialogs and snackbars render into the same markup.</summary>
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

    /// <summary>Fires only the input event of what <paramref name="find"/> finds with <paramref name="value"/>.</summary>
    protected static Task InputAsync(IRenderedComponent<ContainerFragment> cut, Func<IElement> find, string value) =>
        cut.InvokeAsync(() => find().InputAsync(new ChangeEventArgs { Value = value }));

    /// <summary>Types <paramref name="value"/> into what <paramref name="find"/> finds: the input event of fields that
    /// take every key, then the change event of those that take the value when the field is left.</summary>
    protected static async Task TypeAsync(IRenderedComponent<ContainerFragment> cut, Func<IElement> find, string value)
    {
        foreach (var eventName in new[] { "oninput", "onchange" })
        {
            await cut.InvokeAsync(async () =>
            {
                try
                {
                    await find().TriggerEventAsync(eventName, new ChangeEventArgs { Value = value });
                }
                catch (MissingEventHandlerException)
                {
                    // This field only listens to the other event.
                }
            });
        }
    }

    /// <summary>Types <paramref name="value"/> into the field labelled <paramref name="label"/>, as <see cref="TypeAsync(IRenderedComponent{ContainerFragment}, Func{IElement}, string)"/> does.</summary>
    protected static Task TypeAsync(IRenderedComponent<ContainerFragment> cut, string label, string value) =>
        TypeAsync(cut, () => Field(cut, label), value);

    /// <summary>The text field labelled <paramref name="label"/> inside <paramref name="scope"/>.</summary>
    protected static IElement Field(IElement scope, string label) =>
        Field(scope.QuerySelectorAll("label"), scope.QuerySelectorAll("input, textarea"), label);

    /// <summary>The text field labelled <paramref name="label"/> anywhere in <paramref name="cut"/>.</summary>
    protected static IElement Field(IRenderedComponent<ContainerFragment> cut, string label) =>
        Field(cut.FindAll("label"), cut.FindAll("input, textarea"), label);

    private static IElement Field(IEnumerable<IElement> labels, IEnumerable<IElement> fields, string label)
    {
        var matches = labels.Where(l => l.TextContent.Trim() == label).ToList();
        if (matches.Count != 1)
            throw new InvalidOperationException($"Expected one field labelled '{label}', found {matches.Count}.");
        var id = matches[0].GetAttribute("for");
        return fields.Single(i => i.Id == id);
    }

    /// <summary>The buttons and links whose accessible name (aria-label, else its text) is <paramref name="name"/>.</summary>
    protected static List<IElement> Buttons(IRenderedComponent<ContainerFragment> cut, string name) =>
        Named(cut.FindAll("button, a[href]"), name);

    /// <summary>The one button or link in <paramref name="cut"/> whose accessible name is <paramref name="name"/>.</summary>
    protected static IElement Button(IRenderedComponent<ContainerFragment> cut, string name) =>
        Single(Buttons(cut, name), name);

    /// <summary>The one button or link inside <paramref name="scope"/> whose accessible name is <paramref name="name"/>.</summary>
    protected static IElement Button(IElement scope, string name) =>
        Single(Named(scope.QuerySelectorAll("button, a[href]"), name), name);

    private static List<IElement> Named(IEnumerable<IElement> candidates, string name) =>
        candidates.Where(b => (b.GetAttribute("aria-label") ?? b.TextContent.Trim()) == name).ToList();

    private static IElement Single(List<IElement> matches, string name) =>
        matches.Count == 1 ? matches[0]
            : throw new InvalidOperationException($"Expected one button named '{name}', found {matches.Count}.");
}
