using Kaizen.Portal.Data;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace Kaizen.Portal.Tests.Data;

/// <summary>No SQL Server runs on our machines, so every statement it would receive is at least parsed here.</summary>
public sealed class SqlServerStatementTests
{
    public static TheoryData<string> SqlServerStatements => new(SqlStatements.SqlServer.Keys);

    [Theory]
    [MemberData(nameof(SqlServerStatements))]
    public void Statement_parses_as_TSql(string statement)
    {
        // Arrange
        var sql = SqlStatements.AsSent(SqlStatements.SqlServer[statement]);

        // Act
        var errors = ParseErrors(sql);

        // Assert
        Assert.True(errors.Count == 0,
            $"{statement} does not parse as T-SQL:\n" +
            string.Join("\n", errors.Select(e => $"  line {e.Line}, column {e.Column}: {e.Message}")) +
            $"\n\n{sql}");
    }

    [Theory]
    [InlineData("SELECT id FROM jobs ORDER BY id LIMIT 1")]
    [InlineData("UPDATE jobs SET status = 'running' WHERE id = 1 RETURNING id")]
    [InlineData("id, name AS Name, status")]
    [InlineData("SELECT id FROM jobs WHERE id IN @Ids")]
    public void SQLite_only_syntax_and_fragments_are_reported(string sql)
    {
        // Arrange: nothing; the text is SQLite's dialect, a column list, or a list parameter Dapper has not expanded.

        // Act
        var errors = ParseErrors(sql);

        // Assert
        Assert.NotEmpty(errors);
    }

    private static IList<ParseError> ParseErrors(string sql)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        using var reader = new StringReader(sql);
        parser.Parse(reader, out var errors);
        return errors;
    }

    [Fact]
    public void Statements_are_found_in_every_store_and_migration()
    {
        // Arrange
        var names = SqlStatements.SqlServer.Keys.ToList();

        // Act
        var classes = names.Where(n => !n.StartsWith("SqlServer/", StringComparison.Ordinal))
            .Select(n => n[..n.IndexOf('.')]).ToHashSet();

        // Assert
        Assert.True(names.Count > 30, $"Only {names.Count} statements were found: {string.Join(", ", names)}");
        Assert.Superset(new HashSet<string> { "ProjectSql", "BuildSql", "LogSql", "RunnerSql", "UserSql", "MigrationSql" }, classes);
        Assert.Contains(names, n => n.StartsWith("SqlServer/0001_", StringComparison.Ordinal));
    }

    [Fact]
    public void Both_dialects_have_the_same_migration_versions()
    {
        // Arrange
        var sqlite = Migrator.Scripts(DatabaseProvider.Sqlite);
        var sqlServer = Migrator.Scripts(DatabaseProvider.SqlServer);

        // Act
        var sqliteVersions = sqlite.Select(m => m.Version).ToList();
        var sqlServerVersions = sqlServer.Select(m => m.Version).ToList();

        // Assert
        Assert.NotEmpty(sqlite);
        Assert.Equal(sqliteVersions, sqlServerVersions);
        Assert.Equal(sqlite.Count, sqlite.Select(m => m.Version).Distinct().Count());
    }
}
