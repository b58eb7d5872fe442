using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Delivery;
using Kaizen.Portal.Components.Pages.Delivery;
using Kaizen.Portal.Delivery;

namespace Kaizen.Portal.Tests.Components.Delivery;

/// <summary>What an approver reads before approving: what the deploy will run and what changed since the server's last
/// deploy, line by line.</summary>
public sealed class DeployPlanViewTests : DeliveryHarness
{
    private static DeployPlan Plan(string[] setup, string[] commands, params DeployScript[] scripts) =>
        new(setup, commands, scripts, FromSnapshot: true, new NewJob("deploy to production", []));

    [Fact]
    public void The_approver_sees_what_will_run_and_the_lines_and_script_versions_that_changed_since_the_last_deploy()
    {
        // Arrange: production last ran build 3 (deploy 7); this deploy has a new setup line and a newer script
        var before = Plan(["echo one", "echo same"], ["./deploy.sh"], new DeployScript("release", 2, ScriptSource.Build));
        var after = Plan(["echo two", "echo same"], ["./deploy.sh"], new DeployScript("release", 3, ScriptSource.Build),
            new DeployScript("notify", 1, ScriptSource.Latest));
        var deploy = new DeployRow { Id = 8, BuildId = 4, ServerName = "production", Status = DeployStatus.AwaitingApproval };
        var previous = new DeployRow { Id = 7, BuildId = 3, ServerName = "production", Status = DeployStatus.Passed };
        var preview = new DeployPreview(deploy, after, previous, DeployChanges.Between(before, after));

        // Act
        var cut = RenderInLayout<DeployPlanView>(("Preview", preview));

        // Assert: what will run
        var plan = cut.Find("[data-testid=deploy-plan]");
        Assert.Contains("What will run", plan.TextContent);
        Assert.Contains("Setup (from the build)", plan.TextContent);
        Assert.Contains("echo two", plan.TextContent);
        Assert.Contains("./deploy.sh", plan.TextContent);
        var scripts = cut.Find("[data-testid=plan-scripts]").TextContent;
        Assert.Contains("release@3 · as built", scripts);
        Assert.Contains("notify@1 · newest (not recorded by the build)", scripts);
        Assert.Empty(cut.FindAll("[data-testid=plan-no-snapshot]"));

        // ... and what changed: only the sections that did, with removed and added lines marked
        Assert.Contains("Changed since deploy #7 (build #3)", cut.Find("[data-testid=plan-changes-title]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=plan-diff-commands]"));
        Assert.Equal(["removed echo one", "added echo two", "same echo same"], Lines(cut, "setup"));
        Assert.Equal(["removed release@2", "added notify@1", "added release@3"], Lines(cut, "scripts"));
    }

    [Fact]
    public async Task The_approvals_inbox_shows_what_a_deploy_of_a_build_without_a_snapshot_runs_and_marks_it()
    {
        // Arrange: the harness's build was stored without a snapshot, as builds from before snapshots were
        await AddServerAsync("production", approvals: 1);
        var deploy = await RequestAsync("production", "mia");
        SignIn("noor", "member");

        // Act
        var cut = RenderInLayout<ApprovalsPage>();

        // Assert
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find($"[data-deploy='{deploy.Id}'] [data-testid=deploy-plan]")), WaitTimeout);
        var plan = cut.Find($"[data-deploy='{deploy.Id}'] [data-testid=deploy-plan]").TextContent;
        Assert.Contains("./deploy.sh production", plan);
        Assert.Contains("Setup (the project's current)", plan);
        Assert.Contains("The first deploy to production: everything is new", plan);
        Assert.Contains("was created before builds recorded what they ran with", cut.Find("[data-testid=plan-no-snapshot]").TextContent);
    }

    private static List<string> Lines(IRenderedComponent<Bunit.Rendering.ContainerFragment> cut, string section) =>
        cut.FindAll($"[data-testid=plan-diff-{section}] [data-change]")
            .Select(row => $"{row.GetAttribute("data-change")} {row.QuerySelector("[role=cell]")!.TextContent}").ToList();
}

/// <summary>The build page's "Ran with": the settings and script versions a build recorded, or why it has none.</summary>
public sealed class RanWithTests : DeliveryHarness
{
    [Fact]
    public async Task A_build_shows_the_settings_and_script_versions_it_ran_with()
    {
        // Arrange
        var settings = new BuildSettings(["echo prepare"], [new JobSettings("test", ["run-script lint@2", "pytest"])], ["echo done"]);
        var plan = BuildStore.Plan(ProjectId, settings, "main", new string('a', 40), "a change", "Dev", Trigger.Manual, "admin") with
        {
            Snapshot = new BuildSnapshot(settings, [new SnapshotScript("lint", 2, true), new SnapshotScript("release", 5, false)], 0),
        };
        var buildId = await Db.Builds.CreateAsync(plan);

        // Act
        var cut = RenderInLayout<Kaizen.Portal.Components.Pages.Builds.RanWith>(("BuildId", buildId));
        await ClickAsync(cut, () => cut.Find("[data-testid=ran-with] .mud-expand-panel-header"));

        // Assert
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=snapshot-scripts]")), WaitTimeout);
        var text = cut.Find("[data-testid=ran-with]").TextContent;
        Assert.Contains("echo prepare", text);
        Assert.Contains("pytest", text);
        Assert.Contains("echo done", text);
        var scripts = cut.Find("[data-testid=snapshot-scripts]").TextContent;
        Assert.Contains("lint@2 · pinned", scripts);
        Assert.Contains("release@5", scripts);
        Assert.Empty(cut.FindAll("[data-testid=no-snapshot]"));
    }

    [Fact]
    public async Task A_build_from_before_snapshots_says_its_deploys_run_the_current_setup()
    {
        var cut = RenderInLayout<Kaizen.Portal.Components.Pages.Builds.RanWith>(("BuildId", PassedBuildId));
        await ClickAsync(cut, () => cut.Find("[data-testid=ran-with] .mud-expand-panel-header"));

        cut.WaitForAssertion(() => Assert.Contains("created before builds recorded what they ran with",
            cut.Find("[data-testid=no-snapshot]").TextContent), WaitTimeout);
    }
}
