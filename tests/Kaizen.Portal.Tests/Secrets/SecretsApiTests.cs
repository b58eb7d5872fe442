using System.Net;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Portal.Api;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Secrets;

/// <summary>The variables and secrets API against the real portal: write-only secrets, who may do what, and bad input.</summary>
public sealed class SecretsApiTests(SecretsPortal fixture) : IClassFixture<SecretsPortal>
{
    private readonly PortalHost _portal = fixture.Portal;
    private string Slug => fixture.Slug;

    private static string Distinctive() => "kaizen-plaintext-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Secrets_are_write_only_and_no_api_returns_a_saved_value()
    {
        // Arrange
        var orgValue = Distinctive();
        var projectValue = Distinctive();

        // Act
        using var putOrg = await _portal.Api.PutAsJsonAsync("/api/v1/secrets/WRITE_ONLY_ORG", new { value = orgValue });
        using var putProject = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{Slug}/secrets/WRITE_ONLY_PROJECT",
            new { value = projectValue, file = "keys/deploy.pem" });

        // Assert
        Assert.Equal(HttpStatusCode.Created, putOrg.StatusCode);
        Assert.Equal(HttpStatusCode.Created, putProject.StatusCode);
        var project = (await putProject.Content.ReadFromJsonAsync<SecretResponse>())!;
        Assert.Equal(("WRITE_ONLY_PROJECT", "file", "keys/deploy.pem", "project", Slug, "admin"),
            (project.Name, project.Kind, project.File, project.Scope, project.Project, project.UpdatedBy));
        var orgList = await _portal.Api.GetFromJsonAsync<List<SecretResponse>>("/api/v1/secrets");
        Assert.Contains(orgList!, s => s is { Name: "WRITE_ONLY_ORG", Kind: "env", File: null, Scope: "org" });
        var projectList = await _portal.Api.GetFromJsonAsync<List<SecretResponse>>($"/api/v1/projects/{Slug}/secrets");
        Assert.Contains(projectList!, s => s.Name == "WRITE_ONLY_PROJECT");

        var answers = new StringBuilder();
        answers.Append(await putOrg.Content.ReadAsStringAsync()).Append(await putProject.Content.ReadAsStringAsync());
        foreach (var url in new[]
                 {
                     "/api/v1/secrets", $"/api/v1/projects/{Slug}/secrets", "/api/v1/variables", $"/api/v1/projects/{Slug}/variables",
                     $"/api/v1/projects/{Slug}", "/api/v1/projects", $"/api/v1/projects/{Slug}/settings", "/api/v1/audit?limit=1000",
                     "/api/v1/users", "/api/v1/secrets/WRITE_ONLY_ORG", $"/api/v1/projects/{Slug}/secrets/WRITE_ONLY_PROJECT",
                     "/api/v1/variables/WRITE_ONLY_ORG", "/openapi/v1.json",
                 })
        {
            using var response = await _portal.Api.GetAsync(url);
            answers.Append(await response.Content.ReadAsStringAsync());
        }
        Assert.DoesNotContain(orgValue, answers.ToString());
        Assert.DoesNotContain(projectValue, answers.ToString());
    }

    [Fact]
    public async Task The_database_and_the_data_folder_never_hold_a_secret_in_plaintext()
    {
        // Arrange: a plain variable's value is found by the same search, which proves the search sees what was written.
        var secret = Distinctive();
        var plain = Distinctive();

        // Act
        using var putSecret = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{Slug}/secrets/IN_THE_DATA_FOLDER", new { value = secret });
        using var putFile = await _portal.Api.PutAsJsonAsync("/api/v1/secrets/IN_THE_DATA_FOLDER_TOO",
            new { value = secret + "-as-file", file = "secret.txt" });
        using var putVariable = await _portal.Api.PutAsJsonAsync("/api/v1/variables/PLAIN_IN_THE_DATA_FOLDER", new { value = plain });

        // Assert
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created],
            [putSecret.StatusCode, putFile.StatusCode, putVariable.StatusCode]);
        var files = Directory.GetFiles(_portal.DataDirectory, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => Path.GetFileName(f) == "kaizen.db");
        Assert.Contains(files, f => f.Contains(Path.Combine(_portal.DataDirectory, "keys")));
        Assert.Contains(files, f => Holds(f, plain));
        Assert.DoesNotContain(files, f => Holds(f, secret));
    }

    /// <summary>Whether the file's bytes hold <paramref name="text"/> in UTF-8 or UTF-16, read while the portal has it open.</summary>
    internal static bool Holds(string path, string text)
    {
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        return bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0 || bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(text)) >= 0;
    }

    [Theory]
    [InlineData("member")]
    [InlineData("viewer")]
    public async Task Members_and_viewers_can_neither_list_nor_write_secrets(string role)
    {
        // Arrange
        using var http = fixture.Client(role == "member" ? fixture.MemberToken : fixture.ViewerToken);
        using var saved = await _portal.Api.PutAsJsonAsync("/api/v1/secrets/ONLY_FOR_ADMINS", new { value = "admins-only" });

        // Act
        var answers = new[]
        {
            await http.GetAsync("/api/v1/secrets"),
            await http.GetAsync($"/api/v1/projects/{Slug}/secrets"),
            await http.PutAsJsonAsync("/api/v1/secrets/ONLY_FOR_ADMINS", new { value = "mine" }),
            await http.PutAsJsonAsync($"/api/v1/projects/{Slug}/secrets/NEW_ONE", new { value = "mine" }),
            await http.DeleteAsync("/api/v1/secrets/ONLY_FOR_ADMINS"),
            await http.DeleteAsync($"/api/v1/projects/{Slug}/secrets/ONLY_FOR_ADMINS"),
        };

        // Assert
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Forbidden, a.StatusCode));
        foreach (var a in answers)
        {
            Assert.DoesNotContain("ONLY_FOR_ADMINS", await a.Content.ReadAsStringAsync());
            a.Dispose();
        }
        var still = await _portal.Api.GetFromJsonAsync<List<SecretResponse>>("/api/v1/secrets");
        Assert.Contains(still!, s => s.Name == "ONLY_FOR_ADMINS");
        Assert.DoesNotContain(await _portal.Api.GetFromJsonAsync<List<SecretResponse>>($"/api/v1/projects/{Slug}/secrets") ?? [],
            s => s.Name == "NEW_ONE");
    }

    [Fact]
    public async Task Anonymous_callers_get_401_from_secrets_variables_users_and_audit()
    {
        // Arrange
        using var http = fixture.Client(null);

        // Act
        var answers = new[]
        {
            await http.GetAsync("/api/v1/secrets"),
            await http.PutAsJsonAsync("/api/v1/secrets/ANON", new { value = "x" }),
            await http.GetAsync($"/api/v1/projects/{Slug}/secrets"),
            await http.GetAsync("/api/v1/variables"),
            await http.PutAsJsonAsync($"/api/v1/projects/{Slug}/variables/ANON", new { value = "x" }),
            await http.GetAsync("/api/v1/users"),
            await http.PostAsJsonAsync("/api/v1/users", new { name = "anon", role = "admin" }),
            await http.GetAsync("/api/v1/audit"),
        };

        // Assert
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Unauthorized, a.StatusCode));
        foreach (var a in answers) a.Dispose();
    }

    [Theory]
    [InlineData("/api/v1/secrets/1ABC", "not a valid name. A name is an environment variable name: letters, digits and underscores")]
    [InlineData("/api/v1/secrets/MY-KEY", "not a valid name. A name is an environment variable name: letters, digits and underscores")]
    [InlineData("/api/v1/secrets/KAIZEN_TOKEN", "reserved for the variables Kaizen sets")]
    [InlineData("/api/v1/projects/{slug}/secrets/has.dot", "not a valid name. A name is an environment variable name: letters, digits and underscores")]
    [InlineData("/api/v1/variables/9LIVES", "not a valid name. A name is an environment variable name: letters, digits and underscores")]
    [InlineData("/api/v1/projects/{slug}/variables/KAIZEN_BUILD_ID", "reserved for the variables Kaizen sets")]
    public async Task Invalid_names_are_a_bad_request_that_states_the_rule(string url, string why)
    {
        // Act
        using var response = await _portal.Api.PutAsJsonAsync(url.Replace("{slug}", Slug), new { value = "v" });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains(why, body);
    }

    [Theory]
    [InlineData("""{ "value": "" }""", "cannot be empty")]
    [InlineData("""{ }""", "Send the value")]
    [InlineData("""{ "value": "x", "file": "../outside" }""", "'..' part")]
    [InlineData("""{ "value": "x", "file": "/etc/passwd" }""", "not a relative path")]
    public async Task Bad_secret_values_and_file_paths_are_a_bad_request_that_says_why(string json, string why)
    {
        // Act
        using var response = await _portal.Api.PutAsync("/api/v1/secrets/BAD_INPUT", new StringContent(json, Encoding.UTF8, "application/json"));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(why, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_too_large_value_is_refused()
    {
        // Act
        using var response = await _portal.Api.PutAsJsonAsync("/api/v1/secrets/TOO_LARGE", new { value = new string('x', 64 * 1024 + 1) });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("64 KiB", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Replacing_a_secret_answers_200_and_deleting_it_204_then_404()
    {
        // Arrange
        var url = $"/api/v1/projects/{Slug}/secrets/REPLACED_THEN_DELETED";
        using var created = await _portal.Api.PutAsJsonAsync(url, new { value = "one" });

        // Act
        using var replaced = await _portal.Api.PutAsJsonAsync(url, new { value = "two" });
        using var deleted = await _portal.Api.DeleteAsync(url);
        using var again = await _portal.Api.DeleteAsync(url);

        // Assert
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.NoContent, HttpStatusCode.NotFound],
            [created.StatusCode, replaced.StatusCode, deleted.StatusCode, again.StatusCode]);
        Assert.Contains("has no secret 'REPLACED_THEN_DELETED'", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Secrets_and_variables_of_an_unknown_project_are_not_found()
    {
        // Act
        using var secret = await _portal.Api.PutAsJsonAsync("/api/v1/projects/no-such-project/secrets/A", new { value = "x" });
        using var variables = await _portal.Api.GetAsync("/api/v1/projects/no-such-project/variables");

        // Assert
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (secret.StatusCode, variables.StatusCode));
        Assert.Contains("No project 'no-such-project'", await secret.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_name_used_by_a_secret_cannot_become_a_variable_in_the_same_scope()
    {
        // Arrange
        using var secret = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{Slug}/secrets/TAKEN_BY_A_SECRET", new { value = "secret-value" });

        // Act
        using var variable = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{Slug}/variables/TAKEN_BY_A_SECRET", new { value = "v" });
        using var wider = await _portal.Api.PutAsJsonAsync("/api/v1/variables/TAKEN_BY_A_SECRET", new { value = "v" });

        // Assert
        Assert.Equal(HttpStatusCode.Conflict, variable.StatusCode);
        Assert.Contains("choose another name", await variable.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, wider.StatusCode);
    }

    [Fact]
    public async Task Members_write_variables_that_viewers_can_read_but_not_write()
    {
        // Arrange
        using var member = fixture.Client(fixture.MemberToken);
        using var viewer = fixture.Client(fixture.ViewerToken);

        // Act
        using var put = await member.PutAsJsonAsync($"/api/v1/projects/{Slug}/variables/NODE_ENV", new { value = "test" });
        var read = await viewer.GetFromJsonAsync<VariableResponse>($"/api/v1/projects/{Slug}/variables/NODE_ENV");
        var list = await viewer.GetFromJsonAsync<List<VariableResponse>>($"/api/v1/projects/{Slug}/variables");
        using var viewerPut = await viewer.PutAsJsonAsync($"/api/v1/projects/{Slug}/variables/NODE_ENV", new { value = "prod" });
        using var viewerDelete = await viewer.DeleteAsync($"/api/v1/projects/{Slug}/variables/NODE_ENV");
        using var missing = await viewer.GetAsync($"/api/v1/projects/{Slug}/variables/NOT_SET");

        // Assert
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(("NODE_ENV", "test", "project", "member-one"), (read!.Name, read.Value, read.Scope, read.UpdatedBy));
        Assert.Contains(list!, v => v.Name == "NODE_ENV");
        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (viewerPut.StatusCode, viewerDelete.StatusCode));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
