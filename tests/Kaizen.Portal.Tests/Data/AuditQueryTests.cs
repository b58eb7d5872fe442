using Kaizen.Portal.Audit;

namespace Kaizen.Portal.Tests.Data;

/// <summary>The audit log's filters and pages are SQL, the same on SQLite and SQL Server.</summary>
public sealed class AuditQueryTests
{
    private static async Task<AuditLog> LogWithEntriesAsync(TestDatabase test)
    {
        var audit = new AuditLog(test.Database, test.Clock);
        await audit.RecordAsync("alice", AuditActions.SecretCreated, "project:web/secret:KEY");
        test.Clock.Advance(TimeSpan.FromDays(1));
        await audit.RecordAsync("bob", AuditActions.SettingsChanged, "project:web/settings");
        await audit.RecordAsync("bob", AuditActions.ProjectCreated, "project:web-two");
        await audit.RecordAsync("alice", AuditActions.SecretDeleted, "org/secret:OTHER");
        return audit;
    }

    private static AuditFilter Filter(string? actor = null, string? project = null, string? action = null, string? from = null, string? to = null) =>
        AuditFilter.Parse(actor, project, action, from, to).Filter!;

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Each_filter_and_their_combination_keep_only_matching_entries_newest_first(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var audit = await LogWithEntriesAsync(test);

        // Act
        async Task<List<string>> Targets(AuditFilter filter) =>
            (await audit.QueryAsync(filter, before: null, limit: 100)).Entries.Select(e => e.Target).ToList();

        // Assert
        Assert.Equal(["org/secret:OTHER", "project:web-two", "project:web/settings", "project:web/secret:KEY"], await Targets(AuditFilter.None));
        Assert.Equal(["project:web/settings", "project:web/secret:KEY"], await Targets(Filter(project: "web")));
        Assert.Equal(["org/secret:OTHER", "project:web/secret:KEY"], await Targets(Filter(action: "secret")));
        Assert.Equal(["project:web/secret:KEY"], await Targets(Filter(action: "secret.created")));
        Assert.Equal(["project:web-two", "project:web/settings"], await Targets(Filter(actor: "bob")));
        Assert.Equal(["org/secret:OTHER"], await Targets(Filter(actor: "alice", from: "2030-01-02")));
        Assert.Equal(["project:web/secret:KEY"], await Targets(Filter(to: "2030-01-01")));
        Assert.Equal(["project:web/secret:KEY"], await Targets(Filter(to: "2030-01-01T12:00:00Z")));
        Assert.Empty(await Targets(Filter(actor: "bob", project: "web", action: "secret")));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Pages_continue_before_the_last_entry_until_the_last_page_says_there_is_no_next(string provider)
    {
        // Arrange
        await using var test = await TestDatabase.CreateAsync(provider);
        var audit = await LogWithEntriesAsync(test);

        // Act
        var first = await audit.QueryAsync(AuditFilter.None, before: null, limit: 3);
        var second = await audit.QueryAsync(AuditFilter.None, first.NextBefore, limit: 3);

        // Assert
        Assert.Equal(3, first.Entries.Count);
        Assert.Equal(first.Entries[^1].Id, first.NextBefore);
        Assert.Equal("project:web/secret:KEY", Assert.Single(second.Entries).Target);
        Assert.Null(second.NextBefore);
    }

    [Theory]
    [InlineData("project:web/server:production/deploy:7", "/deploys/7")]
    [InlineData("project:web/server:production", "/projects/web/servers/production")]
    [InlineData("project:web/server:production/secret:KEY", "/projects/web/servers/production")]
    [InlineData("project:web/server:production/runner-labels", "/projects/web/servers/production")]
    [InlineData("project:web/build:12", "/builds/12")]
    [InlineData("project:web/job:40", "/jobs/40")]
    [InlineData("project:web/settings", "/projects/web/settings")]
    [InlineData("project:web/runner-labels", "/projects/web/settings")]
    [InlineData("project:web/variable:REGION", "/projects/web/variables")]
    [InlineData("project:web/cache:deps", "/projects/web/caches")]
    [InlineData("project:web", "/projects/web")]
    [InlineData("org/variable:REGION", "/admin/variables")]
    [InlineData("user:carol", "/admin/users")]
    [InlineData("script:deploy lambda", "/scripts/deploy%20lambda")]
    [InlineData("scripts", "/scripts")]
    [InlineData("runner:3 (build-box)", "/runners")]
    [InlineData("user:carol/token:ci", null)]
    [InlineData("something else", null)]
    public void An_entry_links_to_the_page_of_what_it_is_about(string target, string? link)
    {
        Assert.Equal(link, AuditTargets.LinkOf(target));
    }
}
