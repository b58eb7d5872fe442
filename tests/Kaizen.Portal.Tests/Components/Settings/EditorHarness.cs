using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Settings;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kaizen.Portal.Tests.Components.Settings;

/// <summary>
/// A bUnit context with MudBlazor, a signed-in member and real stores over a migrated SQLite file, for rendering the
/// settings editor the way a page hosts it (with the dialog and snackbar providers).
/// </summary>
public abstract class EditorHarness : PortalComponentContext
{
    protected ProjectStore Projects => Db.Projects;
    protected LiveUpdates Live { get; } = new(NullLogger<LiveUpdates>.Instance);

    /// <summary>When false, the signed-in user lacks the write policy (a viewer).</summary>
    protected virtual bool CanWrite => true;

    protected override Task SetUpAsync()
    {
        Services.AddSingleton(Db.Projects);
        Services.AddSingleton(Live);
        // Saving checks run-script lines against the script library.
        var scripts = new Kaizen.Portal.Scripts.ScriptStore(Db.Database, Db.Clock);
        var audit = new Kaizen.Portal.Audit.AuditLog(Db.Database, Db.Clock);
        Services.AddSingleton(audit);
        Services.AddSingleton(new Kaizen.Portal.Scripts.ScriptLibrary(scripts, Db.Projects, audit));
        Services.AddSingleton<BuildSettingsChanges>();
        Services.AddSingleton(Db.Database).AddSingleton<SettingsSourceStore>().AddSingleton<SettingsSourceChanges>().AddSingleton<RepositorySettings>()
            .AddSingleton(new Kaizen.Portal.Git.GitMirror(Microsoft.Extensions.Options.Options.Create(new KaizenOptions { DataDirectory = Path.GetTempPath() }),
                NullLogger<Kaizen.Portal.Git.GitMirror>.Instance));
        Auth.SetAuthorized(CanWrite ? "member" : "viewer");
        if (CanWrite) Auth.SetPolicies(ApiEndpoints.WritePolicy);
        return Task.CompletedTask;
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
        onSaved is null
            ? RenderInLayout<BuildSettingsEditor>((nameof(BuildSettingsEditor.Project), project))
            : RenderInLayout<BuildSettingsEditor>((nameof(BuildSettingsEditor.Project), project),
                (nameof(BuildSettingsEditor.OnSaved), EventCallback.Factory.Create<BuildSettings>(this, onSaved)));

    /// <summary>The region (role=group) with this accessible name: "Setup commands", "Jobs", "Job test", ...</summary>
    protected static IElement Group(IRenderedComponent<ContainerFragment> cut, string name) =>
        cut.FindAll("[role=group]").SingleOrDefault(e => e.GetAttribute("aria-label") == name)
        ?? throw new InvalidOperationException($"No group named '{name}'. Groups: " +
                                               string.Join(", ", cut.FindAll("[role=group]").Select(e => e.GetAttribute("aria-label"))));

    protected static bool IsDisabled(IElement button) => button.HasAttribute("disabled");

    /// <summary>The commands a person sees in a block, in order, read from its labelled fields.</summary>
    protected static List<string> CommandsIn(IElement group) =>
        group.QuerySelectorAll("label").Where(l => l.TextContent.Trim().StartsWith("Command ", StringComparison.Ordinal))
            .Select(l => group.QuerySelectorAll("input, textarea").Single(i => i.Id == l.GetAttribute("for")))
            .Select(i => i.GetAttribute("value") ?? i.TextContent).ToList();
}
