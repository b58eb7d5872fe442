using Microsoft.Extensions.DependencyInjection;
using Bunit;
using Kaizen.Portal.Builds;
using Microsoft.AspNetCore.Components.Web;

namespace Kaizen.Portal.Tests.Components.Settings;

/// <summary>Pipeline options, blocks and a job's own options in the editor: changed with the form, checked on their
/// fields, and kept exactly as they were when something else is saved.</summary>
public sealed class PipelineEditorTests : EditorHarness
{
    private static readonly MouseEventArgs Press = new();

    internal static readonly BuildSettings WithBlocks = new(["echo setup"], [], ["echo end"],
        Blocks:
        [
            new BlockSettings("lint", [new JobSettings("flake8", ["flake8 ."])]),
            new BlockSettings("test", [new JobSettings("unit", ["pytest"]) with { Matrix = [new MatrixAxis("PY", ["3.11", "3.12"])] }],
                Dependencies: [], When: new WhenSettings(Changed: ["src/"])),
            new BlockSettings("deploy", [new JobSettings("ship", ["serverless deploy"])], Dependencies: ["lint", "test"]),
        ],
        TimeLimit: "20m", FailFast: true, AutoCancel: true);

    private static bool IsChecked(AngleSharp.Dom.IElement scope, string label) =>
        scope.QuerySelectorAll("label").Single(l => l.TextContent.Trim() == label).QuerySelector("input")!.HasAttribute("checked");

    [Fact]
    public async Task Blocks_show_as_cards_and_saving_a_setup_change_keeps_them_as_written()
    {
        var cut = RenderEditor(await ProjectWithAsync(WithBlocks));

        var deploy = Group(cut, "Block deploy");
        Assert.True(IsChecked(deploy, "lint"));
        Assert.True(IsChecked(deploy, "test"));
        Assert.Contains("Runs once lint and test passed.", deploy.TextContent);
        Assert.Contains("Starts with the build (none checked).", Group(cut, "Block test").TextContent);
        Assert.Equal("20m", Field(Group(cut, "Pipeline options"), "Time limit per job").GetAttribute("value"));
        Assert.Equal("flake8", Field(Group(cut, "Job flake8"), "Job name").GetAttribute("value"));
        Assert.DoesNotContain(cut.FindAll("[role=group]"), g => g.GetAttribute("aria-label") == "Jobs");
        Assert.True(IsDisabled(Button(cut, "Save")), "nothing changed yet");

        await Field(Group(cut, "Setup commands"), "Command 1").InputAsync(new() { Value = "echo changed" });
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = await SavedSettingsAsync();
        Assert.Equal(BuildSettingsYaml.ToYaml(WithBlocks with { Setup = ["echo changed"] }), BuildSettingsYaml.ToYaml(saved));
    }

    [Fact]
    public async Task A_flat_job_keeps_its_variables_matrix_and_limit_when_its_commands_are_edited()
    {
        var job = new JobSettings("test", ["npm test"], Env: new Dictionary<string, string> { ["CI_MODE"] = "full" },
            Matrix: [new MatrixAxis("NODE", ["18", "20"])], TimeLimit: "5m", Prologue: ["nvm use $NODE"]);
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([], [job], [])));

        Assert.Contains("time limit 5m · 1 variable · matrix NODE · prologue", Group(cut, "Job test").TextContent);
        await Field(Group(cut, "Job test"), "Command 1").InputAsync(new() { Value = "npm run test:ci" });
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = Assert.Single((await SavedSettingsAsync()).Jobs);
        Assert.Equal("full", saved.Env!["CI_MODE"]);
        Assert.Equal(["18", "20"], saved.Matrix![0].Values);
        Assert.Equal("5m", saved.TimeLimit);
        Assert.Equal(["nvm use $NODE"], saved.Prologue);
    }

    [Fact]
    public async Task Fail_fast_auto_cancel_a_job_limit_and_variables_set_in_the_form_are_saved()
    {
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([], [new JobSettings("test", ["make test"])], [])));
        var options = Group(cut, "Pipeline options");
        Assert.Equal("60m (default)", Field(options, "Time limit per job").GetAttribute("placeholder"));
        Assert.Equal("none", Field(options, "Time limit of the build").GetAttribute("placeholder"));
        Assert.Contains("The first failed job stops the rest of the build.", options.TextContent);

        await Field(options, "Time limit per job").InputAsync(new() { Value = "10m" });
        await ChangeAsync(cut, () => cut.Find("input[data-testid=fail-fast-switch]"), true);
        await ChangeAsync(cut, () => cut.Find("input[data-testid=auto-cancel-switch]"), true);
        await Field(Group(cut, "Pipeline options"), "Variables").InputAsync(new() { Value = "NODE_ENV=test\nREGION=eu-west-1" });
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = await SavedSettingsAsync();
        Assert.Equal("10m", saved.TimeLimit);
        Assert.True(saved.FailFast);
        Assert.True(saved.AutoCancel);
        Assert.Null(saved.BuildTimeLimit);
        Assert.Equal(new Dictionary<string, string> { ["NODE_ENV"] = "test", ["REGION"] = "eu-west-1" }, saved.Env);
    }

    [Fact]
    public async Task Empty_limits_show_the_operators_defaults_where_the_portal_sets_them()
    {
        Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new KaizenOptions
        {
            Builds = { DefaultJobTimeLimit = "20m", DefaultBuildTimeLimit = "2h" },
        }));
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([], [new JobSettings("test", ["make test"])], [])));

        var options = Group(cut, "Pipeline options");
        Assert.Equal("20m (default)", Field(options, "Time limit per job").GetAttribute("placeholder"));
        Assert.Equal("2h (default)", Field(options, "Time limit of the build").GetAttribute("placeholder"));
    }

    [Fact]
    public async Task A_bad_time_limit_is_said_under_its_field_and_in_the_list_and_nothing_is_saved()
    {
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([], [new JobSettings("test", ["make test"])], [])));

        await Field(Group(cut, "Pipeline options"), "Time limit per job").InputAsync(new() { Value = "ten minutes" });

        Assert.Contains("'ten minutes' is not a time limit; write it as 90s, 10m, 1h or 1h30m.", Group(cut, "Pipeline options").TextContent);
        await Button(cut, "Save").ClickAsync(Press);
        Assert.Contains("The time limit per job: 'ten minutes' is not a time limit", cut.Find("[data-testid=settings-problems]").TextContent);
        Assert.Null((await SavedSettingsAsync()).TimeLimit);
    }

    [Fact]
    public async Task A_jobs_own_options_open_under_More_options_and_a_problem_keeps_them_open()
    {
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([], [new JobSettings("test", ["npm test"])], [])));
        Assert.Empty(cut.FindAll("[aria-label='Options of job test']"));

        await Button(cut, "More options of job test").ClickAsync(Press);
        var options = Group(cut, "Options of job test");
        await Field(options, "Matrix").InputAsync(new() { Value = "NODE 18" });
        await Field(Group(cut, "Options of job test"), "Time limit").InputAsync(new() { Value = "2d" });
        await Field(Group(cut, "Options of job test"), "Branches").InputAsync(new() { Value = "main" });

        options = Group(cut, "Options of job test");
        Assert.Contains("Line 1: write NAME: value, value (e.g. NODE: 18, 20).", options.TextContent);
        Assert.Contains("'2d' is not a time limit", options.TextContent);
        Assert.True(IsDisabled(Button(cut, "More options of job test")), "a problem inside keeps the options open");
        await Button(cut, "Save").ClickAsync(Press);
        Assert.Contains("The matrix of job test: Line 1", cut.Find("[data-testid=settings-problems]").TextContent);

        await Field(Group(cut, "Options of job test"), "Matrix").InputAsync(new() { Value = "NODE: 18, 20" });
        await Field(Group(cut, "Options of job test"), "Time limit").InputAsync(new() { Value = "5m" });
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = Assert.Single((await SavedSettingsAsync()).Jobs);
        Assert.Equal(["18", "20"], saved.Matrix![0].Values);
        Assert.Equal("5m", saved.TimeLimit);
        Assert.Equal(["main"], saved.When!.Branch);
    }

    [Fact]
    public async Task Splitting_into_blocks_and_adding_one_after_the_first_saves_two_blocks()
    {
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([], [new JobSettings("test", ["make test"])], [])));

        await Button(cut, "Split into blocks").ClickAsync(Press);
        Assert.Equal("Build", Field(Group(cut, "Block Build"), "Block name").GetAttribute("value"));
        await Button(cut, "Add block").ClickAsync(Press);
        await Field(Group(cut, "Block 2"), "Block name").InputAsync(new() { Value = "deploy-check" });
        var added = Group(cut, "Block deploy-check");
        Assert.True(IsChecked(added, "Build"));
        await Field(Group(cut, "Job 1 of block deploy-check"), "Job name").InputAsync(new() { Value = "check" });
        await Field(Group(cut, "Job check"), "Command 1").InputAsync(new() { Value = "./check.sh" });
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = await SavedSettingsAsync();
        Assert.Empty(saved.Jobs);
        Assert.Equal(["Build", "deploy-check"], saved.Blocks!.Select(b => b.Name));
        Assert.Equal(["Build"], saved.Blocks![1].Dependencies);
        Assert.Equal(["./check.sh"], saved.Blocks[1].Jobs[0].Commands);
    }

    [Fact]
    public async Task Splitting_into_blocks_and_going_back_to_one_list_saves_the_jobs_as_they_were()
    {
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([], [new JobSettings("test", ["make test"]), new JobSettings("lint", ["make lint"])], [])));
        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Trim() == "Back to one list of jobs");

        await Button(cut, "Split into blocks").ClickAsync(Press);
        await Button(cut, "Back to one list of jobs").ClickAsync(Press);
        Assert.Contains("The jobs are one list again.", cut.Markup);
        Assert.Empty(cut.FindAll("[aria-label=Blocks]"));
        await Field(Group(cut, "Job lint"), "Command 1").InputAsync(new() { Value = "make lint-all" });
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = await SavedSettingsAsync();
        Assert.Null(saved.Blocks);
        Assert.Equal(["test", "lint"], saved.Jobs.Select(j => j.Name));
        Assert.Equal(["make lint-all"], saved.Jobs[1].Commands);
    }

    [Fact]
    public async Task A_single_block_with_a_condition_stays_a_block_and_says_why()
    {
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([], [], [],
            Blocks: [new BlockSettings("only", [new JobSettings("a", ["true"])], When: new WhenSettings(Branch: ["main"]))])));

        var button = cut.FindAll("button").Single(b => b.TextContent.Trim() == "Back to one list of jobs");

        Assert.True(button.HasAttribute("disabled"));
        Assert.Contains("The block's condition would have nowhere to go: move it to its jobs or the settings first.", Group(cut, "Blocks").TextContent);
    }

    [Fact]
    public async Task Renaming_a_block_keeps_the_blocks_after_it_and_removing_it_says_who_no_longer_waits()
    {
        var cut = RenderEditor(await ProjectWithAsync(WithBlocks));

        await Field(Group(cut, "Block lint"), "Block name").InputAsync(new() { Value = "style" });
        Assert.True(IsChecked(Group(cut, "Block deploy"), "style"));
        await ChangeAsync(cut, () => Group(cut, "Block test").QuerySelectorAll("label").Single(l => l.TextContent.Trim() == "deploy").QuerySelector("input")!, true);
        await Button(cut, "Save").ClickAsync(Press);
        Assert.Contains("The dependencies go round in a circle", Group(cut, "Block test").TextContent);
        Assert.Contains("What block test runs after: The dependencies go round in a circle (test → deploy → test)", cut.Find("[data-testid=settings-problems]").TextContent);

        await Button(cut, "Remove block deploy").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.Contains("Removed block deploy. Block test no longer waits for it.", cut.Markup), WaitTimeout);
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = await SavedSettingsAsync();
        Assert.Equal(["style", "test"], saved.Blocks!.Select(b => b.Name));
        Assert.Empty(saved.Blocks![1].Dependencies!);
    }

    [Fact]
    public async Task A_blocks_condition_variables_and_a_jobs_options_inside_it_are_saved_and_moving_it_keeps_what_it_runs_after()
    {
        var cut = RenderEditor(await ProjectWithAsync(WithBlocks));

        await Button(cut, "More options of block deploy").ClickAsync(Press);
        var options = Group(cut, "Options of block deploy");
        await Field(options, "Branches").InputAsync(new() { Value = "main, release/*" });
        await Field(Group(cut, "Options of block deploy"), "Changed paths").InputAsync(new() { Value = "lambda/" });
        await cut.Find("[role=radiogroup][aria-label='Pull requests of block deploy']").QuerySelectorAll("label")
            .Single(l => l.TextContent.Trim() == "Never pull requests").QuerySelector("input")!.ClickAsync(Press);
        await Field(Group(cut, "Options of block deploy"), "Variables").InputAsync(new() { Value = "STAGE=prod" });
        await Button(cut, "More options of job ship").ClickAsync(Press);
        await Field(Group(cut, "Options of job ship"), "Time limit").InputAsync(new() { Value = "30m" });
        await Button(cut, "Move block deploy up").ClickAsync(Press);
        await Button(cut, "Move block deploy up").ClickAsync(Press);
        Assert.True(IsChecked(Group(cut, "Block deploy"), "lint"));
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = await SavedSettingsAsync();
        Assert.Equal(["deploy", "lint", "test"], saved.Blocks!.Select(b => b.Name));
        var deploy = saved.Blocks![0];
        Assert.Equal(["lint", "test"], deploy.Dependencies);
        Assert.Equal(["main", "release/*"], deploy.When!.Branch);
        Assert.Equal(["lambda/"], deploy.When.Changed);
        Assert.False(deploy.When.PullRequest);
        Assert.Equal("prod", deploy.Env!["STAGE"]);
        Assert.Equal("30m", deploy.Jobs[0].TimeLimit);
        // lint's dependencies were not written and meant "none" as the first block; they still do.
        Assert.Empty(Pipeline.Blocks(saved)[1].Needs);
    }

    [Fact]
    public async Task Two_jobs_of_the_same_name_in_different_blocks_are_said_on_the_second()
    {
        var cut = RenderEditor(await ProjectWithAsync(WithBlocks));

        await Field(Group(cut, "Job ship"), "Job name").InputAsync(new() { Value = "unit" });
        await Button(cut, "Save").ClickAsync(Press);

        Assert.Contains("Another job is already named 'unit'.", Group(cut, "Block deploy").TextContent);
        Assert.Contains("Two jobs are named 'unit'; rename one.", cut.Find("[data-testid=settings-problems]").TextContent);
        Assert.Equal("ship", (await SavedSettingsAsync()).Blocks![2].Jobs[0].Name);
    }
}

/// <summary>The same settings for someone who may only read them.</summary>
public sealed class PipelineEditorForViewersTests : EditorHarness
{
    protected override bool CanWrite => false;

    [Fact]
    public async Task Someone_without_the_write_role_sees_blocks_and_options_read_only()
    {
        var cut = RenderEditor(await ProjectWithAsync(PipelineEditorTests.WithBlocks));

        var blocks = Group(cut, "Blocks");
        Assert.Contains("Runs after lint, test passed.", blocks.QuerySelector("[data-block=deploy]")!.TextContent);
        Assert.Contains("PY [3.11, 3.12] (2 jobs)", blocks.QuerySelector("[data-block=test]")!.TextContent);
        Assert.Contains("on: a failed job stops the rest of the build", Group(cut, "Pipeline options").TextContent);
        Assert.Empty(cut.FindAll("input[data-testid=fail-fast-switch]"));
        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Trim() is "Add block" or "Split into blocks" or "Save");
    }
}
