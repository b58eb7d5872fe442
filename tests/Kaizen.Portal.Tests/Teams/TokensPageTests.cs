using Bunit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Components.Pages.Account;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>/account/tokens: anyone signed in creates a token (shown once) and revokes it.</summary>
public sealed class TokensPageTests : TeamsPageHarness
{
    [Fact]
    public async Task A_viewer_creates_a_token_that_is_shown_once_and_then_listed_by_name_only()
    {
        // Arrange
        var id = await SignInAsync("vic", Roles.Viewer);
        var cut = RenderInLayout<TokensPage>();
        cut.WaitForAssertion(() => Assert.Contains("You have no API tokens", cut.Markup), WaitTimeout);

        // Act
        await TypeAsync(cut, "Token name", "deploy script");
        await ClickAsync(cut, () => Button(cut, "Create token"));

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("API token 'deploy script' created", cut.Find("[aria-label='New API token']").TextContent), WaitTimeout);
        Assert.Contains("won't be shown again", cut.Find("[aria-label='New API token']").TextContent);
        Assert.Single(Buttons(cut, "Copy"));
        var token = cut.Find("[data-token]").TextContent.Trim();
        Assert.Equal(id, (await Db.Users.FindByTokenHashAsync(Tokens.Hash(token)))!.Id);
        Assert.Contains("never", cut.Find("table").TextContent);

        await ClickAsync(cut, () => Button(cut, "Done"));
        cut.WaitForAssertion(() => Assert.DoesNotContain(token, cut.Markup), WaitTimeout);
        Assert.Contains("deploy script", cut.Find("table").TextContent);
    }

    [Fact]
    public async Task A_token_needs_a_name()
    {
        // Arrange
        var id = await SignInAsync("vic", Roles.Member);
        var cut = RenderInLayout<TokensPage>();
        cut.WaitForAssertion(() => Assert.Contains("You have no API tokens", cut.Markup), WaitTimeout);

        // Act
        await ClickAsync(cut, () => Button(cut, "Create token"));

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("Name the token", cut.Markup), WaitTimeout);
        Assert.Empty(await Db.Users.TokensAsync(id));
    }

    [Fact]
    public async Task Revoking_asks_first_and_the_token_stops_working()
    {
        // Arrange
        var id = await SignInAsync("vic", Roles.Member);
        await Db.Users.AddTokenAsync(id, "old laptop", "hash-old-laptop");
        var cut = RenderInLayout<TokensPage>();
        cut.WaitForAssertion(() => Assert.Contains("old laptop", cut.Markup), WaitTimeout);

        // Act
        var revoking = ClickAsync(cut, () => Button(cut, "Revoke token old laptop"));
        cut.WaitForAssertion(() => Assert.Contains("Revoke token old laptop?", cut.Markup), WaitTimeout);
        await ClickAsync(cut, () => Button(cut, "Revoke"));
        await revoking.WaitAsync(WaitTimeout);

        // Assert
        cut.WaitForAssertion(() => Assert.Contains("You have no API tokens", cut.Markup), WaitTimeout);
        Assert.Null(await Db.Users.FindByTokenHashAsync("hash-old-laptop"));
    }
}
