using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Settings;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.Components.Web;

namespace Kaizen.Portal.Tests.Components.Settings;

public sealed class BuildSettingsEditorTests : EditorHarness
{
    private static readonly MouseEventArgs Press = new();

    [Fact]
    public async Task A_job_without_a_name_shows_the_message_and_Save_does_not_persist_until_it_is_fixed()
    {
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.OneJob("test")));
        Assert.True(IsDisabled(Button(cut, "Save")), "nothing changed yet");

        await Field(Group(cut, "Job test"), "Job name").InputAsync(new() { Value = "  " });

        // The field says it at once; the list of problems waits for Save.
        var job = Group(cut, "Job 1");
        Assert.Contains("A job needs a name.", job.TextContent);
        Assert.Contains("Unsaved changes", cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=settings-problems]"));

        await Button(cut, "Save").ClickAsync(Press);
        Assert.Contains("Not saved: 1 problem to fix", cut.Find("[data-testid=settings-problems]").TextContent);
        Assert.Contains("Job 1 needs a name.", cut.Markup);
        Assert.Equal("test", Assert.Single((await SavedSettingsAsync()).Jobs).Name);
        Assert.Equal("  ", Field(job, "Job name").GetAttribute("value"));

        await Field(job, "Job name").InputAsync(new() { Value = " unit " });
        Assert.DoesNotContain("A job needs a name.", cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=settings-problems]"));
        await Button(cut, "Save").ClickAsync(Press);

        Assert.Equal("unit", Assert.Single((await SavedSettingsAsync()).Jobs).Name);
        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        Assert.DoesNotContain("Unsaved changes", cut.Markup);
        Assert.True(IsDisabled(Button(cut, "Save")));
    }

    [Fact]
    public async Task A_new_job_opens_without_errors_and_shows_them_on_its_fields_after_leaving_them_or_on_Save()
    {
        // Arrange
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.OneJob("test")));

        // Act: a new job, empty as it comes.
        await Button(cut, "Add job").ClickAsync(Press);

        // Assert: nothing is red yet, and Save is there to press.
        var added = Group(cut, "Job 2");
        Assert.DoesNotContain("A job needs a name.", added.TextContent);
        Assert.DoesNotContain("Write a command or remove it.", added.TextContent);
        Assert.Empty(added.QuerySelectorAll(".mud-input-error"));
        Assert.False(IsDisabled(Button(cut, "Save")));

        // Leaving the name empty marks it; the untouched command stays as it is.
        await Field(added, "Job name").BlurAsync(new());
        added = Group(cut, "Job 2");
        Assert.Contains("A job needs a name.", added.TextContent);
        Assert.DoesNotContain("Write a command or remove it.", added.TextContent);

        // Save shows every problem, on the fields and in the list, and saves nothing.
        await Button(cut, "Save").ClickAsync(Press);
        added = Group(cut, "Job 2");
        Assert.Contains("Write a command or remove it.", added.TextContent);
        var list = cut.Find("[data-testid=settings-problems]").TextContent;
        Assert.Contains("Not saved: 2 problems to fix", list);
        Assert.Contains("Command 1 of job 2 is empty", list);
        Assert.Single((await SavedSettingsAsync()).Jobs);
    }

    [Fact]
    public async Task A_run_script_line_naming_no_script_is_said_on_its_own_field_in_the_fields_words()
    {
        // Arrange: job lint's seventh command names a script the library does not have.
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([],
            [new JobSettings("lint", ["a", "b", "c", "d", "e", "f", "run-script publish-docs"])], [])));
        await Field(Group(cut, "Job lint"), "Job name").InputAsync(new() { Value = "lint-all" });

        // Act
        await Button(cut, "Save").ClickAsync(Press);

        // Assert: under "Command 7", and the list names it the same way; nothing saved, nothing typed lost.
        var job = Group(cut, "Job lint-all");
        var field = Field(job, "Command 7").Closest(".mud-input-control")!;
        Assert.Contains("There is no script 'publish-docs' in the library.", field.TextContent);
        Assert.NotEmpty(field.QuerySelectorAll(".mud-input-error"));
        Assert.Contains("Command 7 of job lint-all: There is no script 'publish-docs' in the library.", cut.Find("[data-testid=settings-problems]").TextContent);
        Assert.DoesNotContain("jobs[", cut.Markup);
        Assert.Equal("lint", Assert.Single((await SavedSettingsAsync()).Jobs).Name);

        // Editing that command clears its message; saving then works.
        await Field(job, "Command 7").InputAsync(new() { Value = "make docs" });
        Assert.DoesNotContain("There is no script", cut.Markup);
        await Button(cut, "Save").ClickAsync(Press);
        Assert.Equal("make docs", Assert.Single((await SavedSettingsAsync()).Jobs).Commands[6]);
    }

    [Fact]
    public async Task Saving_in_the_editor_is_audited_with_who_and_the_changed_lines()
    {
        // Arrange
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.OneJob("test")));

        // Act
        await Field(Group(cut, "Job test"), "Job name").InputAsync(new() { Value = "unit" });
        await Button(cut, "Save").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);

        // Assert
        var entry = Assert.Single(await new Kaizen.Portal.Audit.AuditLog(Db.Database, Db.Clock).NewestAsync(10),
            e => e.Action == "settings.changed");
        Assert.Equal("member", entry.Actor);
        Assert.Equal("project:shop/settings", entry.Target);
        Assert.Contains("via the settings editor", entry.Details);
        Assert.Contains("- - name: test", entry.Details);
        Assert.Contains("+ - name: unit", entry.Details);
    }

    [Fact]
    public async Task A_job_without_commands_shows_the_message_and_keeps_everything_typed_until_it_is_saved()
    {
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.OneJob("test")));

        await Button(cut, "Add job").ClickAsync(Press);
        var added = Group(cut, "Job 2");
        await Button(added, "Remove command 1 of job 2").ClickAsync(Press);
        await Field(Group(cut, "Job 2"), "Job name").InputAsync(new() { Value = "deploy" });

        var deploy = Group(cut, "Job deploy");
        Assert.Contains("Add at least one command.", deploy.TextContent);
        await Button(cut, "Save").ClickAsync(Press);
        Assert.Contains("Job deploy needs at least one command.", cut.Markup);
        Assert.Single((await SavedSettingsAsync()).Jobs);

        await Button(Group(cut, "Job deploy"), "Add a command to job deploy").ClickAsync(Press);
        await Field(Group(cut, "Job deploy"), "Command 1").InputAsync(new() { Value = "make deploy\n  --stage dev" });
        Assert.DoesNotContain("problem", cut.Markup);
        await Button(cut, "Save").ClickAsync(Press);

        var saved = await SavedSettingsAsync();
        Assert.Equal(["test", "deploy"], saved.Jobs.Select(j => j.Name));
        Assert.Equal(["make deploy\n  --stage dev"], saved.Jobs[1].Commands);
    }

    [Fact]
    public async Task Moving_removing_and_adding_jobs_and_commands_changes_what_is_saved()
    {
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.TwoJobs));
        Assert.True(IsDisabled(Button(cut, "Move job test up")));
        Assert.True(IsDisabled(Button(cut, "Move job lint down")));

        await Button(cut, "Move job lint up").ClickAsync(Press);
        await Button(cut, "Move command 2 of job test up").ClickAsync(Press);
        await Button(cut, "Remove setup command 1").ClickAsync(Press);
        await Button(cut, "Add epilogue command").ClickAsync(Press);
        await Field(Group(cut, "Epilogue commands"), "Command 2").InputAsync(new() { Value = "notify" });
        await Button(cut, "Move epilogue command 2 up").ClickAsync(Press);

        Assert.Equal(["Job lint", "Job test"],
            cut.FindAll("[role=group]").Select(g => g.GetAttribute("aria-label") ?? "").Where(n => n.StartsWith("Job ")));
        Assert.Equal(["integration", "unit"], CommandsIn(Group(cut, "Job test")));
        Assert.Contains("No setup commands.", Group(cut, "Setup commands").TextContent);
        await Button(cut, "Save").ClickAsync(Press);

        var saved = await SavedSettingsAsync();
        Assert.Empty(saved.Setup);
        Assert.Equal(["lint", "test"], saved.Jobs.Select(j => j.Name));
        Assert.Equal(["integration", "unit"], saved.Jobs[1].Commands);
        Assert.Equal(["notify", "upload"], saved.Epilogue);
    }

    [Fact]
    public async Task Discard_changes_restores_the_saved_settings()
    {
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.TwoJobs));
        Assert.True(IsDisabled(Button(cut, "Discard changes")));

        await Field(Group(cut, "Job test"), "Job name").InputAsync(new() { Value = "" });
        await Button(cut, "Remove job lint").ClickAsync(Press);
        await Field(Group(cut, "Setup commands"), "Command 1").InputAsync(new() { Value = "changed" });
        Assert.Contains("Unsaved changes", cut.Markup);

        await Button(cut, "Discard changes").ClickAsync(Press);

        Assert.DoesNotContain("Unsaved changes", cut.Markup);
        Assert.Equal(["unit", "integration"], CommandsIn(Group(cut, "Job test")));
        Assert.Equal(["format"], CommandsIn(Group(cut, "Job lint")));
        Assert.Equal(["restore"], CommandsIn(Group(cut, "Setup commands")));
        Assert.True(IsDisabled(Button(cut, "Save")));
    }

    [Fact]
    public async Task Yaml_pasted_over_the_text_in_Edit_YAML_replaces_the_editor_content_and_saves_only_on_Save()
    {
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.TwoJobs));

        Button(cut, "Edit YAML").Click(); // not awaited: the handler waits for the dialog to close
        var yaml = cut.WaitForElement("[role=dialog]", WaitTimeout);
        await Field(yaml, "YAML").InputAsync(new()
        {
            Value = "setup: [echo hi]\njobs:\n  - name: py\n    commands:\n      - |\n        tox\n        flake8\nepilogue: []\n",
        });
        await Button(cut.Find("[role=dialog]"), "Apply").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[role=dialog]")), WaitTimeout);
        Assert.Equal(["tox\nflake8\n"], CommandsIn(Group(cut, "Job py")));
        Assert.Equal(["echo hi"], CommandsIn(Group(cut, "Setup commands")));
        Assert.Contains("Unsaved changes", cut.Markup);
        Assert.Equal(2, (await SavedSettingsAsync()).Jobs.Count);

        await Button(cut, "Save").ClickAsync(Press);
        Assert.Equal("py", Assert.Single((await SavedSettingsAsync()).Jobs).Name);
    }

    [Fact]
    public async Task Invalid_yaml_in_Edit_YAML_is_listed_with_its_line_Apply_waits_and_discarding_leaves_the_editor_unchanged()
    {
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.TwoJobs));

        Button(cut, "Edit YAML").Click(); // not awaited: the handler waits for the dialog to close
        await Field(cut.WaitForElement("[role=dialog]", WaitTimeout), "YAML").InputAsync(new() { Value = "jobs:\n  - name: x\n    script: [a]\n" });

        var dialog = cut.Find("[role=dialog]");
        Assert.Contains("Line 3, column 5: unknown key 'script' in a job.", dialog.TextContent);
        Assert.True(IsDisabled(Button(dialog, "Apply")));
        await Button(dialog, "Cancel").ClickAsync(Press);
        Assert.Contains("Discard your YAML changes?", cut.Find("[role=dialog]").TextContent);
        await Button(cut.Find("[role=dialog]"), "Discard").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[role=dialog]")), WaitTimeout);
        Assert.Equal(["unit", "integration"], CommandsIn(Group(cut, "Job test")));
        Assert.DoesNotContain("Unsaved changes", cut.Markup);
    }

    [Fact]
    public async Task Export_shows_the_editor_content_as_yaml_with_copy_and_download()
    {
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.TwoJobs));
        await Field(Group(cut, "Job lint"), "Command 1").InputAsync(new() { Value = "ruff check\nruff format --check" });

        Button(cut, "Export YAML").Click();

        var dialog = cut.WaitForElement("[role=dialog]", WaitTimeout);
        var yaml = Field(dialog, "YAML").GetAttribute("value") ?? Field(dialog, "YAML").TextContent;
        Assert.Equal(BuildSettingsYaml.ToYaml(new(["restore"],
            [new("test", ["unit", "integration"]), new("lint", ["ruff check\nruff format --check"])], ["upload"])), yaml);
        Assert.Contains("This includes changes that are not saved yet.", dialog.TextContent);
        Assert.NotNull(Button(dialog, "Copy"));
        Assert.StartsWith("data:text/yaml", Button(dialog, "Download").GetAttribute("href"));
    }

    [Fact]
    public async Task Saving_reports_what_was_saved_to_the_host()
    {
        BuildSettings? reported = null;
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.OneJob("test")), s => reported = s);

        await Field(Group(cut, "Job test"), "Command 1").InputAsync(new() { Value = "make check" });
        await Button(cut, "Save").ClickAsync(Press);

        Assert.Equal(["make check"], Assert.Single(reported!.Jobs).Commands);
    }
}

public sealed class BuildSettingsEditorViewerTests : EditorHarness
{
    protected override bool CanWrite => false;

    [Fact]
    public async Task Someone_without_the_write_role_sees_the_settings_read_only()
    {
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.TwoJobs));

        Assert.Contains("changing them needs the member or admin role", cut.Markup);
        Assert.True(Field(Group(cut, "Job test"), "Job name").HasAttribute("readonly"));
        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Trim() is "Save" or "Edit YAML" or "Add job");
        Assert.NotNull(Button(cut, "Export YAML"));
    }
}
