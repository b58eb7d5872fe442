using Kaizen.Portal.Hosting;
using Kaizen.Runner.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Kaizen.Portal.Tests.Hosting;

/// <summary>Which failures count as "the storage is full" (answered 507), taken from real file systems and a real SQLite.</summary>
public sealed class StorageFullTests
{
    [SkippableFact]
    public void A_file_write_that_meets_no_space_left_on_the_device_is_storage_full()
    {
        Skip.IfNot(File.Exists("/dev/full"), "No /dev/full here");
        var failure = Record.Exception(() =>
        {
            using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            full.Write(new byte[4096]);
        });

        Assert.IsAssignableFrom<IOException>(failure);
        Assert.True(StorageFull.Is(failure), failure.ToString());
        Assert.True(StorageFull.Is(new InvalidOperationException("wrapped", failure)));
        Assert.True(StorageFull.Is(new AggregateException(new TimeoutException(), failure)));
    }

    [Fact]
    public void A_sqlite_database_that_cannot_grow_is_storage_full_and_other_database_errors_are_not()
    {
        using var folder = new TempDirectory();
        using var db = new SqliteConnection($"Data Source={folder.Combine("full.db")};Pooling=False");
        db.Open();
        Exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
        Exec(db, "PRAGMA max_page_count = 8");

        var full = Record.Exception(() => Exec(db, "INSERT INTO t (data) VALUES (zeroblob(1000000))"));
        var constraint = Record.Exception(() => Exec(db, "INSERT INTO t (id, data) VALUES (NULL, NULL)"));

        Assert.Equal(13, Assert.IsType<SqliteException>(full).SqliteErrorCode);
        Assert.True(StorageFull.Is(full));
        Assert.False(StorageFull.Is(Assert.IsType<SqliteException>(constraint)));
    }

    [Fact]
    public void A_missing_file_is_not_storage_full()
    {
        var missing = Record.Exception(() => File.ReadAllBytes(Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}")));

        Assert.False(StorageFull.Is(Assert.IsAssignableFrom<IOException>(missing)));
        Assert.False(StorageFull.Is(null));
    }

    private static void Exec(SqliteConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
