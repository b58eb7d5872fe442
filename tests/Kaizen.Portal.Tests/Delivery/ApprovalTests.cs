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
}
