using Bunit;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Components.Pages.Admin;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>/admin/users: admins list, add, re-role and remove people, within the rules.</summary>
public sealed class UsersPageTests : TeamsPageHarness
{
    [Fact]
    public async Task Users_are_listed_with_role_and_password_and_the_admin_cannot_remove_or_re_role_themselves()
    {
        // Arrange
        await SignInAsync("boss", Roles.Admin);
        await Db.Users.CreateAsync("pat", "some-hash", Roles.Viewer);

        // Act
        var cut = RenderInLayout<UsersPage>();

        // Assert
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("tr[data-user=pat]")), WaitTimeout);
        var pat = cut.Find("tr[data-user=pat]").TextContent;
        Assert.Contains("viewer", pat);
        Assert.Contains("yes", pat);
        var boss = cut.Find("tr[data-user=boss]").TextContent;
        Assert.Contains("you", boss);
        Assert.Contains("no (API token only)", boss);
        Assert.Empty(Buttons(cut, "Remove boss"));
        Assert.Empty(Buttons(cut, "Change role of boss"));
        Assert.Single(Buttons(cut, "Remove pat"));
        Assert.Single(Buttons(cut, "Change role of pat"));
    }

    [Fact]
    public async Task Adding_a_user_shows_their_first_token_once_with_a_copy_button()
    {
        // Arrange
        await SignInAsync("boss", Roles.Admin);
        var cut = RenderInLayout<UsersPage>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("tr[data-user=boss]")), WaitTimeout);

        // Act
        await TypeAsync(cut, "User name", "quinn");
        await TypeAsync(cut, "Password (optional)", "quinns-password");
        await ClickAsync(cut, () => Button(cut, "Add user"));

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("User 'quinn' added", cut.Markup), WaitTimeout);
        Assert.Contains("won't be shown again", cut.Find("[aria-label='New API token']").TextContent);
        Assert.Single(Buttons(cut, "Copy"));
        var token = cut.Find("[data-token]").TextContent.Trim();
        Assert.StartsWith("kzt_", token);
        var quinn = await Db.Users.FindByNameAsync("quinn");
        Assert.Equal((Roles.Member, true), (quinn!.Role, quinn.HasPassword));
        Assert.Equal(quinn.Id, (await Db.Users.FindByTokenHashAsync(Tokens.Hash(token)))!.Id);
        Assert.Contains("member", cut.Find("tr[data-user=quinn]").TextContent);
    }

    [Fact]
    public async Task A_bad_name_says_the_rule_and_adds_nobody()
    {
        // Arrange
        await SignInAsync("boss", Roles.Admin);
        var cut = RenderInLayout<UsersPage>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("tr[data-user=boss]")), WaitTimeout);

        // Act
        await TypeAsync(cut, "User name", "two words");
        await ClickAsync(cut, () => Button(cut, "Add user"));

        // Assert
        cut.WaitForAssertion(() => Assert.Contains(UserAdmin.NameRule, cut.Find("[role=group]").TextContent), WaitTimeout);
        Assert.Equal(1, await Db.Users.CountAsync());
    }

    [Fact]
    public async Task Removing_a_user_asks_first_then_removes_them_and_records_it()
    {
        // Arrange
        await SignInAsync("boss", Roles.Admin);
        var pat = await Db.Users.CreateAsync("pat", "", Roles.Member);
        var cut = RenderInLayout<UsersPage>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("tr[data-user=pat]")), WaitTimeout);

        // Act: the click's handler waits for the confirmation, so it is not awaited yet.
        var removing = ClickAsync(cut, () => Button(cut, "Remove pat"));
        cut.WaitForAssertion(() => Assert.Contains("Remove pat?", cut.Markup), WaitTimeout);
        Assert.NotNull(await Db.Users.FindByIdAsync(pat));
        await ClickAsync(cut, () => Button(cut, "Remove"));
        await removing.WaitAsync(WaitTimeout);

        // Assert
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("tr[data-user=pat]")), WaitTimeout);
        Assert.Null(await Db.Users.FindByIdAsync(pat));
        Assert.Equal(AuditActions.UserRemoved, (await Audit.NewestAsync(10)).First().Action);
    }

    [Fact]
    public async Task Changing_a_role_from_the_menu_takes_effect()
    {
        // Arrange
        await SignInAsync("boss", Roles.Admin);
        var pat = await Db.Users.CreateAsync("pat", "", Roles.Viewer);
        var cut = RenderInLayout<UsersPage>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("tr[data-user=pat]")), WaitTimeout);

        // Act
        await ClickAsync(cut, () => Button(cut, "Change role of pat"));
        cut.WaitForAssertion(() => Assert.Contains("Make admin", cut.Markup), WaitTimeout);
        await ClickAsync(cut, () => cut.FindAll(".mud-menu-item, [role=menuitem]").First(e => e.TextContent.Trim() == "Make admin"));

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("admin", cut.Find("tr[data-user=pat] td:nth-child(2)").TextContent), WaitTimeout);
        Assert.Equal(Roles.Admin, (await Db.Users.FindByIdAsync(pat))!.Role);
    }

    [Fact]
    public async Task The_last_admin_cannot_be_removed_and_the_page_says_so()
    {
        // Arrange: someone whose own account was just removed still has the page open; "root" is the only admin left.
        var gone = await SignInAsync("gone", Roles.Admin);
        await Db.Users.CreateAsync("root", "", Roles.Admin);
        Assert.True(await Db.Users.DeleteAsync(gone));
        var cut = RenderInLayout<UsersPage>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("tr[data-user=root]")), WaitTimeout);

        // Act
        var removing = ClickAsync(cut, () => Button(cut, "Remove root"));
        cut.WaitForAssertion(() => Assert.Contains("Remove root?", cut.Markup), WaitTimeout);
        await ClickAsync(cut, () => Button(cut, "Remove"));
        await removing.WaitAsync(WaitTimeout);

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("is the last admin and cannot be removed", cut.Find("[role=alert]").TextContent), WaitTimeout);
        Assert.NotNull(await Db.Users.FindByNameAsync("root"));
    }
}
