using Dapper;
using Kaizen.Portal.Secrets;
using Microsoft.AspNetCore.DataProtection;

namespace Kaizen.Portal.Tests.Secrets;

public sealed class JobEnvironmentProviderTests
{
    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task The_narrowest_scope_wins_by_name_whatever_the_kind(string provider)
    {
        // Arrange
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        var web = await db.Test.CreateProjectAsync("web");
        var other = await db.Test.CreateProjectAsync("other");
        var store = db.Variables;
        await store.SetVariableAsync(VariableScope.Org, "REGION", "eu-west-1", "admin");
        await store.SetVariableAsync(VariableScope.Org, "LOG_LEVEL", "info", "admin");
        await store.SetSecretAsync(VariableScope.Org, "NPM_TOKEN", "org-npm", null, "admin");
        await store.SetSecretAsync(VariableScope.Org, "DEPLOY_KEY", "org-key", null, "admin");
        await store.SetVariableAsync(VariableScope.Project(web), "REGION", "us-east-1", "admin");
        await store.SetSecretAsync(VariableScope.Project(web), "NPM_TOKEN", "web-npm", null, "admin");
        await store.SetVariableAsync(VariableScope.Project(web), "DEPLOY_KEY", "not secret here", "admin");
        await store.SetVariableAsync(VariableScope.Project(other), "REGION", "ap-south-1", "admin");

        // Act
        var (environment, secrets) = await db.Provider.ForBuildJobAsync(web, CancellationToken.None);

        // Assert
        Assert.Equal(new Dictionary<string, string>
        {
            ["DEPLOY_KEY"] = "not secret here",
            ["LOG_LEVEL"] = "info",
            ["REGION"] = "us-east-1",
        }, environment);
        Assert.Equal([new Kaizen.Runner.Protocol.JobSecret("NPM_TOKEN", "web-npm")], secrets);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Secrets_reach_the_job_decrypted_with_their_file_path_and_variables_stay_plain(string provider)
    {
        // Arrange
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        var web = await db.Test.CreateProjectAsync("web");
        await db.Variables.SetSecretAsync(VariableScope.Project(web), "SSH_KEY", "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
            "keys/deploy.pem", "admin");
        await db.Variables.SetSecretAsync(VariableScope.Org, "API_TOKEN", "t0k3n", null, "admin");
        await db.Variables.SetVariableAsync(VariableScope.Org, "CI_MODE", "full", "admin");

        // Act
        var (environment, secrets) = await db.Provider.ForBuildJobAsync(web, CancellationToken.None);

        // Assert
        Assert.Equal(new Dictionary<string, string> { ["CI_MODE"] = "full" }, environment);
        Assert.Equal(
            [new("API_TOKEN", "t0k3n", null), new Kaizen.Runner.Protocol.JobSecret("SSH_KEY", "-----BEGIN KEY-----\nabc\n-----END KEY-----\n", "keys/deploy.pem")],
            secrets);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_project_without_variables_gets_only_the_organizations(string provider)
    {
        // Arrange
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        var web = await db.Test.CreateProjectAsync("web");
        var other = await db.Test.CreateProjectAsync("other");
        await db.Variables.SetSecretAsync(VariableScope.Project(other), "OTHER_SECRET", "theirs", null, "admin");
        await db.Variables.SetVariableAsync(VariableScope.Org, "SHARED", "yes", "admin");

        // Act
        var (environment, secrets) = await db.Provider.ForBuildJobAsync(web, CancellationToken.None);

        // Assert
        Assert.Equal(new Dictionary<string, string> { ["SHARED"] = "yes" }, environment);
        Assert.Empty(secrets);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_secret_whose_keys_are_gone_fails_the_job_with_a_clear_reason_instead_of_running_without_it(string provider)
    {
        // Arrange: saved with one key ring, read with another (as when the keys folder was lost).
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        var web = await db.Test.CreateProjectAsync("web");
        await db.Variables.SetSecretAsync(VariableScope.Org, "API_TOKEN", "t0k3n", null, "admin");
        var otherKeys = new JobEnvironmentProvider(new VariableStore(db.Test.Database, new EphemeralDataProtectionProvider(), db.Test.Clock));

        // Act
        var error = await Assert.ThrowsAsync<SecretUnreadableException>(() => otherKeys.ForBuildJobAsync(web, CancellationToken.None));

        // Assert
        // The message is the job's failure reason, which anonymous readers of a public project see: no secret's name.
        Assert.DoesNotContain("API_TOKEN", error.Message);
        Assert.Equal("API_TOKEN", error.SecretName);
        Assert.Contains("org scope", error.Message);
        Assert.Contains("Kaizen:Secrets:KeysDirectory", error.Message);
        Assert.DoesNotContain("t0k3n", error.Message);
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_ciphertext_copied_to_another_secret_does_not_decrypt(string provider)
    {
        // Arrange: someone with write access to the database moves a project secret's ciphertext into another row.
        await using var db = await SecretTestDatabase.CreateAsync(provider);
        var web = await db.Test.CreateProjectAsync("web");
        await db.Variables.SetSecretAsync(VariableScope.Project(web), "PROD_KEY", "the production key", null, "admin");
        await db.Variables.SetSecretAsync(VariableScope.Org, "HARMLESS", "anything", null, "admin");
        await using (var c = await db.Test.Database.OpenAsync())
        {
            var ciphertext = await c.ExecuteScalarAsync<string>("SELECT value FROM variables WHERE name = 'PROD_KEY'");
            await c.ExecuteAsync("UPDATE variables SET value = @V WHERE name = 'HARMLESS'", new { V = ciphertext });
            await c.ExecuteAsync("DELETE FROM variables WHERE name = 'PROD_KEY'");
        }

        // Act
        var error = await Record.ExceptionAsync(() => db.Provider.ForBuildJobAsync(web, CancellationToken.None));

        // Assert
        Assert.IsType<SecretUnreadableException>(error);
    }
}
