using System.Text;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Data;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Runners;
using Kaizen.Runner.Protocol;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Data;

/// <summary>
/// A fresh, migrated database for one test: a SQLite file in a temp folder, or (when
/// <c>KAIZEN_TEST_SQLSERVER</c> holds a connection string) a new <c>kaizen_test_*</c> database on that server.
/// Both are removed on dispose. Tests get it with <c>[SkippableTheory, InlineData("Sqlite"), InlineData("SqlServer")]</c>.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    public const string SqlServerVariable = "KAIZEN_TEST_SQLSERVER";
    public const int LeaseSeconds = 30;

    private readonly string _directory;
    private readonly string? _masterConnectionString;
    private readonly string? _sqlServerDatabase;

    private TestDatabase(Database database, string directory, string? masterConnectionString, string? sqlServerDatabase)
    {
        Database = database;
        _directory = directory;
        _masterConnectionString = masterConnectionString;
        _sqlServerDatabase = sqlServerDatabase;
        Projects = new ProjectStore(database, Clock);
        Builds = new BuildStore(database, Clock);
        Runners = new RunnerStore(database, Clock);
        Logs = new LogStore(database);
        Users = new UserStore(database, Clock);
    }

    public Database Database { get; }
    public ManualClock Clock { get; } = new();
    public ProjectStore Projects { get; }
    public BuildStore Builds { get; }
    public RunnerStore Runners { get; }
    public LogStore Logs { get; }
    public UserStore Users { get; }

    public Migrator Migrator => new(Database, NullLogger<Migrator>.Instance);

    /// <summary>Skips the test when it asks for SQL Server and none is configured.</summary>
    public static async Task<TestDatabase> CreateAsync(string provider, bool migrate = true)
    {
        var kind = Enum.Parse<DatabaseProvider>(provider);
        var server = Environment.GetEnvironmentVariable(SqlServerVariable);
        Skip.If(kind == DatabaseProvider.SqlServer && string.IsNullOrWhiteSpace(server),
            $"SQL Server is not configured: set {SqlServerVariable} to a connection string to run this test against it.");

        var directory = Directory.CreateTempSubdirectory("kaizen-data-test-").FullName;
        var settings = new Dictionary<string, string?>();
        string? master = null;
        string? name = null;
        if (kind == DatabaseProvider.SqlServer)
        {
            var builder = new SqlConnectionStringBuilder(server) { InitialCatalog = "master" };
            master = builder.ConnectionString;
            name = $"kaizen_test_{Guid.NewGuid():N}";
            await using (var connection = new SqlConnection(master))
            {
                await connection.OpenAsync();
                await using var create = connection.CreateCommand();
                create.CommandText = $"CREATE DATABASE [{name}]";
                await create.ExecuteNonQueryAsync();
            }
            builder.InitialCatalog = name;
            settings["ConnectionStrings:Kaizen"] = builder.ConnectionString;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = Options.Create(new KaizenOptions { DataDirectory = directory, Database = { Provider = kind } });
        var test = new TestDatabase(new Database(options, configuration), directory, master, name);
        if (migrate) await test.Migrator.MigrateAsync();
        return test;
    }

    public async Task<long> CreateProjectAsync(string slug = "shop", BuildSettings? settings = null)
    {
        var id = await Projects.CreateAsync(slug + " project", slug, $"https://git.example/{slug}.git", "main", isPublic: true);
        if (settings is not null) await Projects.SaveSettingsAsync(id, settings);
        return id;
    }

    /// <summary>Setup "restore", jobs test ("unit", "integration") and lint ("format"), epilogue "upload".</summary>
    public static BuildSettings TwoJobs { get; } = new(
        ["restore"],
        [new JobSettings("test", ["unit", "integration"]), new JobSettings("lint", ["format"])],
        ["upload"]);

    public static BuildSettings OneJob(string name = "test") => new([], [new JobSettings(name, ["run"])], []);

    public async Task<long> CreateBuildAsync(long projectId, BuildSettings settings, string branch = "main")
    {
        var sha = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";
        return await Builds.CreateAsync(BuildStore.Plan(projectId, settings, branch, sha, "a change", "Dev", Trigger.Manual, "admin"));
    }

    /// <summary>Registers a runner with two slots (or <paramref name="slots"/>); with a sandbox unless <paramref name="sandbox"/> says otherwise (the
    /// projects this database makes are public, and only sandboxed runners take public projects' jobs).</summary>
    public async Task<long> RegisterRunnerAsync(string name, string sandbox = RunnerSandbox.Bubblewrap, int slots = 2,
        IReadOnlyList<string>? labels = null)
    {
        var request = new RegisterRequest("registration", name, slots, "0.1.0", ["shell", "docker"], labels ?? ["linux", "x64"], sandbox);
        return await Runners.RegisterAsync(request, "hash-" + name);
    }

    public static StreamBatch Output(params byte[][] chunks) =>
        new(chunks.Select(c => new LogChunk(null, c)).ToList(), []);

    public static StreamBatch Output(params string[] texts) => Output(texts.Select(Encoding.UTF8.GetBytes).ToArray());

    public async Task<string> LogTextAsync(long jobId)
    {
        using var output = new MemoryStream();
        await Logs.WriteTextAsync(jobId, output, CancellationToken.None);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        if (_sqlServerDatabase is not null && _masterConnectionString is not null)
        {
            await using (var pooled = (SqlConnection)await Database.OpenAsync())
                SqlConnection.ClearPool(pooled);
            await using var connection = new SqlConnection(_masterConnectionString);
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText =
                $"ALTER DATABASE [{_sqlServerDatabase}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{_sqlServerDatabase}];";
            await drop.ExecuteNonQueryAsync();
        }
        else
        {
            // The provider pools connections; close this file's pooled ones so the folder can go.
            await using (var connection = await Database.OpenAsync())
                SqliteConnection.ClearPool((SqliteConnection)connection);
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 4)
            {
                await Task.Delay(100);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
        }
    }
}
