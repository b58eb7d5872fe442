using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Secrets;

/// <summary>
/// GET /api/v1/audit?actor=&amp;project=&amp;action=&amp;from=&amp;to=&amp;before=: the database filters and pages the log, and a
/// value that cannot be a filter is a 400 naming its parameter. Creating a project through the API is audited too.
/// </summary>
public sealed class AuditFilterApiTests(SecretsPortal fixture) : IClassFixture<SecretsPortal>
{
    private readonly PortalHost _portal = fixture.Portal;

    private async Task<List<AuditEntry>> AuditAsync(string query)
    {
        using var response = await _portal.Api.GetAsync("/api/v1/audit?limit=1000&" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<List<AuditEntry>>())!;
    }

    private async Task<string> SecondProjectAsync(string name) =>
        await _portal.CreateProjectAsync(name, fixture.Repo.Path, PortalHost.OneJob("true"));

    [Fact]
    public async Task Person_project_and_action_filters_each_narrow_the_log_to_what_matches()
    {
        // Arrange: the fixture's project and a second one, changed by the admin and a member.
        var other = await SecondProjectAsync("Filter Other " + Guid.NewGuid().ToString("N")[..6]);
        using var member = fixture.Client(fixture.MemberToken);
        await Send(_portal.Api.PutAsJsonAsync($"/api/v1/projects/{fixture.Slug}/secrets/FILTER_KEY", new { value = "value-one" }));
        await Send(member.PutAsJsonAsync($"/api/v1/projects/{other}/variables/FILTER_VARIABLE", new { value = "v2" }));
        await Send(member.PutAsJsonAsync($"/api/v1/projects/{other}/settings",
            new { setup = Array.Empty<string>(), jobs = new[] { new { name = "filtered", commands = new[] { "true" } } }, epilogue = Array.Empty<string>() }));

        // Act
        var byMember = await AuditAsync("actor=member-one");
        var ofOther = await AuditAsync($"project={other}");
        var secrets = await AuditAsync("action=secret");
        var variableSets = await AuditAsync("action=variable.set");
        var memberOnOther = await AuditAsync($"actor=member-one&project={other}&action=settings.changed");

        // Assert
        Assert.NotEmpty(byMember);
        Assert.All(byMember, e => Assert.Equal("member-one", e.Actor));
        Assert.Contains(ofOther, e => e.Action == AuditActions.ProjectCreated && e.Target == $"project:{other}");
        Assert.Contains(ofOther, e => e.Target == $"project:{other}/variable:FILTER_VARIABLE");
        Assert.All(ofOther, e => Assert.True(e.Target == $"project:{other}" || e.Target.StartsWith($"project:{other}/", StringComparison.Ordinal), e.Target));
        Assert.Contains(secrets, e => e.Target == $"project:{fixture.Slug}/secret:FILTER_KEY");
        Assert.All(secrets, e => Assert.StartsWith("secret.", e.Action));
        Assert.All(variableSets, e => Assert.Equal(AuditActions.VariableSet, e.Action));
        var settings = Assert.Single(memberOnOther);
        Assert.Equal($"project:{other}/settings", settings.Target);
    }

    [Fact]
    public async Task Runner_labels_set_for_a_project_are_among_that_projects_entries_linked_to_its_settings()
    {
        // Arrange
        var slug = await SecondProjectAsync("Labelled " + Guid.NewGuid().ToString("N")[..6]);

        // Act
        await Send(_portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/runner-labels", new { required = new[] { "gpu" } }));
        var entries = await AuditAsync($"project={slug}&action=runner-labels");

        // Assert
        var entry = Assert.Single(entries);
        Assert.Equal($"project:{slug}/runner-labels", entry.Target);
        Assert.Equal($"/projects/{slug}/settings", AuditTargets.LinkOf(entry.Target));
    }

    [Fact]
    public async Task A_project_filter_does_not_match_another_project_whose_slug_starts_the_same()
    {
        // Arrange
        var name = "Prefix " + Guid.NewGuid().ToString("N")[..6];
        var shorter = await SecondProjectAsync(name);
        var longer = await SecondProjectAsync(name + " Two");

        // Act
        var entries = await AuditAsync($"project={shorter}");

        // Assert
        Assert.StartsWith(shorter, longer);
        Assert.Contains(entries, e => e.Target == $"project:{shorter}");
        Assert.DoesNotContain(entries, e => e.Target.Contains(longer, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dates_bound_the_log_whole_days_in_UTC()
    {
        // Arrange
        await Send(_portal.Api.PutAsJsonAsync("/api/v1/variables/DATED", new { value = "v" }));
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var tomorrow = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd");
        var yesterday = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd");

        // Act
        var sinceToday = await AuditAsync($"from={today}&action=variable.set");
        var untilToday = await AuditAsync($"to={today}&action=variable.set");
        var sinceTomorrow = await AuditAsync($"from={tomorrow}");
        var untilYesterday = await AuditAsync($"to={yesterday}");
        var lastHour = await AuditAsync($"from={DateTime.UtcNow.AddHours(-1):yyyy-MM-ddTHH:mm:ssZ}&action=variable.set");

        // Assert
        Assert.Contains(sinceToday, e => e.Target == "org/variable:DATED");
        Assert.Contains(untilToday, e => e.Target == "org/variable:DATED");
        Assert.Contains(lastHour, e => e.Target == "org/variable:DATED");
        Assert.Empty(sinceTomorrow);
        Assert.Empty(untilYesterday);
    }

    [Fact]
    public async Task Pages_follow_each_other_without_a_gap_or_a_repeat()
    {
        // Arrange
        for (var i = 0; i < 5; i++) await Send(_portal.Api.PutAsJsonAsync($"/api/v1/variables/PAGED_{i}", new { value = "v" }));
        var all = (await AuditAsync("action=variable")).Select(e => e.Id).ToList();

        // Act
        var seen = new List<long>();
        string? before = null;
        do
        {
            using var response = await _portal.Api.GetAsync($"/api/v1/audit?action=variable&limit=2{(before is null ? "" : "&before=" + before)}");
            response.EnsureSuccessStatusCode();
            var page = (await response.Content.ReadFromJsonAsync<List<AuditEntry>>())!;
            Assert.InRange(page.Count, 1, 2);
            seen.AddRange(page.Select(e => e.Id));
            before = response.Headers.TryGetValues(AuditEndpoints.NextBeforeHeader, out var values) ? values.Single() : null;
        } while (before is not null);

        // Assert
        Assert.True(all.Count >= 5);
        Assert.Equal(all, seen);
    }

    [Theory]
    [InlineData("action=secret%20created", "action")]
    [InlineData("action=1secret", "action")]
    [InlineData("action=secret.created.twice", "action")]
    [InlineData("project=Web%20App", "project")]
    [InlineData("from=yesterday", "from")]
    [InlineData("from=2026-13-01", "from")]
    [InlineData("to=06/12/2026", "to")]
    [InlineData("from=2026-12-06&to=2026-12-01", "to")]
    [InlineData("before=abc", "before")]
    [InlineData("before=0", "before")]
    [InlineData("limit=1001", "limit")]
    public async Task A_value_that_cannot_be_a_filter_is_refused_naming_its_parameter(string query, string parameter)
    {
        // Act
        using var response = await _portal.Api.GetAsync("/api/v1/audit?" + query);

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(parameter, problem.RootElement.GetProperty("parameter").GetString());
        Assert.Contains(parameter, problem.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Creating_a_project_through_the_api_is_in_the_audit_log_and_a_refused_one_is_not()
    {
        // Arrange: a local path is a repository only admins may build from.
        var name = "Created Through Api " + Guid.NewGuid().ToString("N")[..6];

        // Act
        using var created = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name, gitUrl = fixture.Repo.Path });
        using var refused = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name = name + " Refused", gitUrl = "/nonexistent/repository" });

        // Assert
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        Assert.False(refused.IsSuccessStatusCode);
        var entries = await AuditAsync("action=project.created&actor=admin");
        var entry = Assert.Single(entries, e => e.Target.StartsWith("project:created-through-api-", StringComparison.Ordinal));
        Assert.DoesNotContain("refused", entry.Target);
        Assert.Contains("private", entry.Details);
        Assert.Contains("default branch main", entry.Details);
    }

    private static async Task Send(Task<HttpResponseMessage> request)
    {
        using var response = await request;
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: " +
                                                   $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
