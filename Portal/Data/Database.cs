using System.Data.Common;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Data;

/// <summary>
/// Opens connections for the configured provider. SQL that differs per dialect is written as a <see cref="SqlText"/>
/// pair and picked here, so the rest of the code never asks which database it talks to.
/// </summary>
public sealed class Database
{
    private readonly string _connectionString;

    public Database(IOptions<KaizenOptions> options, IConfiguration configuration)
    {
        var kaizen = options.Value;
        Provider = kaizen.Database.Provider;
        var configured = configuration.GetConnectionString("Kaizen");
        if (Provider == DatabaseProvider.SqlServer)
        {
            if (string.IsNullOrWhiteSpace(configured))
                throw new InvalidOperationException(
                    "Kaizen:Database:Provider is SqlServer but ConnectionStrings:Kaizen is not set.");
            _connectionString = configured;
            return;
        }

        var builder = new SqliteConnectionStringBuilder(configured ?? string.Empty);
        if (string.IsNullOrEmpty(builder.DataSource))
        {
            var dir = kaizen.ResolveDataDirectory();
            Directory.CreateDirectory(dir);
            builder.DataSource = Path.Combine(dir, "kaizen.db");
        }
        builder.Pooling = true;
        builder.DefaultTimeout = 30;
        _connectionString = builder.ToString();
    }

    public DatabaseProvider Provider { get; }

    /// <summary>The statement for this database.</summary>
    public string Sql(SqlText text) => Provider == DatabaseProvider.SqlServer ? text.SqlServer : text.Sqlite;

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        DbConnection connection = Provider == DatabaseProvider.SqlServer
            ? new SqlConnection(_connectionString)
            : new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        if (connection is SqliteConnection sqlite)
        {
            // busy_timeout lets concurrent writers wait for each other instead of failing with SQLITE_BUSY.
            using var pragma = sqlite.CreateCommand();
            pragma.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }
        return connection;
    }
}

/// <summary>One statement written for each dialect. Both texts are checked by tests (SQL Server's with ScriptDom).</summary>
public sealed record SqlText(string Sqlite, string SqlServer);
