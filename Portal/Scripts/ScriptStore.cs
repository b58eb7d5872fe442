using System.Data.Common;
using Dapper;
using Kaizen.Portal.Data;

namespace Kaizen.Portal.Scripts;

/// <summary>The library's rows: scripts, their immutable versions, the git settings, and the runs recorded in builds.</summary>
public sealed class ScriptStore(Database db, TimeProvider time)
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Every script not deleted, by name.</summary>
    public async Task<IReadOnlyList<ScriptSummary>> ListAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ScriptRow>(ScriptSql.List)).Select(r => r.ToSummary()).ToList();
    }

    /// <summary>A script by name, deleted ones too (their versions stay for the builds that ran them).</summary>
    public async Task<ScriptRow?> FindAsync(string name, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ScriptRow>(ScriptSql.ByName, new { Name = name });
    }

    /// <summary>Every version of a script, newest first.</summary>
    public async Task<IReadOnlyList<ScriptVersion>> VersionsAsync(string name, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<VersionRow>(ScriptSql.Versions, new { Name = name })).Select(r => r.ToVersion()).ToList();
    }

    /// <summary>One version of a script (of a deleted one too), or null.</summary>
    public async Task<ScriptVersion?> VersionAsync(string name, int version, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await VersionAsync(c, null, name, version);
    }

    /// <summary>One version, read inside another store's transaction (a runner claiming a job).</summary>
    internal static async Task<ScriptVersion?> VersionAsync(DbConnection c, DbTransaction? tx, string name, int version) =>
        (await c.QuerySingleOrDefaultAsync<VersionRow>(ScriptSql.Version, new { Name = name, Version = version }, tx))?.ToVersion();

    /// <summary>
    /// Adds a version when <paramref name="body"/> or <paramref name="description"/> differ from the latest one (or the
    /// script is new or deleted); otherwise changes nothing. The caller serializes saves of one portal.
    /// </summary>
    public async Task<ScriptSaved> SaveAsync(string name, string body, string description, string author, string? commitSha,
        CancellationToken ct = default)
    {
        var now = Now;
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var script = await c.QuerySingleOrDefaultAsync<ScriptRow>(ScriptSql.ByName, new { Name = name }, tx);
        if (script is { DeletedAt: null })
        {
            var latest = await c.QuerySingleOrDefaultAsync<VersionRow>(ScriptSql.Version, new { Name = name, Version = script.LatestVersion }, tx);
            if (latest is not null && latest.Body == body && latest.Description == description)
                return new ScriptSaved(name, script.LatestVersion, false);
        }

        long id;
        int version;
        if (script is null)
        {
            version = 1;
            id = await c.ExecuteScalarAsync<long>(db.Sql(ScriptSql.Insert),
                new { Name = name, Description = description, Version = version, Now = now, Actor = author }, tx);
        }
        else
        {
            id = script.Id;
            version = script.LatestVersion + 1;
            await c.ExecuteAsync(ScriptSql.Advance, new { Id = id, Description = description, Version = version, Now = now, Actor = author }, tx);
        }
        await c.ExecuteAsync(ScriptSql.InsertVersion, new
        {
            ScriptId = id, Version = version, Body = body, Description = description, Author = author, Now = now, CommitSha = commitSha,
        }, tx);
        await tx.CommitAsync(ct);
        return new ScriptSaved(name, version, true);
    }

    /// <summary>Marks a script deleted; its versions stay. False when there was no such script.</summary>
    public async Task<bool> DeleteAsync(string name, string actor, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(ScriptSql.Delete, new { Name = name, Now = Now, Actor = actor }) == 1;
    }

    /// <summary>Undoes the delete of a script whose versions exist; false when it was not deleted.</summary>
    public async Task<bool> RestoreAsync(string name, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(ScriptSql.Restore, new { Name = name }) == 1;
    }

    /// <summary>The commits already recorded as versions of a script (git-backed libraries).</summary>
    public async Task<IReadOnlySet<string>> CommitsAsync(string name, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<string>(ScriptSql.Commits, new { Name = name })).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The newest runs of a script (its sections in jobs), newest first.</summary>
    public async Task<IReadOnlyList<ScriptRunTime>> RunsAsync(string name, int limit, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<RunRow>(db.Sql(ScriptSql.Runs), new { Name = name, Limit = Math.Clamp(limit, 1, 500) });
        return rows.Select(r => new ScriptRunTime(r.BuildId, r.JobId, r.ProjectSlug, r.JobName, r.DeployId is not null, r.Version,
            r.Status, r.StartedAt, r.DurationMs, r.ExitCode)).ToList();
    }

    /// <summary>Every server's deploy commands with its project, for finding where scripts are used.</summary>
    public async Task<IReadOnlyList<ServerCommandsRow>> ServerCommandsAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ServerCommandsRow>(ScriptSql.ServerCommands)).AsList();
    }

    /// <summary>The git settings of the library, or null when scripts are managed in the portal.</summary>
    public async Task<LibraryRow?> LibraryAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<LibraryRow>(ScriptSql.Library);
    }

    /// <summary>Makes the library git-backed (or changes its settings); the sync status starts over.</summary>
    public async Task SetLibraryAsync(LibraryRow row, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(ScriptSql.ClearLibrary, transaction: tx);
        await c.ExecuteAsync(ScriptSql.InsertLibrary, row, tx);
        await tx.CommitAsync(ct);
    }

    /// <summary>Returns the library to portal-managed scripts.</summary>
    public async Task ClearLibraryAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ScriptSql.ClearLibrary);
    }

    /// <summary>Records how a sync went (<paramref name="error"/> null when it worked).</summary>
    public async Task SetSyncStatusAsync(string? commit, string? error, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(ScriptSql.SyncStatus, new { Now = Now, Commit = commit, Error = error });
    }
}

/// <summary>A row of <c>scripts</c>.</summary>
public sealed class ScriptRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string Description { get; init; } = "";
    public int LatestVersion { get; init; }
    public long CreatedAt { get; init; }
    public string CreatedBy { get; init; } = "";
    public long UpdatedAt { get; init; }
    public string UpdatedBy { get; init; } = "";
    public long? DeletedAt { get; init; }

    public ScriptSummary ToSummary() => new(Name, Description, LatestVersion, UpdatedAt, UpdatedBy);
}

/// <summary>The row of <c>script_library</c>; <see cref="GitCredential"/> and <see cref="WebhookSecret"/> are ciphertext.</summary>
public sealed class LibraryRow
{
    public string GitUrl { get; init; } = "";
    public string? GitBranch { get; init; }
    public string GitFolder { get; init; } = "";
    public string? GitUsername { get; init; }
    public string? GitCredential { get; init; }
    public string WebhookSecret { get; init; } = "";
    public long? SyncedAt { get; init; }
    public string? SyncedCommit { get; init; }
    public string? SyncError { get; init; }
    public long UpdatedAt { get; init; }
    public string UpdatedBy { get; init; } = "";
}

/// <summary>A server's deploy commands (JSON list) with its project.</summary>
public sealed class ServerCommandsRow
{
    public string ProjectSlug { get; init; } = "";
    public string ServerName { get; init; } = "";
    public string CommandsJson { get; init; } = "[]";
}

internal sealed class VersionRow
{
    public string Name { get; init; } = "";
    public int Version { get; init; }
    public string Body { get; init; } = "";
    public string Description { get; init; } = "";
    public string Author { get; init; } = "";
    public long CreatedAt { get; init; }
    public string? CommitSha { get; init; }

    public ScriptVersion ToVersion() => new(Name, Version, Body, Description, Author, CreatedAt, CommitSha);
}

internal sealed class RunRow
{
    public long BuildId { get; init; }
    public long JobId { get; init; }
    public long? DeployId { get; init; }
    public string ProjectSlug { get; init; } = "";
    public string JobName { get; init; } = "";
    public int Version { get; init; }
    public string Status { get; init; } = "";
    public long? StartedAt { get; init; }
    public long? DurationMs { get; init; }
    public int? ExitCode { get; init; }
}

internal static class ScriptSql
{
    private const string Columns =
        "id, name, description, latest_version AS LatestVersion, created_at AS CreatedAt, created_by AS CreatedBy, " +
        "updated_at AS UpdatedAt, updated_by AS UpdatedBy, deleted_at AS DeletedAt";

    private const string VersionColumns =
        "s.name, v.version, v.body, v.description, v.author, v.created_at AS CreatedAt, v.commit_sha AS CommitSha";

    public const string List = "SELECT " + Columns + " FROM scripts WHERE deleted_at IS NULL ORDER BY name";

    public const string ByName = "SELECT " + Columns + " FROM scripts WHERE name = @Name";

    public const string Versions =
        "SELECT " + VersionColumns + " FROM script_versions v JOIN scripts s ON s.id = v.script_id WHERE s.name = @Name ORDER BY v.version DESC";

    public const string Version =
        "SELECT " + VersionColumns + " FROM script_versions v JOIN scripts s ON s.id = v.script_id WHERE s.name = @Name AND v.version = @Version";

    public static readonly SqlText Insert = new(
        "INSERT INTO scripts (name, description, latest_version, created_at, created_by, updated_at, updated_by) " +
        "VALUES (@Name, @Description, @Version, @Now, @Actor, @Now, @Actor) RETURNING id",
        "INSERT INTO scripts (name, description, latest_version, created_at, created_by, updated_at, updated_by) " +
        "OUTPUT INSERTED.id VALUES (@Name, @Description, @Version, @Now, @Actor, @Now, @Actor)");

    public const string Advance =
        "UPDATE scripts SET description = @Description, latest_version = @Version, updated_at = @Now, updated_by = @Actor, " +
        "deleted_at = NULL, deleted_by = NULL WHERE id = @Id";

    public const string InsertVersion =
        "INSERT INTO script_versions (script_id, version, body, description, author, created_at, commit_sha) " +
        "VALUES (@ScriptId, @Version, @Body, @Description, @Author, @Now, @CommitSha)";

    public const string Delete =
        "UPDATE scripts SET deleted_at = @Now, deleted_by = @Actor WHERE name = @Name AND deleted_at IS NULL";

    public const string Restore =
        "UPDATE scripts SET deleted_at = NULL, deleted_by = NULL WHERE name = @Name AND deleted_at IS NOT NULL";

    public const string Commits =
        "SELECT v.commit_sha FROM script_versions v JOIN scripts s ON s.id = v.script_id WHERE s.name = @Name AND v.commit_sha IS NOT NULL";

    private const string RunColumns =
        "j.build_id AS BuildId, j.id AS JobId, j.deploy_id AS DeployId, p.slug AS ProjectSlug, j.name AS JobName, " +
        "c.script_version AS Version, c.status, c.started_at AS StartedAt, c.duration_ms AS DurationMs, c.exit_code AS ExitCode";

    private const string RunFrom =
        " FROM commands c JOIN jobs j ON j.id = c.job_id JOIN builds b ON b.id = j.build_id JOIN projects p ON p.id = b.project_id " +
        "WHERE c.script_name = @Name AND c.status IN ('passed', 'failed', 'running') ORDER BY j.id DESC, c.idx DESC";

    public static readonly SqlText Runs = new(
        "SELECT " + RunColumns + RunFrom + " LIMIT @Limit",
        "SELECT TOP (@Limit) " + RunColumns + RunFrom);

    public const string ServerCommands =
        "SELECT p.slug AS ProjectSlug, s.name AS ServerName, s.commands_json AS CommandsJson FROM servers s " +
        "JOIN projects p ON p.id = s.project_id ORDER BY p.slug, s.name";

    private const string LibraryColumns =
        "git_url AS GitUrl, git_branch AS GitBranch, git_folder AS GitFolder, git_username AS GitUsername, " +
        "git_credential AS GitCredential, webhook_secret AS WebhookSecret, synced_at AS SyncedAt, synced_commit AS SyncedCommit, " +
        "sync_error AS SyncError, updated_at AS UpdatedAt, updated_by AS UpdatedBy";

    public const string Library = "SELECT " + LibraryColumns + " FROM script_library WHERE id = 1";

    public const string ClearLibrary = "DELETE FROM script_library";

    public const string InsertLibrary =
        "INSERT INTO script_library (id, git_url, git_branch, git_folder, git_username, git_credential, webhook_secret, updated_at, updated_by) " +
        "VALUES (1, @GitUrl, @GitBranch, @GitFolder, @GitUsername, @GitCredential, @WebhookSecret, @UpdatedAt, @UpdatedBy)";

    public const string SyncStatus =
        "UPDATE script_library SET synced_at = @Now, synced_commit = COALESCE(@Commit, synced_commit), sync_error = @Error WHERE id = 1";
}
