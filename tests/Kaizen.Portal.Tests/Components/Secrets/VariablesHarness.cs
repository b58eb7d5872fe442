using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Components.Secrets;
using Kaizen.Portal.Secrets;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace Kaizen.Portal.Tests.Components.Secrets;

/// <summary>
/// A bUnit context with MudBlazor, a user signed in with <see cref="Role"/> and the real variable store, changes
/// service and audit log over a migrated SQLite file, for rendering the variables editor inside the providers a
/// layout gives it. Lookups go by what a person sees: labels, accessible names, button text.
/// </summary>
public abstract class VariablesHarness : BunitContext, IAsyncLifetime
{
    /// <summary>Generous: a loaded CI machine can take seconds to render.</summary>
    protected static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    private TestDatabase? _db;

    internal TestDatabase Db => _db ?? throw new InvalidOperationException("InitializeAsync has not run.");
    protected VariableStore Store { get; private set; } = default!;
    protected AuditLog Audit { get; private set; } = default!;

    /// <summary>The signed-in user's role: admin, member or viewer.</summary>
    protected abstract string Role { get; }

    protected string UserName => "alice-" + Role;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("Sqlite");
        Store = new VariableStore(Db.Database, new EphemeralDataProtectionProvider(), Db.Clock);
        Audit = new AuditLog(Db.Database, Db.Clock);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(Store);
        Services.AddSingleton(Audit);
        Services.AddSingleton(Db.Projects);
        Services.AddSingleton(new Kaizen.Portal.Delivery.DeployStore(Db.Database, Db.Clock));
        Services.AddSingleton<VariableChanges>();
        var auth = AddAuthorization();
        auth.SetAuthorized(UserName);
        auth.SetRoles(Role);
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_db is not null) await _db.DisposeAsync();
    }

    /// <summary>The editor inside the popover, dialog and snackbar providers; dialogs render into the same markup.</summary>
    protected IRenderedComponent<ContainerFragment> RenderEditor(VariableScope scope)
    {
        var cut = Render(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<MudDialogProvider>(1);
            b.CloseComponent();
            b.OpenComponent<MudSnackbarProvider>(2);
            b.CloseComponent();
            b.OpenComponent<VariablesEditor>(3);
            b.AddAttribute(4, nameof(VariablesEditor.Scope), scope);
            b.CloseComponent();
        });
        cut.WaitForAssertion(() => Assert.Contains("Variables", cut.Markup), WaitTimeout);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[aria-label='Loading variables']")), WaitTimeout);
        return cut;
    }

    /// <summary>The element with role=group and this accessible name, or null.</summary>
    protected static IElement? Group(IRenderedComponent<ContainerFragment> cut, string name) =>
        cut.FindAll("[role=group]").SingleOrDefault(e => e.GetAttribute("aria-label") == name);

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
