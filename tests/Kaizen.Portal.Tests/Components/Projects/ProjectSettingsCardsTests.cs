using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Components.Projects;
using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Storage;
using Kaizen.Portal.Tests.Components.OpenSource;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Projects;

/// <summary>
/// The General card (name and repository), the danger zone (delete, after typing the project's name) and the
/// visibility switch (public after typing the name, private after a plain question) of a project's settings, over the
/// real services and a migrated SQLite file. An admin is signed in.
/// </summary>
public sealed class ProjectSettingsCardsTests : OpenSourceHarness
{
    private const string Name = "open project";

    protected override async Task SetUpAsync()
    {
        // Registered before the harness's own set-up, which already reads services.
        var blobs = Path.Combine(Path.GetTempPath(), $"kaizen-blobs-{Guid.NewGuid():N}");
        Services.AddKeyedSingleton<IBlobStorage>(BlobAreas.Artifacts, new DiskBlobStorage(Path.Combine(blobs, "artifacts")));
        Services.AddKeyedSingleton<IBlobStorage>(BlobAreas.Caches, new DiskBlobStorage(Path.Combine(blobs, "caches")));
        Services.AddSingleton<Kaizen.Portal.Projects.BuildFilters>();
        Services.AddSingleton<RemotePoller>();
        Services.AddSingleton<ProjectRemoval>();
        Services.AddSingleton<ProjectLifecycle>();
        await base.SetUpAsync();
    }

    private static IElement Dialog(IRenderedComponent<ContainerFragment> cut) => cut.Find(".mud-dialog");

    private static IElement DialogButton(IRenderedComponent<ContainerFragment> cut, string name) => Button(Dialog(cut), name);

    private static async Task TypeNameAsync(IRenderedComponent<ContainerFragment> cut, string typed)
    {
        await InputAsync(cut, () => Field(Dialog(cut), $"Type {Name} to confirm"), typed);
    }

    /// <summary>The danger zone with its delete dialog open, and the click's handler, which ends once the dialog is answered.</summary>
    private async Task<(IRenderedComponent<ContainerFragment> Cut, Task Handled)> OpenDeleteDialogAsync()
    {
        var cut = RenderInLayout<ProjectDangerZone>(("Project", await ProjectAsync("open")));
        var handled = ClickAsync(cut, () => Button(cut, "Delete project"));
        cut.WaitForAssertion(() => Assert.Contains($"Delete {Name}?", Dialog(cut).TextContent), WaitTimeout);
        return (cut, handled);
    }

    [Fact]
    public async Task Delete_stays_disabled_until_the_projects_name_is_typed_exactly_then_deletes_and_goes_to_the_projects()
    {
        // Arrange
        var (cut, handled) = await OpenDeleteDialogAsync();
        Assert.Contains("cannot be undone", Dialog(cut).TextContent);
        Assert.True(DialogButton(cut, "Delete this project").HasAttribute("disabled"));

        // Act: near misses first.
        foreach (var nearMiss in new[] { "open", "Open Project", "open  project", "open-project" })
        {
            await TypeNameAsync(cut, nearMiss);
            cut.WaitForAssertion(() => Assert.True(DialogButton(cut, "Delete this project").HasAttribute("disabled"), nearMiss), WaitTimeout);
        }
        await TypeNameAsync(cut, Name);
        cut.WaitForAssertion(() => Assert.False(DialogButton(cut, "Delete this project").HasAttribute("disabled")), WaitTimeout);
        await ClickAsync(cut, () => DialogButton(cut, "Delete this project"));
        await handled.WaitAsync(WaitTimeout);

        // Assert
        cut.WaitForAssertion(() => Assert.Equal("http://localhost/", Services.GetRequiredService<NavigationManager>().Uri), WaitTimeout);
        Assert.Null(await Db.Projects.FindBySlugAsync("open"));
        Assert.NotNull(await Db.Projects.FindBySlugAsync("closed"));
        Assert.Null(await Db.Builds.FindAsync(PublicBuildId));
        Assert.Contains($"Project {Name} deleted, with 1 build", cut.Markup);
        Assert.Equal([AuditActions.ProjectDeleted], (await AuditOfAsync("open")).Select(e => e.Split(':')[0]));
    }

    [Fact]
    public async Task Canceling_the_delete_dialog_keeps_the_project()
    {
        // Arrange
        var (cut, handled) = await OpenDeleteDialogAsync();
        await TypeNameAsync(cut, Name);

        // Act
        await ClickAsync(cut, () => DialogButton(cut, "Cancel"));
        await handled.WaitAsync(WaitTimeout);

        // Assert
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll(".mud-dialog")), WaitTimeout);
        Assert.NotNull(await Db.Projects.FindBySlugAsync("open"));
        Assert.Empty(await AuditOfAsync("open"));
    }

    private async Task<IRenderedComponent<ContainerFragment>> GithubPanelAsync()
    {
        var cut = RenderInLayout<GithubPanel>(("Project", await ProjectAsync("open")));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=no-deliveries], [data-testid=deliveries]")), WaitTimeout);
        return cut;
    }

    [Fact]
    public async Task Making_a_project_public_waits_for_its_name_and_making_it_private_for_a_plain_yes()
    {
        // Arrange: "open" starts public; make it private first.
        var cut = await GithubPanelAsync();
        Assert.Contains("never become public", cut.Markup);

        // Act: private, after a plain question.
        var flicked = ChangeAsync(cut, () => cut.Find("input[data-testid=public-switch]"), false);
        cut.WaitForAssertion(() => Assert.Contains($"Make {Name} private?", Dialog(cut).TextContent), WaitTimeout);
        await ClickAsync(cut, () => DialogButton(cut, "Make private"));
        await flicked.WaitAsync(WaitTimeout);
        Assert.False((await ProjectAsync("open")).IsPublic);

        // Act: public, only once the name is typed.
        flicked = ChangeAsync(cut, () => cut.Find("input[data-testid=public-switch]"), true);
        cut.WaitForAssertion(() => Assert.Contains($"Make {Name} public?", Dialog(cut).TextContent), WaitTimeout);
        Assert.Contains("Anyone, signed in or not", Dialog(cut).TextContent);
        Assert.True(DialogButton(cut, "Make public").HasAttribute("disabled"));
        await TypeNameAsync(cut, "open");
        cut.WaitForAssertion(() => Assert.True(DialogButton(cut, "Make public").HasAttribute("disabled")), WaitTimeout);
        Assert.False((await ProjectAsync("open")).IsPublic);
        await TypeNameAsync(cut, Name);
        cut.WaitForAssertion(() => Assert.False(DialogButton(cut, "Make public").HasAttribute("disabled")), WaitTimeout);
        await ClickAsync(cut, () => DialogButton(cut, "Make public"));
        await flicked.WaitAsync(WaitTimeout);

        // Assert
        Assert.True((await ProjectAsync("open")).IsPublic);
        Assert.Equal(["project.changed: made private", "project.changed: made public"], await AuditOfAsync("open"));
    }

    [Fact]
    public async Task Canceling_the_public_question_leaves_the_project_private_and_the_switch_off()
    {
        // Arrange
        var cut = RenderInLayout<GithubPanel>(("Project", await ProjectAsync("closed")));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=no-deliveries], [data-testid=deliveries]")), WaitTimeout);

        // Act
        var flicked = ChangeAsync(cut, () => cut.Find("input[data-testid=public-switch]"), true);
        cut.WaitForAssertion(() => Assert.Contains("Make closed project public?", Dialog(cut).TextContent), WaitTimeout);
        await ClickAsync(cut, () => DialogButton(cut, "Cancel"));
        await flicked.WaitAsync(WaitTimeout);

        // Assert
        Assert.False((await ProjectAsync("closed")).IsPublic);
        cut.WaitForAssertion(() => Assert.False(cut.Find("input[data-testid=public-switch]").HasAttribute("checked")), WaitTimeout);
        Assert.Contains("Private: signed-in people only", cut.Markup);
        Assert.Empty(await AuditOfAsync("closed"));
    }

    private async Task<IRenderedComponent<ContainerFragment>> GeneralAsync()
    {
        var cut = RenderInLayout<ProjectGeneralPanel>(("Project", await ProjectAsync("open")));
        cut.WaitForAssertion(() => Assert.Equal(Name, Field(cut, "Name").GetAttribute("value")), WaitTimeout);
        return cut;
    }

    [Fact]
    public async Task The_general_card_opens_without_errors_saves_a_new_name_and_keeps_the_address()
    {
        // Arrange
        var cut = await GeneralAsync();
        Assert.Empty(cut.FindAll(".mud-input-error"));
        Assert.True(Button(cut, "Save name and repository").HasAttribute("disabled"));

        // Act
        await InputAsync(cut, () => Field(cut, "Name"), "Open storefront");
        cut.WaitForAssertion(() => Assert.False(Button(cut, "Save name and repository").HasAttribute("disabled")), WaitTimeout);
        await ClickAsync(cut, () => Button(cut, "Save name and repository"));

        // Assert
        var project = await ProjectAsync("open");
        Assert.Equal(("Open storefront", "https://git.example/open.git"), (project.Name, project.GitUrl));
        Assert.Equal(["project.renamed: renamed from 'open project' to 'Open storefront'"], await AuditOfAsync("open"));
        cut.WaitForAssertion(() => Assert.Contains("the project is now called Open storefront", cut.Markup), WaitTimeout);
    }

    [Fact]
    public async Task An_empty_name_shows_its_error_on_the_field_once_left_and_nothing_is_saved()
    {
        // Arrange
        var cut = await GeneralAsync();

        // Act
        await InputAsync(cut, () => Field(cut, "Name"), "");
        Assert.DoesNotContain("name is required", cut.Markup);
        await cut.InvokeAsync(() => Field(cut, "Name").TriggerEventAsync("onblur", new FocusEventArgs()));

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("name is required", cut.Markup), WaitTimeout);
        await ClickAsync(cut, () => Button(cut, "Save name and repository"));
        Assert.Equal(Name, (await ProjectAsync("open")).Name);
        Assert.Empty(await AuditOfAsync("open"));
    }

    [Fact]
    public async Task A_git_url_the_portal_refuses_shows_why_on_the_git_field_and_changes_nothing()
    {
        // Arrange
        var cut = await GeneralAsync();

        // Act
        await InputAsync(cut, () => Field(cut, "Git repository"), "ftp://git.example/open.git");
        await InputAsync(cut, () => Field(cut, "Name"), "Renamed too");
        await ClickAsync(cut, () => Button(cut, "Save name and repository"));

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("'ftp' URLs are not supported", cut.Markup), WaitTimeout);
        var project = await ProjectAsync("open");
        Assert.Equal((Name, "https://git.example/open.git"), (project.Name, project.GitUrl));
        Assert.Empty(await AuditOfAsync("open"));
    }
}
