using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.Identity;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>
/// There is always an admin. Through the API the self rule already stops an admin before this one; these tests reach
/// the rule itself, as when an admin acts while being removed by another, and check it holds under concurrency.
/// </summary>
public sealed class LastAdminTests
{
    private static (UserAdmin Admin, ClaimsPrincipal Someone) Setup(TestDatabase db) =>
        (new UserAdmin(db.Users, new PasswordHasher<UserRow>(), new AuditLog(db.Database, db.Clock)),
            new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "someone")], "test")));

    [SkippableTheory, InlineData("Sqlite"), InlineData("SqlServer")]
    public async Task The_last_admin_is_never_demoted_or_removed_and_the_message_says_what_to_do(string provider)
    {
        // Arrange
        await using var db = await TestDatabase.CreateAsync(provider);
        var (admin, someone) = Setup(db);
        var only = await db.Users.CreateAsync("root", "", Roles.Admin);
        await db.Users.AddTokenAsync(only, "ci", "hash-root");

        // Act
        var demoted = await admin.ChangeAsync(someone, only, Roles.Member, null);
        var removed = await admin.RemoveAsync(someone, only);

        // Assert
        Assert.Equal((Problem.Conflict, Problem.Conflict), (demoted.Problem, removed.Problem));
        Assert.Equal("'root' is the last admin and cannot be demoted: make someone else an admin first.", demoted.Message);
        Assert.Equal("'root' is the last admin and cannot be removed: make someone else an admin first.", removed.Message);
        Assert.Equal(Roles.Admin, (await db.Users.FindByIdAsync(only))!.Role);
        Assert.NotNull(await db.Users.FindByTokenHashAsync("hash-root"));
    }

    [SkippableTheory, InlineData("Sqlite"), InlineData("SqlServer")]
    public async Task With_a_second_admin_either_may_go_but_not_both_even_at_the_same_moment(string provider)
    {
        // Arrange
        await using var db = await TestDatabase.CreateAsync(provider);
        var (admin, someone) = Setup(db);
        var first = await db.Users.CreateAsync("first", "", Roles.Admin);
        var second = await db.Users.CreateAsync("second", "", Roles.Admin);

        // Act
        var results = await Task.WhenAll(admin.ChangeAsync(someone, first, Roles.Viewer, null), admin.RemoveAsync(someone, second));

        // Assert
        Assert.Single(results, r => r.Ok);
        Assert.Single(await db.Users.ListAsync(), u => u.Role == Roles.Admin);
    }
}
