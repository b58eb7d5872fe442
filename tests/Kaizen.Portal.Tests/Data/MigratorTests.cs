using Dapper;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Tests.Data;

public sealed class MigratorTests
{
    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Migrating_twice_applies_each_script_once_and_keeps_the_data(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider, migrate: false);
        await test.Migrator.MigrateAsync();
        await test.Users.CreateAsync("ada", "hash", Roles.Admin);

        // Act
        await test.Migrator.MigrateAsync();

        // Assert
        await using var connection = await test.Database.OpenAsync();
        var applied = (await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version")).ToList();
        Assert.Equal(Migrator.Scripts(test.Database.Provider).Select(m => m.Version), applied);
        Assert.Equal(1, await test.Users.CountAsync());
    }
}
