using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Secrets;
using Microsoft.AspNetCore.Components.Web;

namespace Kaizen.Portal.Tests.Components.Secrets;

/// <summary>A project's Variables section also shows what its jobs get from the organization, greyed, and lets one override it.</summary>
public sealed class MemberInheritedVariablesTests : VariablesHarness
{
    protected override string Role => Roles.Member;

    private static IReadOnlyList<string> InheritedNames(IRenderedComponent<ContainerFragment> cut) =>
        cut.FindAll("section[aria-label='From the organization'] tbody tr").Select(tr => tr.GetAttribute("data-inherited")!).ToList();

    [Fact]
    public async Task Organization_variables_show_on_the_project_from_the_organization_and_its_secrets_not_at_all()
    {
        // Arrange
        var project = await Db.CreateProjectAsync("shop");
        await Store.SetVariableAsync(VariableScope.Org, "REGION", "eu-west-1", "root");
        await Store.SetSecretAsync(VariableScope.Org, "ORG_TOKEN", "org-token-value-7f3a", null, "root");

        // Act
        var cut = RenderEditor(VariableScope.Project(project));

        // Assert
        var section = cut.Find("section[aria-label='From the organization']");
        Assert.Equal(["REGION"], InheritedNames(cut));
        var row = section.QuerySelector("tr[data-inherited=REGION]")!;
        Assert.Contains("eu-west-1", row.TextContent);
        Assert.Contains("from the organization", row.TextContent);
        // A member learns neither the organization's secret's value nor that it exists.
        Assert.DoesNotContain("ORG_TOKEN", cut.Markup);
        Assert.DoesNotContain("org-token-value-7f3a", cut.Markup);
    }

    [Fact]
    public async Task Override_starts_a_project_variable_of_that_name_which_then_replaces_the_organizations()
    {
        // Arrange
        var project = await Db.CreateProjectAsync("shop");
        await Store.SetVariableAsync(VariableScope.Org, "REGION", "eu-west-1", "root");
        var cut = RenderEditor(VariableScope.Project(project));

        // Act
        await Button(cut, "Override variable REGION").ClickAsync(new MouseEventArgs());
        var form = Group(cut, "Add or replace a variable")!;
        Assert.Equal("REGION", Field(form, "Variable name").GetAttribute("value"));
        Assert.Equal("eu-west-1", Field(form, "Value").GetAttribute("value"));
        await Field(Group(cut, "Add or replace a variable")!, "Value").InputAsync(new() { Value = "us-east-2" });
        await Button(cut, "Save variable").ClickAsync(new MouseEventArgs());

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("Variable REGION added.", cut.Markup), WaitTimeout);
        var row = cut.Find("section[aria-label='From the organization'] tr[data-inherited=REGION]");
        Assert.Equal("true", row.GetAttribute("data-overridden"));
        Assert.Contains("overridden by this project", row.TextContent);
        Assert.Empty(Buttons(cut, "Override variable REGION"));
        // What a job of the project gets: the project's value wins.
        var (environment, _) = await new JobEnvironmentProvider(Store).ForBuildJobAsync(project, CancellationToken.None);
        Assert.Equal("us-east-2", environment["REGION"]);
        Assert.Equal("eu-west-1", (await Store.FindVariableAsync(VariableScope.Org, "REGION"))!.Value);
    }

    [Fact]
    public async Task The_organizations_own_page_shows_no_inherited_section()
    {
        await Store.SetVariableAsync(VariableScope.Org, "REGION", "eu-west-1", "root");

        var cut = RenderEditor(VariableScope.Org);

        Assert.Empty(cut.FindAll("section[aria-label='From the organization']"));
    }
}

public sealed class AdminInheritedVariablesTests : VariablesHarness
{
    protected override string Role => Roles.Admin;

    [Fact]
    public async Task An_admin_sees_the_organizations_secrets_by_name_only_and_overriding_one_asks_for_a_new_value()
    {
        // Arrange
        const string value = "org-token-value-9c1e";
        var project = await Db.CreateProjectAsync("shop");
        await Store.SetSecretAsync(VariableScope.Org, "ORG_TOKEN", value, "secrets/token.txt", "root");

        // Act
        var cut = RenderEditor(VariableScope.Project(project));
        await Button(cut, "Override secret ORG_TOKEN").ClickAsync(new MouseEventArgs());

        // Assert
        var row = cut.Find("section[aria-label='From the organization'] tr[data-inherited=ORG_TOKEN]");
        Assert.Contains("secret (hidden)", row.TextContent);
        Assert.Contains("from the organization", row.TextContent);
        var form = Group(cut, "Add or replace a secret")!;
        Assert.Equal("ORG_TOKEN", Field(form, "Secret name").GetAttribute("value"));
        Assert.Equal("secrets/token.txt", Field(form, "File path (optional)").GetAttribute("value"));
        Assert.Equal("", Field(form, "Secret value").GetAttribute("value") ?? "");
        Assert.DoesNotContain(value, cut.Markup);
    }
}
