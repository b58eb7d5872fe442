using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kaizen.Portal.Insights;

namespace Kaizen.Portal.Tests.Insights;

/// <summary>Hiding a row of the slowest commands through the API: who may, what the figures then list, the audit, bad
/// requests. A portal of its own, so the rows it hides and the project it adds change no other test's figures.</summary>
public sealed class InsightsHiddenApiTests(InsightsPortal fixture) : IClassFixture<InsightsPortal>
{
    private readonly HttpClient _admin = fixture.Portal.Api;
    private readonly HttpClient _anonymous = fixture.Anonymous;

    private static async Task<ProjectInsights> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ProjectInsights>())!;
    }

    [Fact]
    public async Task A_member_hides_a_row_and_shows_it_again_audited_while_visitors_and_viewers_cannot()
    {
        // Arrange: a public project of its own (the other tests' figures stay as seeded) with a deliberate wait.
        var project = await fixture.Portal.Service<Kaizen.Portal.Projects.ProjectStore>()
            .CreateAsync("Waits", "waits", "https://git.example/waits.git", "main", isPublic: true);
        var history = new InsightsHistory(fixture.Portal.Service<Kaizen.Portal.Data.Database>());
        var day = new DateTimeOffset(fixture.Day1.ToDateTime(new TimeOnly(9, 0)), TimeSpan.Zero);
        await history.BuildAsync(project, "main", "passed", day, 1, 100,
            new SeedJob("test", new SeedCommand("sleep 60 # wait for the database", 60), new SeedCommand("pytest -q", 30)));
        var row = new { job = "test", phase = "main", command = "sleep 60 # wait for the database" };
        var users = fixture.Portal.Api;
        async Task<HttpClient> ClientOf(string role)
        {
            using var created = await users.PostAsJsonAsync("/api/v1/users", new { name = $"{role}-{Guid.NewGuid():N}"[..20], role });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var token = (await created.Content.ReadFromJsonAsync<Kaizen.Portal.Api.CreatedUserResponse>())!.Token;
            var client = new HttpClient { BaseAddress = fixture.Portal.BaseUrl };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return client;
        }
        using var member = await ClientOf("member");
        using var viewer = await ClientOf("viewer");

        // Act & Assert: a visitor and a viewer may not hide it.
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.PostAsJsonAsync("/api/v1/projects/waits/insights/hidden", row)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/projects/waits/insights/hidden", row)).StatusCode);
        Assert.Equal(["sleep 60 # wait for the database", "pytest -q"], (await GetAsync(_admin, "/api/v1/projects/waits/insights")).SlowestCommands.Select(c => c.Command));

        // A member hides it: gone from the slowest commands, listed as hidden (by whom only for people signed in).
        using var hide = await member.PostAsJsonAsync("/api/v1/projects/waits/insights/hidden", row);
        Assert.Equal(HttpStatusCode.OK, hide.StatusCode);
        var insights = await GetAsync(_admin, "/api/v1/projects/waits/insights");
        Assert.Equal(["pytest -q"], insights.SlowestCommands.Select(c => c.Command));
        var hidden = Assert.Single(insights.HiddenCommands);
        Assert.Equal(("test", "main", "sleep 60 # wait for the database"), (hidden.Job, hidden.Phase, hidden.Command));
        Assert.StartsWith("member-", hidden.HiddenBy);
        var seen = await GetAsync(_anonymous, "/api/v1/projects/waits/insights");
        Assert.Equal(["pytest -q"], seen.SlowestCommands.Select(c => c.Command));
        Assert.Null(Assert.Single(seen.HiddenCommands).HiddenBy);

        // Hiding again changes nothing; a visitor cannot show it; the member shows it again.
        Assert.Equal(HttpStatusCode.OK, (await member.PostAsJsonAsync("/api/v1/projects/waits/insights/hidden", row)).StatusCode);
        Assert.Single((await GetAsync(_admin, "/api/v1/projects/waits/insights")).HiddenCommands);
        using var anonymousShow = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/projects/waits/insights/hidden") { Content = JsonContent.Create(row) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.SendAsync(anonymousShow)).StatusCode);
        using var show = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/projects/waits/insights/hidden") { Content = JsonContent.Create(row) };
        Assert.Equal(HttpStatusCode.NoContent, (await member.SendAsync(show)).StatusCode);
        insights = await GetAsync(_admin, "/api/v1/projects/waits/insights");
        Assert.Equal(["sleep 60 # wait for the database", "pytest -q"], insights.SlowestCommands.Select(c => c.Command));
        Assert.Empty(insights.HiddenCommands);

        // Showing a row that is not hidden is not found; both changes are in the audit log with who did them.
        using var again = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/projects/waits/insights/hidden") { Content = JsonContent.Create(row) };
        using var notHidden = await member.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotFound, notHidden.StatusCode);
        Assert.Contains("is not hidden", await notHidden.Content.ReadAsStringAsync());
        var audit = await fixture.Portal.Service<Kaizen.Portal.Audit.AuditLog>().NewestAsync(50);
        var entries = audit.Where(e => e.Target == "project:waits/insights/job:test").Select(e => e.Action).ToList();
        Assert.Equal(["insights.shown", "insights.hidden", "insights.hidden"], entries);
    }

    [Theory]
    [InlineData("{}", "$.job")]
    [InlineData("{\"job\":\"test\",\"command\":\"x\"}", "$.phase")]
    [InlineData("{\"job\":\"test\",\"phase\":\"main\"}", "$.command")]
    [InlineData("", "Name the row")]
    public async Task Hiding_a_row_not_named_in_full_is_a_bad_request_naming_the_field(string body, string expected)
    {
        // Act
        using var response = await _admin.PostAsync("/api/v1/projects/shop/insights/hidden",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
        Assert.Empty((await GetAsync(_admin, "/api/v1/projects/shop/insights")).HiddenCommands);
    }
}
