using Bunit;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Components.Secrets;
using Kaizen.Portal.Secrets;
using Microsoft.AspNetCore.Components.Web;

namespace Kaizen.Portal.Tests.Components.Secrets;

public sealed class AdminVariablesEditorTests : VariablesHarness
{
    private const string Distinctive = "s3cr3t-Zebra-Quokka-9f2c41";
    private static readonly MouseEventArgs Press = new();

    protected override string Role => Roles.Admin;

    [Fact]
    public async Task A_saved_secret_shows_its_name_but_its_value_appears_nowhere_and_the_audit_entry_holds_no_value()
    {
        var cut = RenderEditor(VariableScope.Org);
        var form = Group(cut, "Add or replace a secret")!;
        await Field(form, "Secret name").InputAsync(new() { Value = "AWS_SECRET_ACCESS_KEY" });
        await Field(Group(cut, "Add or replace a secret")!, "Secret value").InputAsync(new() { Value = Distinctive });
        Assert.Equal("password", Field(Group(cut, "Add or replace a secret")!, "Secret value").GetAttribute("type"));
        await Button(cut, "Save secret").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Secret AWS_SECRET_ACCESS_KEY saved.", cut.Markup), WaitTimeout);
        Assert.Contains("AWS_SECRET_ACCESS_KEY", cut.Find("section[aria-label=Secrets] table").TextContent);
        Assert.DoesNotContain(Distinctive, cut.Markup);
        Assert.Equal("", Field(Group(cut, "Add or replace a secret")!, "Secret value").GetAttribute("value") ?? "");
        Assert.NotNull(await Store.FindSecretAsync(VariableScope.Org, "AWS_SECRET_ACCESS_KEY"));

        // A fresh render (another visit) shows the name and never the value either.
        var again = Render<VariablesEditor>(p => p.Add(e => e.Scope, VariableScope.Org));
        again.WaitForAssertion(() => Assert.Contains("AWS_SECRET_ACCESS_KEY", again.Markup), WaitTimeout);
        Assert.DoesNotContain(Distinctive, again.Markup);

        var entry = Assert.Single(await Audit.NewestAsync(10));
        Assert.Equal(AuditActions.SecretCreated, entry.Action);
        Assert.Equal(UserName, entry.Actor);
        Assert.Equal("org/secret:AWS_SECRET_ACCESS_KEY", entry.Target);
        Assert.DoesNotContain(Distinctive, entry.Details ?? "");
    }

    [Fact]
    public async Task An_invalid_name_shows_the_rule_and_saves_nothing()
    {
        var cut = RenderEditor(VariableScope.Org);
        await Field(Group(cut, "Add or replace a secret")!, "Secret name").InputAsync(new() { Value = "1-bad name" });
        await Field(Group(cut, "Add or replace a secret")!, "Secret value").InputAsync(new() { Value = Distinctive });
        await Button(cut, "Save secret").ClickAsync(Press);
        await Field(Group(cut, "Add or replace a variable")!, "Variable name").InputAsync(new() { Value = "KAIZEN_MINE" });
        await Button(cut, "Save variable").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains(VariableRules.NameRule, Group(cut, "Add or replace a secret")!.TextContent), WaitTimeout);
        Assert.Contains("reserved for the variables Kaizen sets", Group(cut, "Add or replace a variable")!.TextContent);
        Assert.Empty(await Store.SecretsAsync(VariableScope.Org));
        Assert.Empty(await Store.VariablesAsync(VariableScope.Org));
        Assert.Empty(await Audit.NewestAsync(10));
    }

    [Fact]
    public async Task Deleting_a_secret_asks_first_and_records_it()
    {
        await Store.SetSecretAsync(VariableScope.Org, "DEPLOY_KEY", Distinctive, null, "bob");
        var cut = RenderEditor(VariableScope.Org);

        // The click's handler waits for the answer to the confirmation, so it is not awaited here.
        var deleting = Button(cut, "Delete secret DEPLOY_KEY").ClickAsync(Press);
        cut.WaitForAssertion(() => Assert.Contains("Delete secret DEPLOY_KEY?", cut.Markup), WaitTimeout);
        Assert.NotNull(await Store.FindSecretAsync(VariableScope.Org, "DEPLOY_KEY"));
        await Button(cut, "Delete").ClickAsync(Press);
        await deleting.WaitAsync(WaitTimeout);

        cut.WaitForAssertion(() => Assert.Contains("Secret DEPLOY_KEY deleted.", cut.Markup), WaitTimeout);
        Assert.Null(await Store.FindSecretAsync(VariableScope.Org, "DEPLOY_KEY"));
        Assert.Equal(AuditActions.SecretDeleted, Assert.Single(await Audit.NewestAsync(10)).Action);
    }
}

public sealed class MemberVariablesEditorTests : VariablesHarness
{
    private static readonly MouseEventArgs Press = new();

    protected override string Role => Roles.Member;

    [Fact]
    public async Task A_member_sees_and_edits_variables_but_no_secrets_section_and_no_secret_names()
    {
        await Store.SetSecretAsync(VariableScope.Org, "HIDDEN_TOKEN_NAME", "a-long-enough-value", null, "admin");
        await Store.SetVariableAsync(VariableScope.Org, "REGION", "eu-west-1", "admin");
        var cut = RenderEditor(VariableScope.Org);

        Assert.Contains("eu-west-1", cut.Markup);
        Assert.DoesNotContain("HIDDEN_TOKEN_NAME", cut.Markup);
        Assert.Empty(cut.FindAll("section[aria-label=Secrets]"));
        Assert.Null(Group(cut, "Add or replace a secret"));

        await Field(Group(cut, "Add or replace a variable")!, "Variable name").InputAsync(new() { Value = "STAGE" });
        await Field(Group(cut, "Add or replace a variable")!, "Value").InputAsync(new() { Value = "blue" });
        await Button(cut, "Save variable").ClickAsync(Press);

        cut.WaitForAssertion(() => Assert.Contains("Variable STAGE added.", cut.Markup), WaitTimeout);
        Assert.Equal("blue", (await Store.FindVariableAsync(VariableScope.Org, "STAGE"))!.Value);
        Assert.DoesNotContain("HIDDEN_TOKEN_NAME", cut.Markup);
    }
}

public sealed class ViewerVariablesEditorTests : VariablesHarness
{
    protected override string Role => Roles.Viewer;

    [Fact]
    public async Task A_viewer_sees_variables_read_only_and_nothing_of_secrets()
    {
        await Store.SetSecretAsync(VariableScope.Org, "HIDDEN_TOKEN_NAME", "a-long-enough-value", null, "admin");
        await Store.SetVariableAsync(VariableScope.Org, "REGION", "eu-west-1", "admin");
        var cut = RenderEditor(VariableScope.Org);

        Assert.Contains("eu-west-1", cut.Markup);
        Assert.DoesNotContain("HIDDEN_TOKEN_NAME", cut.Markup);
        Assert.Empty(cut.FindAll("section[aria-label=Secrets]"));
        Assert.Null(Group(cut, "Add or replace a variable"));
        Assert.Empty(Buttons(cut, "Save variable"));
        Assert.Empty(Buttons(cut, "Delete variable REGION"));
        Assert.Empty(Buttons(cut, "Edit variable REGION"));
        Assert.Empty(cut.FindAll("input"));
    }
}
