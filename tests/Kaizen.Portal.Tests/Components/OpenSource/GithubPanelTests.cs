using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Components.Projects;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Secrets;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.OpenSource;

/// <summary>The GitHub &amp; badges panel of a project's settings: visibility, repository, webhook secret and
/// deliveries, secrets for fork pull requests, and the badge; every change is audited.</summary>
public sealed class GithubPanelTests : OpenSourceHarness
{
    private async Task<IRenderedComponent<ContainerFragment>> PanelAsync(string slug)
    {
        var cut = RenderInLayout<GithubPanel>(("Project", await ProjectAsync(slug)));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=no-deliveries], [data-testid=deliveries]")), WaitTimeout);
        return cut;
    }

    /// <summary>Confirms the message box on screen with its <paramref name="yes"/> button.</summary>
    private static async Task ConfirmAsync(IRenderedComponent<ContainerFragment> cut, Task clicked, string yes)
    {
        cut.WaitForAssertion(() => Assert.Single(Buttons(cut, yes), b => b.Closest(".mud-dialog") is not null), WaitTimeout);
        await ClickAsync(cut, () => Buttons(cut, yes).Single(b => b.Closest(".mud-dialog") is not null));
        await clicked;
    }

    // Making a project public or private (each asks first) is in Components/Projects/ProjectSettingsCardsTests.

    [Fact]
    public async Task The_repository_must_be_owner_slash_name_and_a_valid_one_is_saved_and_audited()
    {
        var cut = await PanelAsync("open");

        await InputAsync(cut, () => cut.Find("input[placeholder='owner/name']"), "not a repository");
        cut.WaitForAssertion(() => Assert.Contains("is not a GitHub repository; write it as owner/name", cut.Markup), WaitTimeout);
        Assert.True(Button(cut, "Save repository").HasAttribute("disabled"));
        await InputAsync(cut, () => cut.Find("input[placeholder='owner/name']"), "octo-org/open");
        cut.WaitForAssertion(() => Assert.False(Button(cut, "Save repository").HasAttribute("disabled")), WaitTimeout);
        await ClickAsync(cut, () => Button(cut, "Save repository"));

        Assert.Equal("octo-org/open", (await ProjectAsync("open")).GithubRepository);
        Assert.Equal(["project.changed: GitHub repository octo-org/open"], await AuditOfAsync("open"));
    }

    [Fact]
    public async Task The_webhook_secret_stays_hidden_until_shown_and_rotating_it_asks_first_and_is_audited()
    {
        var cut = await PanelAsync("open");
        Assert.DoesNotContain("kzw_", cut.Find("[data-testid=webhook-secret]").TextContent);
        Assert.EndsWith("/webhooks/github", cut.Find("[data-testid=webhook-url]").TextContent);
        Assert.Equal(["push", "pull_request", "create", "delete"], cut.FindAll("[data-event]").Select(e => e.GetAttribute("data-event")!));

        await ClickAsync(cut, () => Button(cut, "Show"));
        var secret = await Services.GetRequiredService<WebhookSecrets>().GetOrCreateAsync((await ProjectAsync("open")).Id);
        cut.WaitForAssertion(() => Assert.Equal(secret, cut.Find("[data-testid=webhook-secret]").TextContent), WaitTimeout);
        await ClickAsync(cut, () => Button(cut, "Hide"));
        cut.WaitForAssertion(() => Assert.DoesNotContain("kzw_", cut.Find("[data-testid=webhook-secret]").TextContent), WaitTimeout);

        await ConfirmAsync(cut, ClickAsync(cut, () => Button(cut, "Rotate")), "Rotate");

        var rotated = await Services.GetRequiredService<WebhookSecrets>().GetOrCreateAsync((await ProjectAsync("open")).Id);
        Assert.NotEqual(secret, rotated);
        cut.WaitForAssertion(() => Assert.Equal(rotated, cut.Find("[data-testid=webhook-secret]").TextContent), WaitTimeout);
        Assert.Equal([$"{AuditActions.WebhookSecretRotated}: "], await AuditOfAsync("open"));
    }

    [Fact]
    public async Task Without_deliveries_it_says_how_to_set_up_the_webhook_and_refresh_shows_the_newest()
    {
        var cut = await PanelAsync("open");
        Assert.Contains("Settings → Webhooks → Add webhook", cut.Find("[data-testid=no-deliveries]").TextContent);

        var deliveries = Services.GetRequiredService<WebhookDeliveries>();
        await deliveries.RecordAsync(PublicId, "d-1", "ping", null, 200, "pong");
        await deliveries.RecordAsync(PublicId, "d-2", "pull_request", "opened", 202, "build 7 of PR #22 from fork outsider/patch-1");
        await ClickAsync(cut, () => Button(cut, "Refresh"));

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-delivery]").Count), WaitTimeout);
        var newest = cut.FindAll("[data-delivery]")[0].QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList();
        Assert.Equal("pull_request", newest[0]);
        Assert.Equal("opened", newest[1]);
        Assert.Equal("202", newest[3]);
        Assert.Equal("build 7 of PR #22 from fork outsider/patch-1", newest[4]);
    }

    [Fact]
    public async Task Fork_pull_requests_get_no_secrets_until_one_is_ticked_with_a_warning_and_an_audit_entry()
    {
        await Services.GetRequiredService<VariableStore>().SetSecretAsync(VariableScope.Project(PublicId), "NPM_TOKEN", "x", null, "admin");
        await Services.GetRequiredService<VariableStore>().SetSecretAsync(VariableScope.Project(PublicId), "DEPLOY_KEY", "y", null, "admin");
        var cut = await PanelAsync("open");
        Assert.Contains("can print a secret it receives", cut.Markup);
        Assert.Contains("Fork pull requests get no secrets.", cut.Markup);

        await ChangeAsync(cut, () => cut.Find("input[data-secret=NPM_TOKEN]"), true);

        Assert.Equal(["NPM_TOKEN"], (await ProjectAsync("open")).ForkSecrets);
        cut.WaitForAssertion(() => Assert.Contains("Fork pull requests may receive: NPM_TOKEN.", cut.Markup), WaitTimeout);
        Assert.Equal(["project.changed: fork pull requests may get NPM_TOKEN"], await AuditOfAsync("open"));
    }

    [Fact]
    public async Task A_public_projects_badge_is_a_markdown_snippet_for_its_default_branch()
    {
        var cut = await PanelAsync("open");

        var markdown = cut.Find("[data-testid=badge-markdown]").TextContent;
        Assert.Matches(@"^\[!\[build\]\(http://[^)]+/badges/open\.svg\)\]\(http://[^)]+/projects/open\)$", markdown);
        Assert.Empty(Buttons(cut, "Make badge token"));
    }

    [Fact]
    public async Task A_private_projects_badge_needs_a_token_which_is_made_and_removed_with_audit_entries()
    {
        var cut = await PanelAsync("closed");
        Assert.Empty(cut.FindAll("[data-testid=badge-markdown]"));

        await ClickAsync(cut, () => Button(cut, "Make badge token"));
        var token = (await ProjectAsync("closed")).BadgeToken;
        Assert.NotNull(token);
        cut.WaitForAssertion(() => Assert.EndsWith($"/badges/closed.svg?token={token})](http://localhost/projects/closed)",
            cut.Find("[data-testid=badge-markdown]").TextContent), WaitTimeout);

        await ConfirmAsync(cut, ClickAsync(cut, () => Button(cut, "Remove badge token")), "Remove");

        Assert.Null((await ProjectAsync("closed")).BadgeToken);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=badge-markdown]")), WaitTimeout);
        Assert.Equal(["badge.token_changed: made", "badge.token_changed: removed"], await AuditOfAsync("closed"));
    }
}
