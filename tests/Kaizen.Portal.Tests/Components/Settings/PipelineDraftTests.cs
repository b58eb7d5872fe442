using System.Text.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Settings;

namespace Kaizen.Portal.Tests.Components.Settings;

/// <summary>The editor's draft of blocks, matrices, conditions, variables and limits: it gives back what it was given,
/// and its changes (split into blocks, rename, move, remove) keep what each block runs after.</summary>
public sealed class PipelineDraftTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly JobSettings Matrixed = new("unit", ["pytest"],
        Env: new Dictionary<string, string> { ["MODE"] = "full", ["EMPTY"] = "" },
        Prologue: ["pip install -r requirements.txt"], Epilogue: ["rm -rf .cache"],
        Matrix: [new MatrixAxis("PY", ["3.11", "3.12"]), new MatrixAxis("DB", ["sqlite", "postgres"])],
        When: new WhenSettings(Branch: ["main", "release/*"], PullRequest: false), TimeLimit: "15m");

    public static TheoryData<string, BuildSettings> Settings => new()
    {
        { "flat with everything", new BuildSettings(["echo setup"], [Matrixed, new JobSettings("lint", ["ruff ."])], ["echo end"],
            Image: "python:3.12-slim", Env: new Dictionary<string, string> { ["CI"] = "1", ["URL"] = "http://x/?a=b" },
            TimeLimit: "20m", BuildTimeLimit: "2h", FailFast: true, AutoCancel: false) },
        { "blocks with written and unwritten dependencies", new BuildSettings([], [], [],
            Blocks:
            [
                new BlockSettings("lint", [new JobSettings("flake8", ["flake8 ."])]),
                new BlockSettings("test", [Matrixed], Dependencies: [], When: new WhenSettings(Changed: ["src/"], Tag: ["v*"]),
                    Prologue: ["checkout"], Epilogue: ["cache store"], Env: new Dictionary<string, string> { ["STAGE"] = "test" }),
                new BlockSettings("package", [new JobSettings("wheel", ["python -m build"])]),
                new BlockSettings("deploy", [new JobSettings("ship", ["serverless deploy"]) with { When = new WhenSettings(PullRequest: true) }],
                    Dependencies: ["lint", " package"]),
            ]) },
        { "empty lists and false options as written", new BuildSettings([], [], [],
            Blocks: [new BlockSettings("only", [new JobSettings("a", ["true"], Prologue: [], Env: new Dictionary<string, string>())], Dependencies: [], Prologue: [])],
            Env: new Dictionary<string, string>(), FailFast: false, AutoCancel: false) },
        { "invalid settings as loaded", new BuildSettings([], [], [],
            Blocks:
            [
                new BlockSettings("a", [new JobSettings("x", ["true"], TimeLimit: "ten minutes", Matrix: [])], Dependencies: ["nowhere"]),
                new BlockSettings("a", [], When: new WhenSettings()),
            ], TimeLimit: "forever") },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void The_draft_of_settings_the_form_does_not_touch_saves_them_exactly_as_they_were(string what, BuildSettings settings)
    {
        var draft = BuildSettingsDraft.From(settings);

        var back = draft.ToSettings();

        Assert.True(JsonSerializer.Serialize(settings, Json) == JsonSerializer.Serialize(back, Json), what);
        Assert.Equal(BuildSettingsYaml.ToYaml(settings), BuildSettingsYaml.ToYaml(back));
        Assert.True(draft.Matches(settings), what);
    }

    [Fact]
    public void Options_typed_in_the_form_become_the_settings_keys()
    {
        var draft = BuildSettingsDraft.From(new BuildSettings([], [new JobSettings("test", ["npm test"])], []));

        draft.TimeLimit = " 10m ";
        draft.FailFast = true;
        draft.Env = "NODE_ENV=test\nURL=https://example.com/?a=b\n\n";
        var job = draft.Jobs[0];
        job.TimeLimit = "5m";
        job.Env = "CI_MODE=full";
        job.Matrix = "NODE: 18, 20\nOS: linux";
        job.When.Branch = "main, release/*";
        job.When.Changed = "src/";
        job.When.PullRequest = false;
        job.Prologue.Add(new CommandDraft("nvm use $NODE"));

        var settings = draft.ToSettings();

        Assert.Empty(settings.Validate());
        Assert.Equal("10m", settings.TimeLimit);
        Assert.True(settings.FailFast);
        Assert.Null(settings.AutoCancel);
        Assert.Equal(new Dictionary<string, string> { ["NODE_ENV"] = "test", ["URL"] = "https://example.com/?a=b" }, settings.Env);
        var saved = Assert.Single(settings.Jobs);
        Assert.Equal("5m", saved.TimeLimit);
        Assert.Equal("full", saved.Env!["CI_MODE"]);
        Assert.Equal(["NODE", "OS"], saved.Matrix!.Select(a => a.Name));
        Assert.Equal(["18", "20"], saved.Matrix![0].Values);
        Assert.Equal(["main", "release/*"], saved.When!.Branch);
        Assert.Equal(["src/"], saved.When.Changed);
        Assert.False(saved.When.PullRequest);
        Assert.Null(saved.When.Tag);
        Assert.Equal(["nvm use $NODE"], saved.Prologue);
        Assert.Equal(["test (NODE=18, OS=linux)", "test (NODE=20, OS=linux)"], Pipeline.Expand(settings).Select(j => j.Name));
    }

    [Fact]
    public void Emptying_an_option_in_the_form_leaves_it_out()
    {
        var draft = BuildSettingsDraft.From(new BuildSettings([], [Matrixed], [], TimeLimit: "20m", FailFast: true,
            Env: new Dictionary<string, string> { ["A"] = "1" }));

        draft.TimeLimit = "";
        draft.FailFast = false;
        draft.Env = " ";
        var job = draft.Jobs[0];
        job.TimeLimit = job.Env = job.Matrix = job.When.Branch = "";
        job.When.PullRequest = null;
        job.Prologue.Clear();

        var settings = draft.ToSettings();

        Assert.Null(settings.TimeLimit);
        Assert.False(settings.FailFast);
        Assert.Null(settings.Env);
        var saved = Assert.Single(settings.Jobs);
        Assert.Null(saved.TimeLimit);
        Assert.Null(saved.Env);
        Assert.Null(saved.Matrix);
        Assert.Null(saved.When);
        Assert.Null(saved.Prologue);
        Assert.Equal(["rm -rf .cache"], saved.Epilogue);
    }

    [Fact]
    public void Splitting_into_blocks_and_adding_one_makes_it_run_after_the_first()
    {
        var draft = BuildSettingsDraft.From(new BuildSettings([], [new JobSettings("test", ["make test"]), new JobSettings("lint", ["make lint"])], []));

        var first = draft.SplitIntoBlocks();
        var second = draft.AddBlock();
        second.Name = "deploy-check";
        second.Jobs[0].Name = "check";
        second.Jobs[0].Commands[0].Text = "./check.sh";

        var settings = draft.ToSettings();
        Assert.Empty(settings.Validate());
        Assert.Empty(settings.Jobs);
        Assert.Equal(["Build", "deploy-check"], settings.Blocks!.Select(b => b.Name));
        Assert.Equal(["test", "lint"], settings.Blocks![0].Jobs.Select(j => j.Name));
        Assert.Null(settings.Blocks[0].Dependencies);
        Assert.Equal(["Build"], settings.Blocks[1].Dependencies);
        Assert.Equal([first], draft.RunsAfter(second));

        // Renaming the first block keeps the second pointing at it.
        first.Name = "compile";
        Assert.Equal(["compile"], draft.ToSettings().Blocks![1].Dependencies);
    }

    [Fact]
    public void One_block_without_options_of_its_own_goes_back_to_a_plain_list_of_jobs()
    {
        var flat = new BuildSettings([], [new JobSettings("test", ["make test"], Env: new Dictionary<string, string> { ["CI"] = "1" }), new JobSettings("lint", ["make lint"])], []);
        var draft = BuildSettingsDraft.From(flat);
        Assert.Equal("The jobs are one list already.", draft.WhyNotOneList());

        draft.SplitIntoBlocks();
        Assert.Null(draft.WhyNotOneList());
        Assert.True(draft.BackToOneList());

        Assert.False(draft.HasBlocks);
        Assert.Equal(JsonSerializer.Serialize(flat, Json), JsonSerializer.Serialize(draft.ToSettings(), Json));

        // A block with its own variables or condition keeps them: it stays a block and says why.
        var withOptions = BuildSettingsDraft.From(new BuildSettings([], [], [], Blocks:
            [new BlockSettings("b", [new JobSettings("1", ["true"])], Env: new Dictionary<string, string> { ["A"] = "1" }, When: new WhenSettings(Branch: ["main"]))]));
        Assert.Equal("The block's variables and condition would have nowhere to go: move them to its jobs or the settings first.", withOptions.WhyNotOneList());
        Assert.False(withOptions.BackToOneList());
        Assert.True(withOptions.HasBlocks);
        var two = BuildSettingsDraft.From(new BuildSettings([], [], [], Blocks:
            [new BlockSettings("a", [new JobSettings("1", ["true"])]), new BlockSettings("b", [new JobSettings("2", ["true"])])]));
        Assert.Equal("Remove the other blocks first.", two.WhyNotOneList());
    }

    [Fact]
    public void Moving_a_block_keeps_what_each_block_runs_after()
    {
        var draft = BuildSettingsDraft.From(new BuildSettings([], [], [], Blocks:
        [
            new BlockSettings("a", [new JobSettings("1", ["true"])]),
            new BlockSettings("b", [new JobSettings("2", ["true"])]),
            new BlockSettings("c", [new JobSettings("3", ["true"])], Dependencies: []),
        ]));
        var before = Pipeline.Blocks(draft.ToSettings()).ToDictionary(b => b.Name!, b => b.Needs);

        Assert.True(draft.MoveBlock(1, -1));

        var settings = draft.ToSettings();
        Assert.Equal(["b", "a", "c"], settings.Blocks!.Select(b => b.Name));
        Assert.Empty(settings.Validate());
        Assert.All(Pipeline.Blocks(settings), b => Assert.Equal(before[b.Name!], b.Needs));
        Assert.False(draft.MoveBlock(0, -1));
    }

    [Fact]
    public void Removing_a_block_frees_the_blocks_that_ran_after_it_and_says_which()
    {
        var draft = BuildSettingsDraft.From(new BuildSettings([], [], [], Blocks:
        [
            new BlockSettings("build", [new JobSettings("1", ["true"])]),
            new BlockSettings("test", [new JobSettings("2", ["true"])]),
            new BlockSettings("deploy", [new JobSettings("3", ["true"])], Dependencies: ["build", "test"]),
            new BlockSettings("docs", [new JobSettings("4", ["true"])], Dependencies: ["build"]),
        ]));

        var dependants = draft.RemoveBlock(0);

        Assert.Equal(["test", "deploy", "docs"], dependants.Select(b => b.Name));
        var settings = draft.ToSettings();
        Assert.Empty(settings.Validate());
        Assert.Equal([[], ["test"], []], settings.Blocks!.Select(b => b.Dependencies!.ToArray()));
    }

    [Fact]
    public void Problems_of_limits_variables_matrices_conditions_and_blocks_are_put_on_their_fields_in_plain_words()
    {
        var draft = BuildSettingsDraft.From(new BuildSettings([], [], [], Blocks:
        [
            new BlockSettings("build", [new JobSettings("compile", ["make"])]),
            new BlockSettings("test", [new JobSettings("unit", ["make test"])]),
        ]));
        draft.TimeLimit = "ten minutes";
        draft.BuildTimeLimit = "100h";
        draft.Env = "1X=a\nnot a variable";
        var unit = draft.Blocks[1].Jobs[0];
        unit.Matrix = "NODE: 18, 18";
        unit.When.Branch = " , ";
        unit.When.Tag = "v*";
        draft.Blocks[1].Name = "build";

        var problems = draft.Validate();

        Assert.Equal("'ten minutes' is not a time limit; write it as 90s, 10m, 1h or 1h30m.", problems.Of(DraftProblems.TimeLimitField, DraftProblems.TimeLimitOf));
        Assert.Contains("longer than the most allowed, 72 h", problems.Of(DraftProblems.BuildTimeLimitField, DraftProblems.TimeLimitOf));
        Assert.StartsWith("Line 2: write NAME=value. '1X' is not a variable name", problems.Of(DraftProblems.EnvField, DraftProblems.EnvOf));
        Assert.Equal("A value appears twice.", problems.Of(unit, DraftProblems.MatrixOf));
        Assert.Equal("Another block is already named 'build'.", problems.Of(draft.Blocks[1], DraftProblems.NameOf));
        Assert.Contains("The time limit per job: 'ten minutes' is not a time limit; write it as 90s, 10m, 1h or 1h30m.", problems.Summary);
        Assert.Contains("The matrix of job unit: A value appears twice.", problems.Summary);
        Assert.Contains("The name of block build: Another block is already named 'build'.", problems.Summary);
        Assert.DoesNotContain(problems.Summary, p => p.Contains("blocks[", StringComparison.Ordinal) || p.Contains("jobs[", StringComparison.Ordinal));

        draft.Env = "KAIZEN_TOKEN=a";
        Assert.Equal("Names starting with KAIZEN_ are the runner's own; choose another name.", draft.Validate().Of(DraftProblems.EnvField, DraftProblems.EnvOf));
    }

    [Fact]
    public void A_dependency_naming_no_block_is_said_on_the_block_and_checking_a_block_writes_the_list_anew()
    {
        var draft = BuildSettingsDraft.From(new BuildSettings([], [], [], Blocks:
        [
            new BlockSettings("a", [new JobSettings("1", ["true"])]),
            new BlockSettings("b", [new JobSettings("2", ["true"])], Dependencies: ["a", "nowhere"]),
        ]));

        Assert.Equal("No block is named 'nowhere' (the blocks are a, b).", draft.Validate().Of(draft.Blocks[1], DraftProblems.DependenciesOf));
        Assert.Equal(["a", "nowhere"], draft.ToSettings().Blocks![1].Dependencies);

        draft.SetRunsAfter(draft.Blocks[1], draft.Blocks[0], true);

        Assert.Equal(["a"], draft.ToSettings().Blocks![1].Dependencies);
        Assert.False(draft.Validate().Any);
    }

    [Fact]
    public void A_circle_of_dependencies_and_a_block_without_jobs_are_said_on_the_block()
    {
        var draft = BuildSettingsDraft.From(new BuildSettings([], [], [], Blocks:
        [
            new BlockSettings("a", [new JobSettings("1", ["true"])], Dependencies: ["b"]),
            new BlockSettings("b", [new JobSettings("2", ["true"])]),
        ]));

        var problems = draft.Validate();
        Assert.Equal("The dependencies go round in a circle (a → b → a); a block cannot wait for itself.", problems.Of(draft.Blocks[0], DraftProblems.DependenciesOf));

        draft.SetRunsAfter(draft.Blocks[0], draft.Blocks[1], false);
        draft.Blocks[1].Jobs.Clear();
        problems = draft.Validate();
        Assert.Null(problems.Of(draft.Blocks[0], DraftProblems.DependenciesOf));
        Assert.Equal("A block needs at least one job.", problems.Of(draft.Blocks[1], DraftProblems.JobsOf));
        Assert.Equal(["Block b: A block needs at least one job."], problems.Summary);
    }
}
