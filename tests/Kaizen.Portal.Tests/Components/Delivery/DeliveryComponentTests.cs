using Bunit;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Delivery;
using Kaizen.Portal.Components.Pages.Delivery;
using Kaizen.Portal.Components.Shared;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Delivery;

/// <summary>The Servers tab: its empty state, adding a server through the dialog, and what each server shows.</summary>
public sealed class DeliveryServersTabTests : DeliveryHarness
{
    private static readonly MouseEventArgs Press = new();

    private async Task<Kaizen.Portal.Projects.ProjectRow> ProjectAsync() => (await Db.Projects.FindBySlugAsync("shop"))!;

    [Fact]
    public async Task Without_servers_the_tab_says_what_to_do_and_offers_to_add_one()
    {
        var cut = RenderInLayout<ServersPanel>(("Project", await ProjectAsync()));

        cut.WaitForAssertion(() => Assert.Contains("No servers yet: add staging or production to deploy passed builds.", cut.Markup), WaitTimeout);
        Assert.Single(Buttons(cut, "Add server"));
    }

    [Fact]
    public async Task A_viewer_sees_the_empty_state_without_the_add_button()
    {
        SignIn("vic", "viewer");
        var cut = RenderInLayout<ServersPanel>(("Project", await ProjectAsync()));

        cut.WaitForAssertion(() => Assert.Contains("No servers yet", cut.Markup), WaitTimeout);
        Assert.Empty(Buttons(cut, "Add server"));
        Assert.Contains("Admins and members add servers.", cut.Markup);
    }

    [Fact]
    public async Task The_dialog_shows_what_is_wrong_and_adds_the_server_once_it_is_right()
    {
        var cut = RenderInLayout<ServersPanel>(("Project", await ProjectAsync()));
        cut.WaitForAssertion(() => Assert.Single(Buttons(cut, "Add server")), WaitTimeout);
        var opening = ClickAsync(cut, () => Button(cut, "Add server"));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[role=dialog]")), WaitTimeout);

        // No name and no command: both rules, in the words of ServerSpec.Validate.
        await ClickAsync(cut, () => DialogButton(cut, "Add server"));
        cut.WaitForAssertion(() => Assert.Contains("Add at least one deploy command.", cut.Find("[role=dialog] [role=alert]").TextContent), WaitTimeout);
        Assert.Contains("A server name is 1 to 50 letters", cut.Find("[role=dialog] [role=alert]").TextContent);
        Assert.Empty(await Store.ServersAsync(ProjectId));

        await TypeAsync(cut, () => Field(cut.Find("[role=dialog]"), "Name"), "production");
        await TypeAsync(cut, () => Field(cut.Find("[role=dialog]"), "Command 1"), "./deploy.sh production");
        await TypeAsync(cut, () => Field(cut.Find("[role=dialog]"), "Approvals needed"), "1");
        await ClickAsync(cut, () => DialogButton(cut, "Add server"));
        await opening.WaitAsync(WaitTimeout);

        var server = Assert.Single(await Store.ServersAsync(ProjectId));
        Assert.Equal(("production", 1, TriggerMode.Manual, Deployers.Members), (server.Name, server.Approvals, server.TriggerMode, server.Deployers));
        Assert.Equal(["./deploy.sh production"], server.Commands);
        cut.WaitForAssertion(() => Assert.Contains("manual from any branch · 1 approval · members and admins",
            cut.Find("[data-server=production]").TextContent), WaitTimeout);
        var audit = Services.GetRequiredService<AuditLog>();
        Assert.Equal(AuditActions.ServerCreated, Assert.Single(await audit.NewestAsync(10)).Action);
    }

    [Fact]
    public async Task A_member_cannot_add_a_server_that_needs_approvals_and_reads_why_in_the_form()
    {
        SignIn("mia", "member");
        var cut = RenderInLayout<ServersPanel>(("Project", await ProjectAsync()));
        cut.WaitForAssertion(() => Assert.Single(Buttons(cut, "Add server")), WaitTimeout);
        _ = ClickAsync(cut, () => Button(cut, "Add server"));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[role=dialog]")), WaitTimeout);

        await TypeAsync(cut, () => Field(cut.Find("[role=dialog]"), "Name"), "production");
        await TypeAsync(cut, () => Field(cut.Find("[role=dialog]"), "Command 1"), "./deploy.sh");
        await TypeAsync(cut, () => Field(cut.Find("[role=dialog]"), "Approvals needed"), "2");
        await ClickAsync(cut, () => DialogButton(cut, "Add server"));

        cut.WaitForAssertion(() => Assert.Contains("Only admins may change a server that needs approvals",
            cut.Find("[role=dialog] [role=alert]").TextContent), WaitTimeout);
        Assert.Empty(await Store.ServersAsync(ProjectId));
    }

    [Fact]
    public async Task Each_server_shows_its_rules_its_cordon_what_runs_now_and_its_newest_deploy_live()
    {
        var staging = await AddServerAsync("staging", branch: "develop, main");
        var production = await AddServerAsync("production", approvals: 2, deployers: Deployers.Admins);
        await Service.SetCordonAsync(production, true, "freeze until Monday", new Actor("admin", "admin"));
        var cut = RenderInLayout<ServersPanel>(("Project", await ProjectAsync()));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-server=production]")), WaitTimeout);

        var prod = cut.Find("[data-server=production]");
        Assert.Contains("manual from any branch · 2 approvals · admins only", prod.TextContent);
        Assert.Contains("cordoned: freeze until Monday", prod.QuerySelector("[data-cordoned]")!.TextContent);
        Assert.Contains("Nothing deployed yet.", prod.TextContent);
        Assert.Contains("manual from develop, main · no approval needed · members and admins", cut.Find("[data-server=staging]").TextContent);
        Assert.Null(cut.Find("[data-server=staging]").QuerySelector("[data-cordoned]"));

        // A deploy to staging appears without a reload, with its status.
        var deploy = await RequestAsync(staging.Name, "mia");
        cut.WaitForAssertion(() => Assert.Equal(DeployStatus.Running,
            cut.Find("[data-server=staging] .kz-status").GetAttribute("data-status")), WaitTimeout);
        Assert.Contains($"#{deploy.Id}", cut.Find("[data-server=staging] a[href='/deploys/" + deploy.Id + "']").GetAttribute("aria-label"));
    }

    private static AngleSharp.Dom.IElement DialogButton(IRenderedComponent<Bunit.Rendering.ContainerFragment> cut, string name) =>
        cut.Find("[role=dialog]").QuerySelectorAll("button").Single(b => b.TextContent.Trim() == name);
}

/// <summary>The deploy page and the approvals inbox: who may decide, and why the others may not.</summary>
public sealed class DeliveryApprovalPagesTests : DeliveryHarness
{
    private static readonly MouseEventArgs Press = new();

    [Fact]
    public async Task The_requester_sees_the_deploy_waiting_and_cannot_approve_it_with_the_reason_shown()
    {
        await AddServerAsync("production", approvals: 1);
        var deploy = await RequestAsync("production", "mia");
        SignIn("mia", "member");

        var cut = RenderInLayout<DeployPage>(("Id", deploy.Id));

        cut.WaitForAssertion(() => Assert.Equal("awaiting approval", cut.Find("[data-testid=deploy-status] .kz-status").TextContent.Trim()), WaitTimeout);
        Assert.True(Button(cut, $"Approve deploy #{deploy.Id}").HasAttribute("disabled"));
        Assert.True(Button(cut, $"Reject deploy #{deploy.Id}").HasAttribute("disabled"));
        Assert.Contains("You requested this deploy; someone else must approve it.", cut.Find("[data-testid=why-not-decide]").TextContent);
        Assert.Contains("0 of 1 approval given; 1 more needed.", cut.Find("[data-field=approvals]").TextContent);
        Assert.False(Button(cut, $"Cancel deploy #{deploy.Id}").HasAttribute("disabled"));
        Assert.Contains("The log appears here once the deploy is approved and starts.", cut.Markup);
    }

    [Fact]
    public async Task A_viewer_reads_why_they_cannot_decide()
    {
        await AddServerAsync("production", approvals: 1);
        var deploy = await RequestAsync("production", "mia");
        SignIn("vic", "viewer");

        var cut = RenderInLayout<DeployPage>(("Id", deploy.Id));

        cut.WaitForAssertion(() => Assert.Contains("Viewers cannot approve deploys.", cut.Markup), WaitTimeout);
        Assert.True(Button(cut, $"Approve deploy #{deploy.Id}").HasAttribute("disabled"));
        Assert.True(Button(cut, $"Cancel deploy #{deploy.Id}").HasAttribute("disabled"));
    }

    [Fact]
    public async Task Another_member_approves_with_a_comment_and_the_deploy_starts()
    {
        await AddServerAsync("production", approvals: 1);
        var deploy = await RequestAsync("production", "mia");
        SignIn("noor", "member");
        var cut = RenderInLayout<DeployPage>(("Id", deploy.Id));
        cut.WaitForAssertion(() => Assert.False(Button(cut, $"Approve deploy #{deploy.Id}").HasAttribute("disabled")), WaitTimeout);

        await TypeAsync(cut, () => Field(cut.Find($"[role=group][aria-label='Decide on deploy #{deploy.Id}']"), "Comment (optional)"), "ship it");
        await ClickAsync(cut, () => Button(cut, $"Approve deploy #{deploy.Id}"));

        cut.WaitForAssertion(() => Assert.Equal(DeployStatus.Running,
            cut.Find("[data-testid=deploy-status] .kz-status").GetAttribute("data-status")), WaitTimeout);
        Assert.Contains("ship it", cut.Find("[data-decision=noor]").TextContent);
        Assert.Contains("1 of 1 approval given.", cut.Find("[data-field=approvals]").TextContent);
        var details = (await Service.DetailsAsync(deploy.Id))!;
        Assert.NotNull(details.Deploy.JobId);
        Assert.Empty(Buttons(cut, $"Approve deploy #{deploy.Id}"));
    }

    [Fact]
    public async Task The_inbox_lists_what_waits_for_this_person_and_empties_when_they_reject_it()
    {
        await AddServerAsync("production", approvals: 1);
        var deploy = await RequestAsync("production", "mia");

        SignIn("mia", "member");
        var own = RenderInLayout<ApprovalsPage>();
        own.WaitForAssertion(() => Assert.Contains("Nothing waits for your approval.", own.Markup), WaitTimeout);
        await DisposeComponentsAsync();

        SignIn("noor", "member");
        var cut = RenderInLayout<ApprovalsPage>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find($"[data-deploy='{deploy.Id}']")), WaitTimeout);
        var card = cut.Find($"[data-deploy='{deploy.Id}']");
        Assert.Contains("production", card.TextContent);
        Assert.Contains($"Build #{PassedBuildId}", card.TextContent);
        Assert.Contains("requested by mia", card.TextContent);

        await ClickAsync(cut, () => Button(cut, $"Reject deploy #{deploy.Id}"));

        cut.WaitForAssertion(() => Assert.Contains("Nothing waits for your approval.", cut.Markup), WaitTimeout);
        Assert.Equal(DeployStatus.Rejected, (await Store.FindDeployAsync(deploy.Id))!.Status);
    }

    [Fact]
    public async Task The_approvals_link_counts_what_waits_and_hides_the_count_at_zero()
    {
        SignIn("noor", "member");
        var cut = RenderInLayout<ApprovalsNavLink>();
        cut.WaitForAssertion(() => Assert.Single(Buttons(cut, "Approvals")), WaitTimeout);

        await AddServerAsync("production", approvals: 1);
        var deploy = await RequestAsync("production", "mia");

        cut.WaitForAssertion(() => Assert.Single(Buttons(cut, "Approvals: 1 waiting")), WaitTimeout);
        await Service.CancelAsync(deploy.Id, new Actor("mia", "member"));
        cut.WaitForAssertion(() => Assert.Single(Buttons(cut, "Approvals")), WaitTimeout);
    }
}

/// <summary>Deploy to… on a build, and the server page's history with its one-click redeploy.</summary>
public sealed class DeliveryBuildAndServerTests : DeliveryHarness
{
    private static readonly MouseEventArgs Press = new();

    [Fact]
    public async Task Servers_that_refuse_the_build_or_the_person_are_disabled_with_the_reason()
    {
        await AddServerAsync("staging");
        await AddServerAsync("production", deployers: Deployers.Admins);
        await AddServerAsync("nightly", branch: "develop");
        var build = (await Db.Builds.FindAsync(PassedBuildId))!;
        var member = new Actor("mia", "member");
        var servers = (await Store.ServersAsync(ProjectId)).ToDictionary(s => s.Name);

        Assert.Null(DeployToMenu.WhyNot(build, servers["staging"], member));
        Assert.Equal("Only admins may deploy to production.", DeployToMenu.WhyNot(build, servers["production"], member));
        Assert.Equal($"nightly deploys builds of develop only; build {build.Id} is of main.", DeployToMenu.WhyNot(build, servers["nightly"], member));
        Assert.Equal("Viewers cannot deploy.", DeployToMenu.WhyNot(build, servers["staging"], new Actor("vic", "viewer")));
        Assert.Null(DeployToMenu.WhyNot(build, servers["production"], new Actor("ada", "admin")));
    }

    [Fact]
    public async Task The_history_lists_deploys_newest_first_and_redeploys_an_earlier_one_as_a_rollback()
    {
        var staging = await AddServerAsync("staging");
        var first = await RequestAsync("staging", "mia");
        await FinishAsync(first);
        var newerBuild = await Db.CreateBuildAsync(ProjectId, TestDatabase.OneJob());
        var runnerId = await Db.RegisterRunnerAsync("runner-2");
        var job = await Db.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds);
        await Db.Runners.CompleteAsync(runnerId, job!.JobId, job.LeaseToken, Runner.Protocol.JobOutcome.Passed, 0, null);
        var second = (await Service.RequestAsync(newerBuild, "staging", new Actor("mia", "member"))).Value!;
        await FinishAsync(second);

        SignIn("mia", "member");
        var navigation = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        var cut = RenderInLayout<ServerPage>(("Slug", "shop"), ("Name", "staging"));
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("tr[data-deploy]").Count), WaitTimeout);

        Assert.Equal([second.Id.ToString(), first.Id.ToString()], cut.FindAll("tr[data-deploy]").Select(r => r.GetAttribute("data-deploy")!));
        Assert.Contains($"Build #{newerBuild}", cut.Find("[data-field=current]").TextContent);
        Assert.Empty(Buttons(cut, $"Redeploy build #{newerBuild}"));
        await ClickAsync(cut, () => Button(cut, $"Redeploy build #{PassedBuildId}"));

        var rollback = (await Store.DeploysOfServerAsync(staging.Id, 10))[0];
        Assert.Equal((PassedBuildId, DeployTrigger.Rollback), (rollback.BuildId, rollback.TriggerKind));
        Assert.EndsWith($"/deploys/{rollback.Id}", navigation.Uri);
    }

    [Fact]
    public async Task A_member_may_cordon_a_server_they_deploy_to_but_not_edit_one_that_needs_approvals()
    {
        await AddServerAsync("production", approvals: 1);
        SignIn("mia", "member");
        var cut = RenderInLayout<ServerPage>(("Slug", "shop"), ("Name", "production"));
        cut.WaitForAssertion(() => Assert.Single(Buttons(cut, "Cordon")), WaitTimeout);

        Assert.True(Button(cut, "Edit").HasAttribute("disabled"));
        Assert.True(Button(cut, "Delete").HasAttribute("disabled"));
        var cordoning = ClickAsync(cut, () => Button(cut, "Cordon"));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[role=dialog]")), WaitTimeout);
        await TypeAsync(cut, () => Field(cut.Find("[role=dialog]"), "Reason (optional)"), "incident 42");
        await ClickAsync(cut, () => cut.Find("[role=dialog]").QuerySelectorAll("button").Single(b => b.TextContent.Trim() == "Cordon"));
        await cordoning.WaitAsync(WaitTimeout);

        cut.WaitForAssertion(() => Assert.Contains("cordoned: incident 42", cut.Find("[data-cordoned]").TextContent), WaitTimeout);
        var server = (await Store.FindServerAsync(ProjectId, "production"))!;
        Assert.True(server.Cordoned);
        Assert.Equal("incident 42", server.CordonReason);
        Assert.Single(Buttons(cut, "Uncordon"));
    }

    // The deploy's job ends as a runner would end it: claimed, completed, and the service told.
    private async Task FinishAsync(DeployRow deploy)
    {
        var runnerId = await Db.RegisterRunnerAsync("deployer-" + deploy.Id);
        var job = await Db.Runners.ClaimAsync(runnerId, TestDatabase.LeaseSeconds);
        Assert.NotNull(job);
        await Db.Runners.CompleteAsync(runnerId, job.JobId, job.LeaseToken, Runner.Protocol.JobOutcome.Passed, 0, null);
        await Service.JobFinishedAsync(job.JobId, deploy.BuildId);
        Assert.Equal(DeployStatus.Passed, (await Store.FindDeployAsync(deploy.Id))!.Status);
    }
}

public sealed class DeliveryStatusChipTests : Logs.LogComponentsTestContext
{
    [Theory]
    [InlineData(DeployStatus.AwaitingApproval, "awaiting approval", "mud-chip-color-secondary")]
    [InlineData(DeployStatus.Rejected, "rejected", "mud-chip-color-error")]
    [InlineData(DeployStatus.Queued, "queued", "mud-chip-color-default")]
    public void Deploy_statuses_read_as_words_with_their_own_look(string status, string word, string colour)
    {
        var cut = Render<StatusChip>(p => p.Add(x => x.Status, status));

        var chip = cut.Find(".kz-status");
        Assert.Equal(word, chip.TextContent.Trim());
        Assert.Equal(status, chip.GetAttribute("data-status"));
        Assert.Equal($"status: {word}", chip.GetAttribute("aria-label"));
        Assert.Contains(colour, chip.ClassName);
        Assert.NotEqual(StatusChip.LookOf(Status.Failed).Icon, StatusChip.LookOf(DeployStatus.Rejected).Icon);
    }
}
