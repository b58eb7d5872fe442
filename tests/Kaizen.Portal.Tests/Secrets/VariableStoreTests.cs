using Dapper;
using Kaizen.Portal.Secrets;
using Microsoft.AspNetCore.DataProtection;

namespace Kaizen.Portal.Tests.Secrets;

public sealed class VariableStoreTests
{
    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_secret_is_stored_encrypted_and_listed_without_its_value(string provider)
    {
        // Arrange
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        const string plaintext = "s3cr3t-value-for-the-store-test";

        // Act
        var saved = await db.Variables.SetSecretAsync(VariableScope.Org, "AWS_SECRET_ACCESS_KEY", plaintext, null, "admin");
        var listed = await db.Variables.SecretsAsync(VariableScope.Org);

        // Assert
        Assert.Equal(SaveResult.Created, saved);
        var secret = Assert.Single(listed);
        Assert.Equal(("AWS_SECRET_ACCESS_KEY", "env", null, "admin"), (secret.Name, secret.Kind, secret.FilePath, secret.UpdatedBy));
        Assert.DoesNotContain(plaintext, secret.ToString());
        await using var c = await db.Test.Database.OpenAsync();
        var stored = await c.ExecuteScalarAsync<string>("SELECT value FROM variables WHERE name = 'AWS_SECRET_ACCESS_KEY'");
        Assert.NotNull(stored);
        Assert.DoesNotContain(plaintext, stored);
        Assert.Equal(plaintext, db.Protection.CreateProtector(VariableStore.Purpose)
            .CreateProtector("org", "0", "AWS_SECRET_ACCESS_KEY").Unprotect(stored));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Saving_again_replaces_and_keeps_who_created_it(string provider)
    {
        // Arrange
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        var scope = VariableScope.Project(await db.Test.CreateProjectAsync("web"));
        await db.Variables.SetSecretAsync(scope, "TOKEN", "one", null, "grace");
        db.Test.Clock.Advance(TimeSpan.FromMinutes(5));

        // Act
        var saved = await db.Variables.SetSecretAsync(scope, "TOKEN", "two", "token.txt", "linus");

        // Assert
        Assert.Equal(SaveResult.Replaced, saved);
        var secret = (await db.Variables.FindSecretAsync(scope, "TOKEN"))!;
        Assert.Equal(("grace", "linus", "file", "token.txt"), (secret.CreatedBy, secret.UpdatedBy, secret.Kind, secret.FilePath));
        Assert.Equal(TimeSpan.FromMinutes(5).TotalMilliseconds, secret.UpdatedAt - secret.CreatedAt);
        var (_, secrets) = await db.Provider.ForBuildJobAsync(scope.Id, CancellationToken.None);
        Assert.Equal("two", Assert.Single(secrets).Value);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_name_is_either_a_variable_or_a_secret_in_one_scope(string provider)
    {
        // Arrange
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        await db.Variables.SetVariableAsync(VariableScope.Org, "REGION", "eu", "admin");
        await db.Variables.SetSecretAsync(VariableScope.Org, "TOKEN", "t", null, "admin");

        // Act
        var secretOverVariable = await db.Variables.SetSecretAsync(VariableScope.Org, "REGION", "x", null, "admin");
        var variableOverSecret = await db.Variables.SetVariableAsync(VariableScope.Org, "token", "x", "admin");

        // Assert
        Assert.Equal((SaveResult.NameTaken, SaveResult.NameTaken), (secretOverVariable, variableOverSecret));
        Assert.Equal("eu", (await db.Variables.FindVariableAsync(VariableScope.Org, "REGION"))!.Value);
        Assert.Null(await db.Variables.FindVariableAsync(VariableScope.Org, "TOKEN"));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Deleting_removes_only_that_kind_in_that_scope(string provider)
    {
        // Arrange
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        var scope = VariableScope.Project(await db.Test.CreateProjectAsync("web"));
        await db.Variables.SetSecretAsync(scope, "TOKEN", "t", null, "admin");
        await db.Variables.SetSecretAsync(VariableScope.Org, "TOKEN", "org", null, "admin");
        await db.Variables.SetVariableAsync(scope, "REGION", "eu", "admin");

        // Act
        var asVariable = await db.Variables.DeleteAsync(scope, "TOKEN", isSecret: false);
        var asSecret = await db.Variables.DeleteAsync(scope, "TOKEN", isSecret: true);
        var again = await db.Variables.DeleteAsync(scope, "TOKEN", isSecret: true);

        // Assert
        Assert.Equal((false, true, false), (asVariable, asSecret, again));
        Assert.Equal(["TOKEN"], (await db.Variables.SecretsAsync(VariableScope.Org)).Select(s => s.Name));
        Assert.Equal(["REGION"], (await db.Variables.VariablesAsync(scope)).Select(v => v.Name));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task The_audit_log_lists_the_newest_entries_first(string provider)
    {
        // Arrange
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        await db.Audit.RecordAsync("grace", "secret.created", "org/secret:A", "environment variable");
        db.Test.Clock.Advance(TimeSpan.FromSeconds(1));
        await db.Audit.RecordAsync("linus", "secret.deleted", "org/secret:A");
        db.Test.Clock.Advance(TimeSpan.FromSeconds(1));
        await db.Audit.RecordAsync(user: null, "settings.changed", "project:web/settings");

        // Act
        var two = await db.Audit.NewestAsync(2);
        var all = await db.Audit.NewestAsync(100);

        // Assert
        Assert.Equal([("system", "settings.changed"), ("linus", "secret.deleted")], two.Select(e => (e.Actor, e.Action)));
        Assert.Equal(3, all.Count);
        Assert.Equal(("grace", "org/secret:A", "environment variable"), (all[2].Actor, all[2].Target, all[2].Details));
        Assert.True(all[0].At > all[1].At && all[1].At > all[2].At);
    }
}
