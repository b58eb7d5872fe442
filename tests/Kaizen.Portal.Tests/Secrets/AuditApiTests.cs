using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Secrets;

/// <summary>GET /api/v1/audit: every change to secrets, variables, users and settings, with who and when, never a value.</summary>
public sealed class AuditApiTests(SecretsPortal fixture) : IClassFixture<SecretsPortal>
{
    private readonly PortalHost _portal = fixture.Portal;
    private string Slug => fixture.Slug;

    [Fact]
    public async Task Each_change_is_in_the_audit_log_newest_first_and_never_with_a_value()
    {
        // Arrange
        var secret = "audit-secret-" + Guid.NewGuid().ToString("N");
        var replaced = "audit-replaced-" + Guid.NewGuid().ToString("N");
        var variable = "audit-variable-" + Guid.NewGuid().ToString("N");
        using var member = fixture.Client(fixture.MemberToken);

        // Act
        await Send(_portal.Api.PutAsJsonAsync($"/api/v1/projects/{Slug}/secrets/AUDITED_KEY", new { value = secret }));
        await Send(_portal.Api.PutAsJsonAsync($"/api/v1/projects/{Slug}/secrets/AUDITED_KEY", new { value = replaced, file = "k.pem" }));
        await Send(_portal.Api.DeleteAsync($"/api/v1/projects/{Slug}/secrets/AUDITED_KEY"));
        await Send(_portal.Api.PutAsJsonAsync("/api/v1/secrets/AUDITED_ORG_KEY", new { value = secret }));
        await Send(member.PutAsJsonAsync("/api/v1/variables/AUDITED_VARIABLE", new { value = variable }));
        await Send(member.DeleteAsync("/api/v1/variables/AUDITED_VARIABLE"));
        await fixture.CreateUserAsync("audited-user", "viewer", password: "audited-password");
        await Send(member.PutAsJsonAsync($"/api/v1/projects/{Slug}/settings",
            new { setup = Array.Empty<string>(), jobs = new[] { new { name = "audited", commands = new[] { "true" } } }, epilogue = Array.Empty<string>() }));
        using var response = await _portal.Api.GetAsync("/api/v1/audit?limit=1000");

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entries = (await response.Content.ReadFromJsonAsync<List<AuditEntry>>())!;
        var ours = entries.Where(e => e.Target.Contains("AUDITED") || e.Target == "user:audited-user" || e is { Action: "settings.changed", Actor: "member-one" })
            .Select(e => (e.Actor, e.Action, e.Target)).ToList();
        Assert.Equal(
        [
            ("member-one", "settings.changed", $"project:{Slug}/settings"),
            ("admin", "user.created", "user:audited-user"),
            ("member-one", "variable.deleted", "org/variable:AUDITED_VARIABLE"),
            ("member-one", "variable.set", "org/variable:AUDITED_VARIABLE"),
            ("admin", "secret.created", "org/secret:AUDITED_ORG_KEY"),
            ("admin", "secret.deleted", $"project:{Slug}/secret:AUDITED_KEY"),
            ("admin", "secret.replaced", $"project:{Slug}/secret:AUDITED_KEY"),
            ("admin", "secret.created", $"project:{Slug}/secret:AUDITED_KEY"),
        ], ours);
        Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.Id > p.Second.Id && p.First.At >= p.Second.At));
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, body);
        Assert.DoesNotContain(replaced, body);
        Assert.DoesNotContain(variable, body);
        Assert.DoesNotContain("audited-password", body);
    }

    [Fact]
    public async Task The_limit_caps_how_many_entries_come_back()
    {
        // Arrange
        for (var i = 0; i < 3; i++) await Send(_portal.Api.PutAsJsonAsync($"/api/v1/variables/LIMITED_{i}", new { value = "v" }));

        // Act
        var two = await _portal.Api.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=2");
        using var zero = await _portal.Api.GetAsync("/api/v1/audit?limit=0");

        // Assert
        Assert.Equal(2, two!.Count);
        Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
        Assert.Contains("limit is from 1 to 1000", await zero.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("member")]
    [InlineData("viewer")]
    public async Task Only_admins_read_the_audit_log(string role)
    {
        // Arrange
        using var http = fixture.Client(role == "member" ? fixture.MemberToken : fixture.ViewerToken);

        // Act
        using var response = await http.GetAsync("/api/v1/audit");

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static async Task Send(Task<HttpResponseMessage> request)
    {
        using var response = await request;
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: " +
                                                   $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
