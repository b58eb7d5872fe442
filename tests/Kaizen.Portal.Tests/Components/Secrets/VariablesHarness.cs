using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Components.Secrets;
using Kaizen.Portal.Secrets;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Secrets;

/// <summary>
/// A bUnit context with MudBlazor, a user signed in with <see cref="Role"/> and the real variable store, changes
/// service and audit log over a migrated SQLite file, for rendering the variables editor inside the providers a
/// layout gives it.
/// </summary>
public abstract class VariablesHarness : PortalComponentContext
{
    protected VariableStore Store { get; private set; } = default!;
    protected AuditLog Audit { get; private set; } = default!;

    /// <summary>The signed-in user's role: admin, member or viewer.</summary>
    protected abstract string Role { get; }

    protected string UserName => "alice-" + Role;

    protected override Task SetUpAsync()
    {
        Store = new VariableStore(Db.Database, new EphemeralDataProtectionProvider(), Db.Clock);
        Audit = new AuditLog(Db.Database, Db.Clock);
        Services.AddSingleton(Store);
        Services.AddSingleton(Audit);
        Services.AddSingleton(Db.Projects);
        Services.AddSingleton(new Kaizen.Portal.Delivery.DeployStore(Db.Database, Db.Clock));
        Services.AddSingleton<VariableChanges>();
        SignIn(UserName, Role);
        return Task.CompletedTask;
    }

    /// <summary>The editor inside the popover, dialog and snackbar providers, once its variables have loaded.</summary>
    protected IRenderedComponent<ContainerFragment> RenderEditor(VariableScope scope)
    {
        var cut = RenderInLayout<VariablesEditor>((nameof(VariablesEditor.Scope), scope));
        cut.WaitForAssertion(() => Assert.Contains("Variables", cut.Markup), WaitTimeout);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[aria-label='Loading variables']")), WaitTimeout);
        return cut;
    }

    /// <summary>The element with role=group and this accessible name, or null.</summary>
    protected static IElement? Group(IRenderedComponent<ContainerFragment> cut, string name) =>
        cut.FindAll("[role=group]").SingleOrDefault(e => e.GetAttribute("aria-label") == name);
}
