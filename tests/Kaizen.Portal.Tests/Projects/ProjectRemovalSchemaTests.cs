using Dapper;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Data;

namespace Kaizen.Portal.Tests.Projects;

/// <summary>Deleting a project must not leave rows behind when a migration adds a table that holds a project's rows.</summary>
public sealed class ProjectRemovalSchemaTests
{
    /// <summary>Columns that tie a row to a project, directly or through its builds, jobs, servers, deploys or variables.</summary>
    private static readonly string[] ProjectKeys = ["project_id", "build_id", "job_id", "server_id", "deploy_id", "scope_id"];

    [Fact]
    public async Task Every_table_that_holds_a_projects_rows_is_emptied_of_them_when_the_project_is_deleted()
    {
        // Arrange
        await using var db = await TestDatabase.CreateAsync("Sqlite");
        await using var c = await db.Database.OpenAsync();

        // Act
        var tables = (await c.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")).ToList();
        var keyed = new List<string>();
        foreach (var table in tables)
        {
            var columns = await c.QueryAsync<string>($"SELECT name FROM pragma_table_info('{table}')");
            if (columns.Any(ProjectKeys.Contains)) keyed.Add(table);
        }

        // Assert
        Assert.Contains("builds", keyed);
        Assert.Empty(keyed.Except(ProjectRemoval.Tables));
    }
}
