using Kaizen.Portal.Auth;

namespace Kaizen.Portal.Tests.Data;

public sealed class UserStoreTests
{
    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_created_user_is_found_by_name_and_by_token(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var id = await test.Users.CreateAsync("grace", "pw-hash", Roles.Member);
        await test.Users.CreateAsync("linus", "other-hash", Roles.Viewer);

        // Act
        await test.Users.AddTokenAsync(id, "ci", "token-hash");
        var byName = await test.Users.FindByNameAsync("grace");
        var byToken = await test.Users.FindByTokenHashAsync("token-hash");

        // Assert
        Assert.NotNull(byName);
        Assert.Equal(id, byName.Id);
        Assert.Equal("pw-hash", byName.PasswordHash);
        Assert.Equal(Roles.Member, byName.Role);
        Assert.NotNull(byToken);
        Assert.Equal(id, byToken.Id);
        Assert.Null(await test.Users.FindByTokenHashAsync("unknown"));
        Assert.Null(await test.Users.FindByNameAsync("nobody"));
        Assert.Equal(2, await test.Users.CountAsync());
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_changed_password_replaces_the_old_hash(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var id = await test.Users.CreateAsync("grace", "old-hash", Roles.Admin);

        // Act
        await test.Users.UpdatePasswordAsync(id, "new-hash");

        // Assert
        Assert.Equal("new-hash", (await test.Users.FindByNameAsync("grace"))!.PasswordHash);
    }
}
