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
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using MudBlazor.Services;

namespace Kaizen.Portal.Tests.Components.Delivery;

/// <summary>
/// A bUnit context with MudBlazor and the real delivery services (store, rules, audit, live updates) over a migrated
/// SQLite file, a project "shop" with a passed build of main, and a signed-in person chosen per test with
/// <see cref="SignIn"/>. Pages render inside the popover, dialog and snackbar providers a layout gives them.
/// </summary>
public abstract class DeliveryHarness : BunitContext, IAsyncLifetime
{
    /// <summary>Generous: a loaded CI machine can take seconds to render.</summary>
    protected static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    private TestDatabase? _db;
    private BunitAuthorizationContext _auth = default!;

    internal TestDatabase Db => _db ?? throw new InvalidOperationException("InitializeAsync has not run.");
    protected DeployStore Store { get; private set; } = default!;
    protected DeployService Service { get; private set; } = default!;
    protected long ProjectId { get; private set; }
    protected long PassedBuildId { get; private set; }

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("Sqlite");
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        Services.AddSingleton<TimeProvider>(Db.Clock);
        Services.AddSingleton(Db.Database);
        Services.AddSingleton(Db.Projects);
        Services.AddSingleton(Db.Builds);
        Services.AddSingleton(Db.Logs);
        Services.AddSingleton(new AuditLog(Db.Database, Db.Clock));
        Services.AddSingleton(new DeployStore(Db.Database, Db.Clock));
        Services.AddSingleton(new VariableStore(Db.Database, new EphemeralDataProtectionProvider(), Db.Clock));
        Services.AddSingleton<VariableChanges>();
        Services.AddSingleton<LiveUpdates>();
        Services.AddSingleton<WorkSignal>();
        Services.AddSingleton<DeployService>();
        _auth = AddAuthorization();
        SignIn("admin", "admin");
        Store = Services.GetRequiredService<DeployStore>();
        Service = Services.GetRequiredService<DeployService>();

        ProjectId = await Db.CreateProjectAsync("shop", TestDatabase.OneJob());
        PassedBuildId = await Db.CreateBuildAsync(ProjectId, TestDatabase.OneJob());
        var runnerId = await Db.RegisterRunnerAsync("runner-1");
        var job = await Db.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds);
        await Db.Runners.CompleteAsync(runnerId, job!.JobId, JobOutcome.Passed, 0, null);
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

    protected async Task<ServerRow> AddServerAsync(string name, int approvals = 0, string deployers = Deployers.Members, string branch = "")
    {
        var created = await Service.CreateServerAsync((await Db.Projects.FindBySlugAsync("shop"))!,
            new ServerSpec(name, ["./deploy.sh " + name], TriggerMode.Manual, branch, approvals, deployers), new Actor("admin", "admin"));
        Assert.True(created.Ok, created.Message);
        return created.Value!;
    }

    protected async Task<DeployRow> RequestAsync(string server, string by, string role = "member")
    {
        var requested = await Service.RequestAsync(PassedBuildId, server, new Actor(by, role));
        Assert.True(requested.Ok, requested.Message);
        return requested.Value!;
    }

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

    // Live pages re-render whenever a notification arrives: finding an element and firing its event happen in one turn
    // of the renderer, so the handler found is the one that runs.

    /// <summary>Clicks what <paramref name="find"/> finds; the returned task ends when the click's handler does.</summary>
    protected static Task ClickAsync(IRenderedComponent<ContainerFragment> cut, Func<IElement> find)
    {
        Task? handled = null;
        var dispatched = cut.InvokeAsync(() => { handled = find().ClickAsync(new MouseEventArgs()); });
        return dispatched.ContinueWith(_ => handled!, TaskScheduler.Default).Unwrap();
    }

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

    /// <summary>The text field labelled <paramref name="label"/> inside <paramref name="scope"/>.</summary>
    protected static IElement Field(IElement scope, string label)
    {
        var labels = scope.QuerySelectorAll("label").Where(l => l.TextContent.Trim() == label).ToList();
        if (labels.Count != 1)
            throw new InvalidOperationException($"Expected one field labelled '{label}', found {labels.Count}.");
        var id = labels[0].GetAttribute("for");
        return scope.QuerySelectorAll("input, textarea").Single(i => i.Id == id);
    }

    /// <summary>The buttons whose accessible name (aria-label, else its text) is <paramref name="name"/>.</summary>
    protected static List<IElement> Buttons(IRenderedComponent<ContainerFragment> cut, string name) =>
        cut.FindAll("button, a[href]").Where(b => (b.GetAttribute("aria-label") ?? b.TextContent.Trim()) == name).ToList();

    protected static IElement Button(IRenderedComponent<ContainerFragment> cut, string name)
    {
        var matches = Buttons(cut, name);
        return matches.Count == 1 ? matches[0]
            : throw new InvalidOperationException($"Expected one button named '{name}', found {matches.Count}.");
    }
}
