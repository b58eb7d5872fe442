using Kaizen.Portal.Data;
using Microsoft.Data.Sqlite;

namespace Kaizen.Portal.Tests.Data;

/// <summary>SQLite compiles each statement against the migrated schema, which also catches unknown tables and columns.</summary>
public sealed class SqliteStatementTests
{
    public static TheoryData<string> SqliteStatements =>
        new(SqlStatements.Fields(DatabaseProvider.Sqlite).Keys);

    [Theory]
    [MemberData(nameof(SqliteStatements))]
    public async Task Statement_compiles_against_the_migrated_schema(string statement)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync("Sqlite");
        var sql = SqlStatements.AsSent(SqlStatements.Sqlite[statement]);
        await using var connection = (SqliteConnection)await test.Database.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN " + sql;
        foreach (var name in SqlStatements.Parameters(sql))
            command.Parameters.AddWithValue("@" + name, DBNull.Value);

        // Act
        var error = await Record.ExceptionAsync(async () =>
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
            }
        });

        // Assert
        Assert.True(error is null, $"{statement} does not compile on SQLite: {error?.Message}\n\n{sql}");
    }
}
