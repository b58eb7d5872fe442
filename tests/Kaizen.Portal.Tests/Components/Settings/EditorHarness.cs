using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Settings;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using MudBlazor.Services;

namespace Kaizen.Portal.Tests.Components.Settings;

/// <summary>
/// A bUnit context with MudBlazor, a signed-in member and real stores over a migrated SQLite file, for rendering the
/// settings editor the way a page hosts it (with the dialog and snackbar providers). Lookups go by what a person
/// sees: labels, accessible names, button text.
/// </summary>
public abstract class EditorHarness : BunitContext, IAsyncLifetime
{
    /// <summary>Generous: a loaded CI machine can take seconds to render.</summary>
    protected static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    private TestDatabase? _db;

    internal TestDatabase Db => _db ?? throw new InvalidOperationException("InitializeAsync has not run.");
    protected ProjectStore Projects => Db.Projects;
    protected LiveUpdates Live { get; } = new(NullLogger<LiveUpdates>.Instance);

    /// <summary>When false, the signed-in user lacks the write policy (a viewer).</summary>
    protected virtual bool CanWrite => true;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("Sqlite");
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(Db.Projects);
        Services.AddSingleton(Live);
        var auth = AddAuthorization();
        auth.SetAuthorized(CanWrite ? "member" : "viewer");
        if (CanWrite) auth.SetPolicies(ApiEndpoints.WritePolicy);
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_db is not null) await _db.DisposeAsync();
    }

    protected async Task<ProjectRow> ProjectWithAsync(BuildSettings settings, string slug = "shop")
    {
        await Db.CreateProjectAsync(slug, settings);
        return (await Projects.FindBySlugAsync(slug))!;
    }

    protected async Task<BuildSettings> SavedSettingsAsync(string slug = "shop") =>
        (await Projects.FindBySlugAsync(slug))!.Settings;

    /// <summary>The editor inside the providers a layout gives it; dialogs and snackbars render into the same markup.</summary>
    protected IRenderedComponent<ContainerFragment> RenderEditor(ProjectRow project, Action<BuildSettings>? onSaved = null) =>
        Render(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<MudDialogProvider>(1);
            b.CloseComponent();
            b.OpenComponent<MudSnackbarProvider>(2);
            b.CloseComponent();
            b.OpenComponent<BuildSettingsEditor>(3);
            b.AddAttribute(4, nameof(BuildSettingsEditor.Project), project);
            if (onSaved is not null)
                b.AddAttribute(5, nameof(BuildSettingsEditor.OnSaved), EventCallback.Factory.Create<BuildSettings>(this, onSaved));
            b.CloseComponent();
        });

    /// <summary>The region (role=group) with this accessible name: "Setup commands", "Jobs", "Job test", ...</summary>
    protected static IElement Group(IRenderedComponent<ContainerFragment> cut, string name) =>
        cut.FindAll("[role=group]").SingleOrDefault(e => e.GetAttribute("aria-label") == name)
        ?? throw new InvalidOperationException($"No group named '{name}'. Groups: " +
                                               string.Join(", ", cut.FindAll("[role=group]").Select(e => e.GetAttribute("aria-label"))));

    /// <summary>The text field labelled <paramref name="label"/> inside <paramref name="scope"/>.</summary>
    protected static IElement Field(IElement scope, string label)
    {
        var labels = scope.QuerySelectorAll("label").Where(l => l.TextContent.Trim() == label).ToList();
        if (labels.Count != 1)
            throw new InvalidOperationException($"Expected one field labelled '{label}', found {labels.Count}.");
        var id = labels[0].GetAttribute("for");
        return scope.QuerySelectorAll("input, textarea").Single(i => i.Id == id);
    }

    /// <summary>The button whose accessible name (aria-label, else its text) is <paramref name="name"/>.</summary>
    protected static IElement Button(IElement scope, string name) => Button(scope.QuerySelectorAll("button, a[href]"), name);

    protected static IElement Button(IRenderedComponent<ContainerFragment> cut, string name) => Button(cut.FindAll("button, a[href]"), name);

    private static IElement Button(IEnumerable<IElement> candidates, string name)
    {
        var matches = candidates
            .Where(b => (b.GetAttribute("aria-label") ?? b.TextContent.Trim()) == name).ToList();
        return matches.Count == 1 ? matches[0]
            : throw new InvalidOperationException($"Expected one button named '{name}', found {matches.Count}.");
    }

    protected static bool IsDisabled(IElement button) => button.HasAttribute("disabled");

    /// <summary>The commands a person sees in a block, in order, read from its labelled fields.</summary>
    protected static List<string> CommandsIn(IElement group) =>
        group.QuerySelectorAll("label").Where(l => l.TextContent.Trim().StartsWith("Command ", StringComparison.Ordinal))
            .Select(l => group.QuerySelectorAll("input, textarea").Single(i => i.Id == l.GetAttribute("for")))
            .Select(i => i.GetAttribute("value") ?? i.TextContent).ToList();
}
