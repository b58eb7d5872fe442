using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Settings;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Settings;

/// <summary>Edit YAML on the settings page: the draft as YAML with its comments, checked as you type with lines, a preview
/// of the blocks, Apply into the draft and Save keeping the text.</summary>
public sealed class SettingsYamlEditTests : EditorHarness
{
    private static readonly MouseEventArgs Press = new();

    internal const string Pipeline = """
        # yaml-language-server: $schema=https://ci.example.com/schemas/kaizen-settings.json
        # Lint and test side by side, then ship.
        failFast: true
        setup: []
        blocks:
          - name: lint
            jobs:
              - name: flake8
                commands:
                  - flake8 .
          - name: test
            dependencies: []   # starts with lint
            jobs:
              - name: unit
                matrix:
                  - name: PY
                    values: ["3.11", "3.12"]
                commands:
                  - pytest
          - name: deploy
            dependencies: [lint]
            jobs:
              - name: ship
                commands:
                  - make deploy
        epilogue: []

        """;

    private SettingsSourceStore Sources => Services.GetRequiredService<SettingsSourceStore>();

    /// <summary>A project whose settings were saved from <see cref="Pipeline"/> (so the text is stored with its comments).</summary>
    private async Task<IRenderedComponent<ContainerFragment>> EditorWithPipelineAsync()
    {
        var project = await ProjectWithAsync(BuildSettingsYaml.FromYaml(Pipeline).Settings!);
        await Sources.SetYamlAsync(project.Id, Pipeline);
        var cut = RenderEditor(project);
        cut.WaitForAssertion(() => Button(cut, "Edit YAML"), WaitTimeout);
        return cut;
    }

    private static IElement OpenEditYaml(IRenderedComponent<ContainerFragment> cut)
    {
        Button(cut, "Edit YAML").Click(); // not awaited: the handler waits for the dialog to close
        return cut.WaitForElement("[role=dialog]", WaitTimeout);
    }

    private static IElement Dialog(IRenderedComponent<ContainerFragment> cut) => cut.Find("[role=dialog]");

    private static string TextOf(IElement field) => field.GetAttribute("value") ?? field.TextContent;

    private static string Status(IRenderedComponent<ContainerFragment> cut) => cut.Find("[data-testid=yaml-status]").TextContent.Trim();

    private static int LineOf(string text, string fragment) =>
        text.Split('\n').Select((line, i) => (line, i)).First(l => l.line.Contains(fragment, StringComparison.Ordinal)).i + 1;

    [Fact]
    public async Task Edit_YAML_opens_with_the_stored_text_and_its_comments_and_previews_the_blocks()
    {
        // Arrange
        var cut = await EditorWithPipelineAsync();

        // Act
        var dialog = OpenEditYaml(cut);

        // Assert
        Assert.Equal(Pipeline, TextOf(Field(dialog, "YAML")));
        Assert.Equal("No problems: 3 blocks, 4 jobs", Status(cut));
        var preview = dialog.QuerySelector("[data-testid=yaml-preview]")!;
        Assert.Contains("Runs after lint passed.", preview.QuerySelector("[data-block=deploy]")!.TextContent);
        Assert.Contains("PY [3.11, 3.12] (2 jobs)", preview.QuerySelector("[data-block=test]")!.TextContent);
        Assert.Contains("on: a failed job stops the rest of the build", preview.TextContent);
        Assert.DoesNotContain("read-only", preview.TextContent);
        Assert.Contains("paste a file to import it; nothing is saved until you press Save", dialog.TextContent);
        Assert.Contains("# yaml-language-server: $schema=http://localhost/schemas/kaizen-settings.json",
            dialog.QuerySelector("[data-testid=yaml-schema-hint]")!.TextContent);
        Assert.Equal("/schemas/kaizen-settings.json", Button(dialog, "JSON Schema").GetAttribute("href"));
    }

    [Fact]
    public async Task A_dependency_added_in_Edit_YAML_becomes_the_draft_and_Save_keeps_the_text_with_its_comments()
    {
        // Arrange
        var cut = await EditorWithPipelineAsync();
        var edited = Pipeline.Replace("    dependencies: [lint]\n", "    # ship only what passed both\n    dependencies: [lint, test]\n");
        var dialog = OpenEditYaml(cut);

        // Act
        await Field(dialog, "YAML").InputAsync(new() { Value = edited });
        Assert.Contains("Runs after lint, test passed.", Dialog(cut).QuerySelector("[data-testid=yaml-preview] [data-block=deploy]")!.TextContent);
        await Button(Dialog(cut), "Apply").ClickAsync(Press);

        // Assert: the draft, not saved yet.
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[role=dialog]")), WaitTimeout);
        Assert.Equal("Runs once lint and test passed.", Group(cut, "Block deploy").QuerySelector("[data-testid=block-runs-after]")!.TextContent.Trim());
        Assert.Contains("Unsaved changes", cut.Markup);
        Assert.Equal(["lint"], (await SavedSettingsAsync()).Blocks![2].Dependencies);

        // Opening it again before saving shows the applied text, comments and all.
        Assert.Equal(edited, TextOf(Field(OpenEditYaml(cut), "YAML")));
        await Button(Dialog(cut), "Cancel").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[role=dialog]")), WaitTimeout);

        // Act: Save, then export.
        await Button(cut, "Save").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.DoesNotContain("Unsaved changes", cut.Markup), WaitTimeout);

        // Assert
        Assert.Equal(["lint", "test"], (await SavedSettingsAsync()).Blocks![2].Dependencies);
        Assert.Equal(edited, (await Sources.GetAsync((await Projects.FindBySlugAsync("shop"))!.Id)).Yaml);
        Button(cut, "Export YAML").Click();
        Assert.Equal(edited, TextOf(Field(cut.WaitForElement("[role=dialog]", WaitTimeout), "YAML")));
    }

    [Fact]
    public async Task A_comment_alone_is_an_unsaved_change_that_Save_keeps_and_Discard_drops()
    {
        // Arrange
        var cut = await EditorWithPipelineAsync();
        var commented = Pipeline + "# reviewed by the platform team\n";

        // Act
        await Field(OpenEditYaml(cut), "YAML").InputAsync(new() { Value = commented });
        await Button(Dialog(cut), "Apply").ClickAsync(Press);

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("only the text changed (comments, layout)", cut.Markup), WaitTimeout);
        Assert.Contains("Unsaved changes", cut.Markup);

        // Act: Discard drops it; applying again and saving keeps it.
        Button(cut, "Discard changes").Click();
        Assert.DoesNotContain("Unsaved changes", cut.Markup);
        Assert.Equal(Pipeline, TextOf(Field(OpenEditYaml(cut), "YAML")));
        await Field(Dialog(cut), "YAML").InputAsync(new() { Value = commented });
        await Button(Dialog(cut), "Apply").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[role=dialog]")), WaitTimeout);
        await Button(cut, "Save").ClickAsync(Press);

        // Assert
        cut.WaitForAssertion(() => Assert.DoesNotContain("Unsaved changes", cut.Markup), WaitTimeout);
        Assert.Equal(commented, (await Sources.GetAsync((await Projects.FindBySlugAsync("shop"))!.Id)).Yaml);
    }

    [Fact]
    public async Task A_misspelt_dependency_is_listed_with_its_line_until_it_is_fixed_and_Apply_waits_for_it()
    {
        // Arrange
        var cut = await EditorWithPipelineAsync();
        var dialog = OpenEditYaml(cut);
        var typo = Pipeline.Replace("dependencies: [lint]", "dependencies: [lint, tset]");

        // Act
        await Field(dialog, "YAML").InputAsync(new() { Value = typo });

        // Assert
        var line = LineOf(typo, "tset");
        var problem = Assert.Single(cut.FindAll("[data-testid=yaml-problems] li"));
        Assert.Equal($"Line {line}: blocks[2].dependencies[1]: no block is named 'tset' (the blocks are lint, test, deploy).", problem.TextContent.Trim());
        Assert.Equal(line.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.GetAttribute("data-line"));
        Assert.Equal("1 problem", Status(cut));
        Assert.True(IsDisabled(Button(Dialog(cut), "Apply")));
        Assert.Contains("Shows the last text without problems", Dialog(cut).TextContent);

        // Act: fixed.
        await Field(Dialog(cut), "YAML").InputAsync(new() { Value = typo.Replace("tset", "test") });

        // Assert
        Assert.Empty(cut.FindAll("[data-testid=yaml-problems]"));
        Assert.Equal("No problems: 3 blocks, 4 jobs", Status(cut));
        Assert.False(IsDisabled(Button(Dialog(cut), "Apply")));
    }

    [Fact]
    public async Task Malformed_yaml_keeps_the_dialog_open_with_the_text_as_typed_and_Escape_asks_before_discarding()
    {
        // Arrange
        var cut = RenderEditor(await ProjectWithAsync(Data.TestDatabase.TwoJobs));
        var dialog = OpenEditYaml(cut);
        const string broken = "jobs:\n  - name: test\n    commands: [unit\n";

        // Act
        await Field(dialog, "YAML").InputAsync(new() { Value = broken });
        Assert.True(IsDisabled(Button(Dialog(cut), "Apply")));
        // Escape, as the dialog's script reports it (the browser journey presses the key).
        var editor = cut.FindComponent<SettingsYamlEditDialog>();
        await cut.InvokeAsync(editor.Instance.EscapeAsync);

        // Assert: still open, the error with its line, and a question instead of a silent loss (the text area keeps what
        // was typed: the server never writes it back, which the browser journey shows).
        Assert.StartsWith("Line ", cut.Find("[data-testid=yaml-problems] li").TextContent.Trim());
        Assert.Contains("Discard your YAML changes?", Dialog(cut).TextContent);

        await Button(Dialog(cut), "Keep editing").ClickAsync(Press);
        Assert.DoesNotContain("Discard your YAML changes?", Dialog(cut).TextContent);
        Assert.Equal(["unit", "integration"], CommandsIn(Group(cut, "Job test")));
    }

    [Fact]
    public async Task Cancel_without_changes_closes_at_once()
    {
        var cut = RenderEditor(await ProjectWithAsync(Data.TestDatabase.TwoJobs));
        OpenEditYaml(cut);

        await Button(Dialog(cut), "Cancel").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[role=dialog]")), WaitTimeout);
        Assert.DoesNotContain("Unsaved changes", cut.Markup);
    }

    [Fact]
    public async Task An_empty_text_says_what_to_write()
    {
        var cut = RenderEditor(await ProjectWithAsync(Data.TestDatabase.TwoJobs));
        var dialog = OpenEditYaml(cut);

        await Field(dialog, "YAML").InputAsync(new() { Value = "  \n" });

        Assert.Equal("Nothing to apply", Status(cut));
        Assert.Contains("The text is empty. Write the settings here or paste a settings file", cut.Find("[data-testid=yaml-problems]").TextContent);
        Assert.True(IsDisabled(Button(Dialog(cut), "Apply")));
    }

    [Fact]
    public async Task A_text_over_the_settings_limit_is_refused_in_words()
    {
        var cut = RenderEditor(await ProjectWithAsync(Data.TestDatabase.TwoJobs));
        var dialog = OpenEditYaml(cut);
        var huge = "jobs:\n  - name: test\n    commands:\n      - " + new string('x', SettingsYamlCheck.MaxLength) + "\n";

        await Field(dialog, "YAML").InputAsync(new() { Value = huge });

        cut.WaitForAssertion(() => Assert.Equal("Too long", Status(cut)), WaitTimeout);
        Assert.Contains($"The text has {huge.Length:N0} characters; build settings hold at most 1,000,000, so it was not read.",
            cut.Find("[data-testid=yaml-problems]").TextContent);
        Assert.True(IsDisabled(Button(Dialog(cut), "Apply")));
    }

    [Fact]
    public async Task A_large_text_is_checked_once_typing_pauses()
    {
        var cut = RenderEditor(await ProjectWithAsync(Data.TestDatabase.TwoJobs));
        var dialog = OpenEditYaml(cut);
        var large = string.Concat(Enumerable.Repeat("# a long comment line to make the file large\n", 2_000)) + "jobs: []\n";

        await Field(dialog, "YAML").InputAsync(new() { Value = large });

        cut.WaitForAssertion(() => Assert.Equal("1 problem", Status(cut)), WaitTimeout);
        Assert.Contains("Add at least one job", cut.Find("[data-testid=yaml-problems]").TextContent);
    }
}

/// <summary>The checks behind Edit YAML, on their own: problems and the lines their paths point at.</summary>
public sealed class SettingsYamlCheckTests
{
    [Theory]
    [InlineData("name: lint\n", "name: \"\"\n", "blocks[0].name: a block needs a name.", "- name: \"\"")]
    [InlineData("values: [\"3.11\", \"3.12\"]", "values: []", "blocks[1].jobs[0].matrix[0].values: an axis needs at least one value.", "values: []")]
    [InlineData("failFast: true\n", "failFast: true\ntimeLimit: forever\n", "timeLimit:", "timeLimit: forever")]
    [InlineData("      - name: ship\n", "      - name: flake8\n", "blocks[2].jobs[0]: another job is already named 'flake8'.", "      - name: flake8\n        commands:\n          - make deploy")]
    public void A_settings_problem_is_placed_on_the_line_its_path_names(string find, string replace, string problem, string expectedAt)
    {
        var text = SettingsYamlEditTests.Pipeline.Replace(find, replace);
        // The expected line: where the fragment starts (the last match, after the replaced text).
        var at = text.LastIndexOf(expectedAt, StringComparison.Ordinal);
        var line = text[..at].Count(c => c == '\n') + 1;

        var check = SettingsYamlCheck.Of(text);

        Assert.False(check.Ok);
        var found = Assert.Single(check.Problems, p => p.Message.Contains(problem, StringComparison.Ordinal));
        Assert.Equal(line, found.Line);
        Assert.StartsWith($"Line {line}: ", found.Message);
    }

    [Fact]
    public void A_problem_of_no_place_has_no_line_and_a_reading_error_keeps_its_own()
    {
        var noJobs = SettingsYamlCheck.Of("setup: []\njobs: []\nepilogue: []\n");
        var unknown = SettingsYamlCheck.Of("jobs:\n  - name: x\n    script: [a]\n");

        Assert.Null(Assert.Single(noJobs.Problems).Line);
        Assert.Equal(3, Assert.Single(unknown.Problems).Line);
        Assert.Equal("1 problem", unknown.Status);
    }

    [Fact]
    public void A_flow_list_left_open_while_typing_is_a_problem_with_a_line_not_an_exception()
    {
        // What the text is after typing "dependencies: [l" above the block's jobs: YamlDotNet throws InvalidOperationException.
        const string typing = "blocks:\n- name: deploy\n  dependencies: [l\n  jobs:\n    - name: ship\n      commands:\n        - echo ship\nepilogue: []\n";

        var check = SettingsYamlCheck.Of(typing);

        var problem = Assert.Single(check.Problems);
        Assert.NotNull(problem.Line);
        Assert.Contains("is a [ or { not closed?", problem.Message);
        Assert.Null(check.Settings);
    }

    [Fact]
    public void Flat_settings_count_their_jobs_with_matrices_expanded()
    {
        var check = SettingsYamlCheck.Of("jobs:\n  - name: test\n    matrix:\n      - name: NODE\n        values: [\"18\", \"20\", \"22\"]\n    commands: [npm test]\n  - name: lint\n    commands: [npm run lint]\n");

        Assert.True(check.Ok);
        Assert.Equal("No problems: 4 jobs", check.Status);
    }
}
