using Bunit;
using Kaizen.Portal.Builds;
using Microsoft.AspNetCore.Components.Web;

namespace Kaizen.Portal.Tests.Components.Settings;

/// <summary>Settings with blocks and pipeline options in the editor: shown read-only, kept as they are when the rest is saved.</summary>
public sealed class PipelineEditorTests : EditorHarness
{
    private static readonly MouseEventArgs Press = new();

    private static readonly BuildSettings WithBlocks = new(["echo setup"], [], ["echo end"],
        Blocks:
        [
            new BlockSettings("lint", [new JobSettings("flake8", ["flake8 ."])]),
            new BlockSettings("test", [new JobSettings("unit", ["pytest"]) with { Matrix = [new MatrixAxis("PY", ["3.11", "3.12"])] }],
                Dependencies: [], When: new WhenSettings(Changed: ["src/"])),
            new BlockSettings("deploy", [new JobSettings("ship", ["serverless deploy"])], Dependencies: ["lint", "test"]),
        ],
        TimeLimit: "20m", FailFast: true, AutoCancel: true);

    [Fact]
    public async Task Blocks_show_read_only_and_saving_a_setup_change_keeps_them()
    {
        var cut = RenderEditor(await ProjectWithAsync(WithBlocks));

        var blocks = Group(cut, "Blocks");
        Assert.Contains("shows read-only", blocks.TextContent);
        Assert.Contains("Runs after lint, test passed.", blocks.QuerySelector("[data-block=deploy]")!.TextContent);
        Assert.Contains("PY [3.11, 3.12] (2 jobs)", blocks.QuerySelector("[data-block=test]")!.TextContent);
        Assert.Contains("Only when src/ changed.", blocks.QuerySelector("[data-block=test]")!.TextContent);
        Assert.Contains("on: a failed job stops the rest of the build", Group(cut, "Pipeline options").TextContent);
        Assert.DoesNotContain(cut.FindAll("[role=group]"), g => g.GetAttribute("aria-label") == "Jobs");
        Assert.DoesNotContain("Add at least one job", cut.Markup);
        Assert.True(IsDisabled(Button(cut, "Save")), "nothing changed yet");

        await Field(Group(cut, "Setup commands"), "Command 1").InputAsync(new() { Value = "echo changed" });
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = await SavedSettingsAsync();
        Assert.Equal(["echo changed"], saved.Setup);
        Assert.Equal(BuildSettingsYaml.ToYaml(WithBlocks with { Setup = ["echo changed"] }), BuildSettingsYaml.ToYaml(saved));
    }

    [Fact]
    public async Task A_flat_job_keeps_its_variables_matrix_and_limit_when_its_commands_are_edited()
    {
        var job = new JobSettings("test", ["npm test"], Env: new Dictionary<string, string> { ["CI_MODE"] = "full" },
            Matrix: [new MatrixAxis("NODE", ["18", "20"])], TimeLimit: "5m", Prologue: ["nvm use $NODE"]);
        var cut = RenderEditor(await ProjectWithAsync(new BuildSettings([], [job], [])));

        await Field(Group(cut, "Job test"), "Command 1").InputAsync(new() { Value = "npm run test:ci" });
        await Button(cut, "Save").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Build settings saved.", cut.Markup), WaitTimeout);
        var saved = Assert.Single((await SavedSettingsAsync()).Jobs);
        Assert.Equal("full", saved.Env!["CI_MODE"]);
        Assert.Equal(["18", "20"], saved.Matrix![0].Values);
        Assert.Equal("5m", saved.TimeLimit);
        Assert.Equal(["nvm use $NODE"], saved.Prologue);
    }
}
