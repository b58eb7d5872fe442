using System.Security.Claims;
using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Bunit.TestDoubles;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>
/// A bUnit context with MudBlazor and the real user store, admin rules, personal tokens and audit log over a migrated
/// SQLite file; someone is signed in with <see cref="SignInAsync"/>. Pages render inside the layout's providers.
/// </summary>
public abstract class TeamsPageHarness : BunitContext, IAsyncLifetime
{
    /// <summary>Generous: a loaded CI machine can take seconds to render.</summary>
    protected static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    private TestDatabase? _db;
    private BunitAuthorizationContext _auth = default!;

    internal TestDatabase Db => _db ?? throw new InvalidOperationException("InitializeAsync has not run.");
    protected AuditLog Audit { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("Sqlite");
        JSInterop.Mode = JSRuntimeMode.Loose;
        Audit = new AuditLog(Db.Database, Db.Clock);
        Services.AddMudServices();
        Services.AddSingleton(Db.Users);
        Services.AddSingleton(Audit);
        Services.AddSingleton<IPasswordHasher<UserRow>, PasswordHasher<UserRow>>();
        Services.AddSingleton<UserAdmin>();
        Services.AddSingleton<PersonalTokens>();
        _auth = AddAuthorization();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_db is not null) await _db.DisposeAsync();
    }

    /// <summary>Creates the user (unless they exist) and signs them in for what renders next; returns their id.</summary>
    protected async Task<long> SignInAsync(string name, string role)
    {
        var id = (await Db.Users.FindByNameAsync(name))?.Id ?? await Db.Users.CreateAsync(name, "", role);
        _auth.SetAuthorized(name);
        _auth.SetRoles(role);
        _auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, id.ToString()));
        return id;
    }

    /// <summary>Component <typeparamref name="T"/> inside the popover, dialog and snackbar providers a layout gives it.</summary>
    protected IRenderedComponent<ContainerFragment> RenderInLayout<T>() where T : IComponent => Render(b =>
    {
        b.OpenComponent<MudPopoverProvider>(0);
        b.CloseComponent();
        b.OpenComponent<MudDialogProvider>(1);
        b.CloseComponent();
        b.OpenComponent<MudSnackbarProvider>(2);
        b.CloseComponent();
        b.OpenComponent<T>(3);
        b.CloseComponent();
    });

    /// <summary>Clicks what <paramref name="find"/> finds in one renderer turn; the task ends when the click's handler does.</summary>
    protected static Task ClickAsync(IRenderedComponent<ContainerFragment> cut, Func<IElement> find)
    {
        Task? handled = null;
        var dispatched = cut.InvokeAsync(() => { handled = find().ClickAsync(new MouseEventArgs()); });
        return dispatched.ContinueWith(_ => handled!, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Types into the field labelled <paramref name="label"/> (input and change events, as fields differ).</summary>
    protected static async Task TypeAsync(IRenderedComponent<ContainerFragment> cut, string label, string value)
    {
        foreach (var eventName in new[] { "oninput", "onchange" })
        {
            await cut.InvokeAsync(async () =>
            {
                try
                {
                    await Field(cut, label).TriggerEventAsync(eventName, new ChangeEventArgs { Value = value });
                }
                catch (MissingEventHandlerException)
                {
                    // This field only listens to the other event.
                }
            });
        }
    }

    protected static IElement Field(IRenderedComponent<ContainerFragment> cut, string label)
    {
        var labels = cut.FindAll("label").Where(l => l.TextContent.Trim() == label).ToList();
        if (labels.Count != 1) throw new InvalidOperationException($"Expected one field labelled '{label}', found {labels.Count}.");
        return cut.FindAll("input, textarea").Single(i => i.Id == labels[0].GetAttribute("for"));
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
