using System.Data.Common;
using System.Reflection;
using System.Text.RegularExpressions;
using Dapper;

namespace Kaizen.Portal.Data;

/// <summary>
/// Applies the versioned SQL scripts embedded under Data/Migrations/{Sqlite|SqlServer}/NNNN_name.sql, in order,
/// each in its own transaction, recording applied versions in schema_migrations.
/// </summary>
public sealed partial class Migrator(Database database, ILogger<Migrator> logger)
{
    public static IReadOnlyList<Migration> Scripts(DatabaseProvider provider)
    {
        var assembly = typeof(Migrator).Assembly;
        var prefix = $"{assembly.GetName().Name}.Data.Migrations.{provider}.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[prefix.Length..];
                var match = VersionPattern().Match(file);
                if (!match.Success)
                    throw new InvalidOperationException($"Migration '{file}' must be named NNNN_description.sql.");
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return new Migration(int.Parse(match.Groups[1].Value), file, reader.ReadToEnd());
            })
            .OrderBy(m => m.Version)
            .ToList();
    }

    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Provider == DatabaseProvider.Sqlite)
            await connection.ExecuteAsync("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");

        await connection.ExecuteAsync(database.Sql(MigrationSql.CreateTable));
        var applied = (await connection.QueryAsync<int>(MigrationSql.Applied)).ToHashSet();
        foreach (var migration in Scripts(database.Provider).Where(m => !applied.Contains(m.Version)))
        {
            logger.LogInformation("Applying database migration {Name}", migration.Name);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var batch in SplitBatches(migration.Script))
                await connection.ExecuteAsync(batch, transaction: tx);
            await connection.ExecuteAsync(MigrationSql.Record,
                new { migration.Version, AppliedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, tx);
            await tx.CommitAsync(cancellationToken);
        }
    }

    /// <summary>Scripts may separate batches with a line holding only GO (SQL Server's convention).</summary>
    public static IEnumerable<string> SplitBatches(string script) =>
        GoPattern().Split(script).Where(b => !string.IsNullOrWhiteSpace(b));

    [GeneratedRegex(@"^(\d+)_[\w-]+\.sql$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^\s*GO\s*$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex GoPattern();
}

public sealed record Migration(int Version, string Name, string Script);

internal static class MigrationSql
{
    public static readonly SqlText CreateTable = new(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        "IF OBJECT_ID(N'schema_migrations', N'U') IS NULL CREATE TABLE schema_migrations (version INT PRIMARY KEY, applied_at BIGINT NOT NULL)");

    public const string Applied = "SELECT version FROM schema_migrations";

    public const string Record = "INSERT INTO schema_migrations (version, applied_at) VALUES (@Version, @AppliedAt)";
}
