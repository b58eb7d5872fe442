using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Components.Settings;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Pipelines;

/// <summary>The settings page with YAML comments and with settings kept in the repository.</summary>
public sealed class SettingsSourceEditorTests : EditorHarness
{
    private static readonly MouseEventArgs Press = new();

    private const string Commented = """
        # Lint first: it is the fastest feedback.
        setup: []   # nothing shared
        jobs:
          - name: lint
            commands:
              - flake8 .
        # no epilogue yet
        epilogue: []
        """;

    /// <summary>Clicks a button found afresh: the page may re-render between finding and clicking (the source panel loads).</summary>
    private static async Task ClickAsync(IRenderedComponent<Bunit.Rendering.ContainerFragment> cut, string name, bool awaitHandler = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var click = Button(cut, name).ClickAsync(Press);
                if (awaitHandler) await click;
                return;
            }
            catch (Bunit.Rendering.UnknownEventHandlerIdException) when (attempt < 5)
            {
                await Task.Delay(50);
            }
        }
    }

    [Fact]
    public async Task Yaml_applied_with_comments_and_saved_exports_exactly_as_it_was_written()
    {
        // Arrange
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.TwoJobs));
        Button(cut, "Edit YAML").Click(); // not awaited: the handler waits for the dialog to close
        await Field(cut.WaitForElement("[role=dialog]", WaitTimeout), "YAML").InputAsync(new() { Value = Commented });
        await Button(cut.Find("[role=dialog]"), "Apply").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[role=dialog]")), WaitTimeout);

        // Act
        await ClickAsync(cut, "Save");
        cut.WaitForAssertion(() => Assert.DoesNotContain("Unsaved changes", cut.Markup), WaitTimeout);
        await ClickAsync(cut, "Export YAML", awaitHandler: false);

        // Assert
        var dialog = cut.WaitForElement("[role=dialog]", WaitTimeout);
        var yaml = Field(dialog, "YAML").GetAttribute("value") ?? Field(dialog, "YAML").TextContent;
        Assert.Equal(Commented, yaml);
        Assert.Equal(Commented, (await Services.GetRequiredService<SettingsSourceStore>().GetAsync((await Projects.FindBySlugAsync("shop"))!.Id)).Yaml);
    }

    [Fact]
    public async Task Settings_kept_in_the_repository_make_the_editor_read_only_and_say_what_builds_read()
    {
        // Arrange
        var project = await ProjectWithAsync(TestDatabase.TwoJobs);
        await Services.GetRequiredService<SettingsSourceStore>().SetSourceAsync(project.Id, SettingsLocations.Repository);

        // Act
        var cut = RenderEditor(project);

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("at its own commit: a branch or a pull request changes its own pipeline", cut.Markup), WaitTimeout);
        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Trim() is "Save" or "Edit YAML");
        Assert.NotNull(Button(cut, "Export YAML"));
        // The file's state loads after the mode (a loaded machine renders them apart).
        cut.WaitForAssertion(() => Assert.Contains("has not been read from the repository yet", cut.Find("[data-testid=file-errors]").TextContent), WaitTimeout);
        Assert.DoesNotContain("needs the member or admin role", cut.Markup);
    }
}
