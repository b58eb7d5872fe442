using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Delivery;

namespace Kaizen.Portal.Tests.Delivery;

/// <summary>Who may deploy and approve, against the real portal and runner: approvals come from someone other than the
/// requester, viewers never deploy, and admins-only servers are for admins.</summary>
public sealed class ApprovalTests(DeliveryPortal fixture) : IClassFixture<DeliveryPortal>
{
    [Fact]
    public async Task A_production_deploy_waits_for_an_approval_by_another_member_then_runs_and_is_audited()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "production", ["echo deploying to production"], approvals: 1);
        var build = await fixture.PassedBuildAsync(slug);

        // Act: a member asks
        var requested = await Deploys.RequestOkAsync(fixture.Member, build.Id, "production");

        // Assert: it waits, even when the portal looks for deploys to start
        Assert.Equal(DeployStatus.AwaitingApproval, requested.Status);
        Assert.Equal(DeliveryPortal.MemberName, requested.RequestedBy);
        Assert.Equal(1, requested.ApprovalsRequired);
        await fixture.Portal.Service<DeployService>().SweepAsync();
        var waiting = await Deploys.GetAsync(fixture.Admin, requested.Id);
        Assert.Equal(DeployStatus.AwaitingApproval, waiting.Status);
        Assert.Null(waiting.JobId);
        Assert.Null(waiting.StartedAt);

        // The requester cannot approve their own deploy, nor can a viewer
        using (var own = await Deploys.ActAsync(fixture.Member, requested.Id, "approve"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
            Assert.Contains("You requested this deploy; someone else must approve it.", await Deploys.ProblemAsync(own));
        }
        using (var byViewer = await Deploys.ActAsync(fixture.Viewer, requested.Id, "approve"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
            Assert.Contains("Viewers cannot approve deploys.", await Deploys.ProblemAsync(byViewer));
        }
        // The approvals inbox shows it to the other member, not to its requester
        var otherInbox = await fixture.OtherMember.GetFromJsonAsync<List<DeployResponse>>("/api/v1/approvals");
        Assert.Contains(otherInbox!, d => d.Id == requested.Id);
        var ownInbox = await fixture.Member.GetFromJsonAsync<List<DeployResponse>>("/api/v1/approvals");
        Assert.DoesNotContain(ownInbox!, d => d.Id == requested.Id);

        // Another member approves: it runs and passes
        using (var approved = await Deploys.ActAsync(fixture.OtherMember, requested.Id, "approve", "looks good"))
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var finished = await Deploys.WaitAsync(fixture.Admin, requested.Id);

        Assert.Equal(DeployStatus.Passed, finished.Status);
        Assert.Equal(1, finished.Approvals);
        var decision = Assert.Single(finished.Decisions!);
        Assert.Equal((DeliveryPortal.OtherMemberName, ApprovalDecision.Approved, "looks good"), (decision.User, decision.Decision, decision.Comment));
        Assert.NotNull(finished.JobId);
        Assert.Contains("deploying to production", await fixture.Admin.GetStringAsync($"/api/v1/deploys/{requested.Id}/log"));
        var inboxAfter = await fixture.OtherMember.GetFromJsonAsync<List<DeployResponse>>("/api/v1/approvals");
        Assert.DoesNotContain(inboxAfter!, d => d.Id == requested.Id);

        var audit = (await fixture.Admin.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=1000"))!
            .Where(e => e.Target == $"project:{slug}/server:production/deploy:{requested.Id}").ToList();
        Assert.Contains(audit, e => e.Action == AuditActions.DeployRequested && e.Actor == DeliveryPortal.MemberName);
        Assert.Contains(audit, e => e.Action == AuditActions.DeployApproved && e.Actor == DeliveryPortal.OtherMemberName);
        Assert.Contains(audit, e => e.Action == AuditActions.DeployStarted);
        Assert.Contains(audit, e => e.Action == AuditActions.DeployFinished && e.Details == DeployStatus.Passed);
    }

    [Fact]
    public async Task A_viewer_cannot_deploy_a_member_cannot_deploy_to_an_admins_server_and_an_admin_can()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", ["true"]);
        await fixture.CreateServerAsync(slug, "vault", ["echo deploying to the vault"], deployers: "admins");
        var build = await fixture.PassedBuildAsync(slug);

        // Act
        using var byViewer = await Deploys.RequestAsync(fixture.Viewer, build.Id, "staging");
        using var byMember = await Deploys.RequestAsync(fixture.Member, build.Id, "vault");
        var byAdmin = await Deploys.RequestOkAsync(fixture.Admin, build.Id, "vault");

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Contains("Viewers cannot deploy.", await Deploys.ProblemAsync(byViewer));
        Assert.Equal(HttpStatusCode.Forbidden, byMember.StatusCode);
        Assert.Contains("Only admins may deploy to vault.", await Deploys.ProblemAsync(byMember));
        Assert.Equal(DeployStatus.Passed, (await Deploys.WaitAsync(fixture.Admin, byAdmin.Id)).Status);
        // Refused requests leave nothing behind.
        var deploys = await fixture.Admin.GetFromJsonAsync<List<DeployResponse>>($"/api/v1/builds/{build.Id}/deploys");
        Assert.Equal([byAdmin.Id], deploys!.Select(d => d.Id));
    }

    [Fact]
    public async Task A_rejected_deploy_never_runs_and_keeps_the_comment_as_its_note()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "production", ["echo should never run"], approvals: 1);
        var build = await fixture.PassedBuildAsync(slug);
        var requested = await Deploys.RequestOkAsync(fixture.Member, build.Id, "production");

        // Act
        using var rejected = await Deploys.ActAsync(fixture.OtherMember, requested.Id, "reject", "Not during the sale");

        // Assert
        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        await fixture.Portal.Service<DeployService>().SweepAsync();
        var deploy = await Deploys.GetAsync(fixture.Admin, requested.Id);
        Assert.Equal(DeployStatus.Rejected, deploy.Status);
        Assert.Equal("Not during the sale", deploy.Note);
        Assert.Null(deploy.JobId);
        Assert.Null(deploy.StartedAt);
        Assert.NotNull(deploy.FinishedAt);
        var decision = Assert.Single(deploy.Decisions!);
        Assert.Equal((DeliveryPortal.OtherMemberName, ApprovalDecision.Rejected), (decision.User, decision.Decision));
        Assert.Equal("", await fixture.Admin.GetStringAsync($"/api/v1/deploys/{requested.Id}/log"));
        // Nothing can revive it.
        using var lateApproval = await Deploys.ActAsync(fixture.Admin, requested.Id, "approve");
        Assert.Equal(HttpStatusCode.Conflict, lateApproval.StatusCode);
        Assert.Equal(DeployStatus.Rejected, (await Deploys.GetAsync(fixture.Admin, requested.Id)).Status);
        var audit = await fixture.Admin.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=1000");
        Assert.Contains(audit!, e => e.Action == AuditActions.DeployRejected && e.Actor == DeliveryPortal.OtherMemberName
                                     && e.Target.EndsWith($"/deploy:{requested.Id}", StringComparison.Ordinal)
                                     && e.Details == "Not during the sale");
    }

    [Fact]
    public async Task A_deploy_needing_two_approvals_counts_each_in_the_answer_and_runs_after_the_second()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "production", ["echo deploying after two approvals"], approvals: 2);
        var build = await fixture.PassedBuildAsync(slug);
        var requested = await Deploys.RequestOkAsync(fixture.Member, build.Id, "production");

        // Act: the second approval comes without a body at all
        using var first = await Deploys.ActAsync(fixture.OtherMember, requested.Id, "approve", "one");
        using var again = await Deploys.ActAsync(fixture.OtherMember, requested.Id, "approve", "two");
        var listed = (await fixture.Admin.GetFromJsonAsync<List<DeployResponse>>($"/api/v1/builds/{build.Id}/deploys"))!;
        var server = (await fixture.Admin.GetFromJsonAsync<ServerResponse>($"/api/v1/projects/{slug}/servers/production"))!;
        using var second = await fixture.Admin.PostAsync($"/api/v1/deploys/{requested.Id}/approve", null);

        // Assert
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var afterFirst = (await first.Content.ReadFromJsonAsync<DeployResponse>())!;
        Assert.Equal((DeployStatus.AwaitingApproval, 1, 2), (afterFirst.Status, afterFirst.Approvals, afterFirst.ApprovalsRequired));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("You have already decided on this deploy.", await Deploys.ProblemAsync(again));
        // Lists count it too.
        Assert.Equal(1, Assert.Single(listed).Approvals);
        Assert.Equal((1, 1), (Assert.Single(server.Deploys!).Approvals, server.Latest!.Approvals));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var afterSecond = (await second.Content.ReadFromJsonAsync<DeployResponse>())!;
        Assert.Equal(2, afterSecond.Approvals);
        Assert.NotEqual(DeployStatus.AwaitingApproval, afterSecond.Status);
        var finished = await Deploys.WaitAsync(fixture.Admin, requested.Id);
        Assert.Equal(DeployStatus.Passed, finished.Status);
        Assert.Equal([(DeliveryPortal.OtherMemberName, "one"), ("admin", null)], finished.Decisions!.Select(d => (d.User, d.Comment)));
    }

    [Fact]
    public async Task Cordoning_is_for_people_who_may_deploy_to_the_server_and_needs_no_body()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "staging", ["true"]);
        await fixture.CreateServerAsync(slug, "vault", ["true"], deployers: "admins");

        // Act
        using var byViewer = await fixture.Viewer.PostAsync($"/api/v1/projects/{slug}/servers/staging/cordon", null);
        using var byMemberOnVault = await fixture.Member.PostAsync($"/api/v1/projects/{slug}/servers/vault/cordon", null);
        using var byMember = await fixture.Member.PostAsync($"/api/v1/projects/{slug}/servers/staging/cordon", null);
        using var byAdminOnVault = await fixture.Admin.PostAsync($"/api/v1/projects/{slug}/servers/vault/cordon", null);
        using var viewerUncordons = await fixture.Viewer.PostAsync($"/api/v1/projects/{slug}/servers/staging/uncordon", null);

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byMemberOnVault.StatusCode);
        Assert.Contains("Only people who may deploy to vault may cordon or uncordon it.", await Deploys.ProblemAsync(byMemberOnVault));
        Assert.Equal(HttpStatusCode.OK, byMember.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byAdminOnVault.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerUncordons.StatusCode);
        var servers = await fixture.Viewer.GetFromJsonAsync<List<ServerResponse>>($"/api/v1/projects/{slug}/servers");
        Assert.All(servers!, s => Assert.True(s.Cordoned));
        Assert.All(servers!, s => Assert.Null(s.CordonReason));
    }

    [Fact]
    public async Task A_viewer_cannot_cancel_a_deploy_and_a_member_cannot_approve_one_to_an_admins_server()
    {
        // Arrange
        var slug = await fixture.CreateProjectAsync();
        await fixture.CreateServerAsync(slug, "vault", ["true"], approvals: 1, deployers: "admins");
        var build = await fixture.PassedBuildAsync(slug);
        var requested = await Deploys.RequestOkAsync(fixture.Admin, build.Id, "vault");

        // Act
        using var viewerCancels = await Deploys.ActAsync(fixture.Viewer, requested.Id, "cancel");
        using var memberCancels = await Deploys.ActAsync(fixture.Member, requested.Id, "cancel");
        using var memberApproves = await Deploys.ActAsync(fixture.Member, requested.Id, "approve");
        using var memberRejects = await Deploys.ActAsync(fixture.Member, requested.Id, "reject");

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, viewerCancels.StatusCode);
        Assert.Contains("Only its requester or someone who may deploy to its server may cancel a deploy.", await Deploys.ProblemAsync(viewerCancels));
        Assert.Equal(HttpStatusCode.Forbidden, memberCancels.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, memberApproves.StatusCode);
        Assert.Contains("Only admins may approve deploys to vault.", await Deploys.ProblemAsync(memberApproves));
        Assert.Equal(HttpStatusCode.Forbidden, memberRejects.StatusCode);
        var deploy = await Deploys.GetAsync(fixture.Viewer, requested.Id);
        Assert.Equal(DeployStatus.AwaitingApproval, deploy.Status);
        Assert.Empty(deploy.Decisions!);
        Assert.DoesNotContain((await fixture.Member.GetFromJsonAsync<List<DeployResponse>>("/api/v1/approvals"))!, d => d.Id == requested.Id);
    }
}
