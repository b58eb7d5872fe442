using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>/api/v1/me/tokens: everyone signed in lists, creates and revokes their own API tokens, and only theirs.</summary>
public sealed class PersonalTokensApiTests(TeamsPortal fixture) : IClassFixture<TeamsPortal>
{
    private readonly PortalHost _portal = fixture.Portal;

    [Fact]
    public async Task A_viewer_creates_a_token_shown_once_that_works_and_is_listed_by_name_with_when_it_was_last_used()
    {
        // Arrange
        var viewer = await fixture.CreateUserAsync("reader", "viewer");
        using var http = fixture.Client(viewer.Token);

        // Act
        using var create = await http.PostAsJsonAsync("/api/v1/me/tokens", new { name = "  laptop  " });
        var created = (await create.Content.ReadFromJsonAsync<CreatedTokenResponse>())!;
        var before = await http.GetFromJsonAsync<List<TokenResponse>>("/api/v1/me/tokens");
        using var withNew = fixture.Client(created.Token);
        using var used = await withNew.GetAsync("/api/v1/me/tokens");
        var listBody = await http.GetStringAsync("/api/v1/me/tokens");
        var after = await http.GetFromJsonAsync<List<TokenResponse>>("/api/v1/me/tokens");

        // Assert
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.Equal("laptop", created.Name);
        Assert.StartsWith("kzt_", created.Token);
        Assert.Equal(HttpStatusCode.OK, used.StatusCode);
        Assert.Null(before!.Single(t => t.Id == created.Id).LastUsedAt);
        Assert.NotNull(after!.Single(t => t.Id == created.Id).LastUsedAt);
        Assert.Equal(["created with the user", "laptop"], after!.Select(t => t.Name));
        Assert.DoesNotContain(created.Token, listBody);
        Assert.DoesNotContain("kzt_", listBody);
    }

    [Fact]
    public async Task Last_used_is_written_at_most_once_a_minute_per_token()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("busy", "member");
        using var http = fixture.Client(user.Token);
        await http.GetAsync("/api/v1/me/tokens");
        var first = (await http.GetFromJsonAsync<List<TokenResponse>>("/api/v1/me/tokens"))!.Single().LastUsedAt;

        // Act
        await Task.Delay(20);
        for (var i = 0; i < 3; i++) await http.GetAsync("/api/v1/me/tokens");
        var later = (await http.GetFromJsonAsync<List<TokenResponse>>("/api/v1/me/tokens"))!.Single().LastUsedAt;

        // Assert
        Assert.NotNull(first);
        Assert.Equal(first, later);
    }

    [Fact]
    public async Task A_revoked_token_stops_working_at_once_and_the_audit_log_has_its_name_but_never_the_token()
    {
        // Arrange
        var user = await fixture.CreateUserAsync("tidy", "member");
        using var http = fixture.Client(user.Token);
        using var create = await http.PostAsJsonAsync("/api/v1/me/tokens", new { name = "old script" });
        var created = (await create.Content.ReadFromJsonAsync<CreatedTokenResponse>())!;
        using var withOld = fixture.Client(created.Token);
        Assert.Equal(HttpStatusCode.OK, (await withOld.GetAsync("/api/v1/me/tokens")).StatusCode);

        // Act
        using var revoke = await http.DeleteAsync($"/api/v1/me/tokens/{created.Id}");

        // Assert
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await withOld.GetAsync("/api/v1/me/tokens")).StatusCode);
        Assert.DoesNotContain((await http.GetFromJsonAsync<List<TokenResponse>>("/api/v1/me/tokens"))!, t => t.Id == created.Id);
        var entries = (await _portal.Service<AuditLog>().NewestAsync(100)).Where(e => e.Actor == user.Name).ToList();
        Assert.Contains(entries, e => e.Action == AuditActions.TokenCreated && e.Target == $"user:{user.Name}/token:old script");
        Assert.Contains(entries, e => e.Action == AuditActions.TokenRevoked && e.Target == $"user:{user.Name}/token:old script");
        Assert.DoesNotContain(entries, e => (e.Target + e.Details).Contains(created.Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Another_users_token_is_not_found_and_keeps_working()
    {
        // Arrange
        var owner = await fixture.CreateUserAsync("owner", "member");
        var other = await fixture.CreateUserAsync("other", "admin");
        using var ownerHttp = fixture.Client(owner.Token);
        var ownersToken = (await ownerHttp.GetFromJsonAsync<List<TokenResponse>>("/api/v1/me/tokens"))!.Single();
        using var otherHttp = fixture.Client(other.Token);

        // Act
        using var revoke = await otherHttp.DeleteAsync($"/api/v1/me/tokens/{ownersToken.Id}");
        var othersList = await otherHttp.GetFromJsonAsync<List<TokenResponse>>("/api/v1/me/tokens");

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, revoke.StatusCode);
        Assert.DoesNotContain(othersList!, t => t.Id == ownersToken.Id);
        Assert.Equal(HttpStatusCode.OK, (await ownerHttp.GetAsync("/api/v1/me/tokens")).StatusCode);
    }

    [Theory]
    [InlineData("""{ "name": "" }""")]
    [InlineData("""{ "name": "   " }""")]
    [InlineData("""{ }""")]
    public async Task A_token_needs_a_name(string json)
    {
        // Arrange
        var user = await fixture.CreateUserAsync("nameless", "member");
        using var http = fixture.Client(user.Token);

        // Act
        using var response = await http.PostAsync("/api/v1/me/tokens", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Name the token", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Anonymous_callers_have_no_tokens_to_see()
    {
        // Arrange
        using var anonymous = new HttpClient { BaseAddress = _portal.BaseUrl };

        // Act
        using var list = await anonymous.GetAsync("/api/v1/me/tokens");
        using var create = await anonymous.PostAsJsonAsync("/api/v1/me/tokens", new { name = "x" });

        // Assert
        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (list.StatusCode, create.StatusCode));
    }
}
