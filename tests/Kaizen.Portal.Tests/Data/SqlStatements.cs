using System.Reflection;
using System.Text.RegularExpressions;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Tests.Data;

/// <summary>
/// Every SQL statement of the portal, found by reflection: the public <c>const string</c> and
/// <c>static readonly SqlText</c> fields of each <c>XxxSql</c> class, plus the migration scripts' batches.
/// Private constants are column lists and filters that the public statements are built from, so they are
/// checked as part of those statements.
/// </summary>
internal static partial class SqlStatements
{
    public static Assembly Portal => typeof(Database).Assembly;

    public static IReadOnlyList<Type> SqlClasses { get; } = Portal.GetTypes()
        .Where(t => t.Name.EndsWith("Sql", StringComparison.Ordinal))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>Field name (Class.Field) to its text for one dialect.</summary>
    public static IReadOnlyDictionary<string, string> Fields(DatabaseProvider provider)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var type in SqlClasses)
        {
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var name = $"{type.Name}.{field.Name}";
                if (field.IsLiteral && field.FieldType == typeof(string))
                    result[name] = (string)field.GetRawConstantValue()!;
                else if (field.IsInitOnly && field.FieldType == typeof(SqlText))
                {
                    var text = (SqlText)field.GetValue(null)!;
                    result[name] = provider == DatabaseProvider.SqlServer ? text.SqlServer : text.Sqlite;
                }
            }
        }
        return result;
    }

    /// <summary>Each batch of each migration script, named like "0001_initial.sql#1".</summary>
    public static IReadOnlyDictionary<string, string> MigrationBatches(DatabaseProvider provider)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var migration in Migrator.Scripts(provider))
        {
            var batch = 0;
            foreach (var text in Migrator.SplitBatches(migration.Script))
                result[$"{provider}/{migration.Name}#{++batch}"] = text;
        }
        return result;
    }

    /// <summary>Every statement sent to SQL Server, by name.</summary>
    public static IReadOnlyDictionary<string, string> SqlServer { get; } =
        Fields(DatabaseProvider.SqlServer).Concat(MigrationBatches(DatabaseProvider.SqlServer))
            .ToDictionary(p => p.Key, p => p.Value);

    /// <summary>Every statement sent to SQLite, by name.</summary>
    public static IReadOnlyDictionary<string, string> Sqlite { get; } =
        Fields(DatabaseProvider.Sqlite).Concat(MigrationBatches(DatabaseProvider.Sqlite))
            .ToDictionary(p => p.Key, p => p.Value);

    /// <summary>
    /// Dapper expands a list parameter written <c>IN @Ids</c> into <c>IN (@Ids1, @Ids2, ...)</c> before the
    /// database sees it; this does the same (with one element) so the text checked is the text sent.
    /// </summary>
    public static string AsSent(string sql) => ListParameter().Replace(sql, "IN (@$1)");

    public static IReadOnlyList<string> Parameters(string sql) =>
        ParameterName().Matches(sql).Select(m => m.Groups[1].Value).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    [GeneratedRegex(@"\bIN\s+@(\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex ListParameter();

    [GeneratedRegex(@"@(\w+)")]
    private static partial Regex ParameterName();
}
