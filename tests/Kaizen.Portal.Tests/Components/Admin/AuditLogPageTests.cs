using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Components.Pages.Admin;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Admin;

/// <summary>The audit page's filters: in the address, applied by the database, each entry linked to what it is about.</summary>
public sealed class AuditLogPageTests : PortalComponentContext
{
    private AuditLog Audit { get; set; } = default!;

    private NavigationManager Navigation => Services.GetRequiredService<NavigationManager>();

    protected override async Task SetUpAsync()
    {
        Audit = new AuditLog(Db.Database, Db.Clock);
        Services.AddSingleton(Audit);
        Services.AddSingleton(Db.Projects);
        SignIn("root", Roles.Admin);
        await Db.CreateProjectAsync("shop");
        await Db.CreateProjectAsync("web");
        await Audit.RecordAsync("alice", AuditActions.SecretCreated, "project:shop/secret:AWS_KEY");
        Db.Clock.Advance(TimeSpan.FromDays(2));
        await Audit.RecordAsync("bob", AuditActions.SettingsChanged, "project:shop/settings", "via the settings editor");
        await Audit.RecordAsync("bob", AuditActions.DeployApproved, "project:web/server:production/deploy:7");
        await Audit.RecordAsync("alice", AuditActions.UserCreated, "user:carol");
        await Audit.RecordAsync("alice", AuditActions.BuildApproved, "project:shopping/build:12");
    }

    private IRenderedComponent<ContainerFragment> Open(string query = "")
    {
        Navigation.NavigateTo("/admin/audit" + query);
        var cut = RenderInLayout<AuditLogPage>();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[aria-label='Loading the audit log']")), WaitTimeout);
        return cut;
    }

    private static List<string> Targets(IRenderedComponent<ContainerFragment> cut) =>
        cut.FindAll("tbody tr td:nth-child(4)").Select(td => td.TextContent.Trim()).ToList();

    [Fact]
    public void A_project_in_the_address_shows_its_own_entries_each_linked_to_its_page()
    {
        var cut = Open("?project=shop");

        Assert.Equal(["project:shop/settings", "project:shop/secret:AWS_KEY"], Targets(cut));
        var links = cut.FindAll("a[data-field=target]").Select(a => a.GetAttribute("href")).ToList();
        Assert.Equal(["/projects/shop/settings", "/projects/shop/variables"], links);
    }

    [Fact]
    public void Each_entry_links_to_the_deploy_build_or_user_it_is_about()
    {
        var cut = Open();

        var links = cut.FindAll("tbody tr").ToDictionary(
            tr => tr.QuerySelector("td:nth-child(4)")!.TextContent.Trim(),
            tr => tr.QuerySelector("a[data-field=target]")?.GetAttribute("href"));
        Assert.Equal("/deploys/7", links["project:web/server:production/deploy:7"]);
        Assert.Equal("/builds/12", links["project:shopping/build:12"]);
        Assert.Equal("/admin/users", links["user:carol"]);
    }

    [Fact]
    public async Task Typing_a_person_and_an_action_and_pressing_Filter_puts_them_in_the_address_and_shows_only_theirs()
    {
        var cut = Open();
        Assert.Equal(5, Targets(cut).Count);

        await TypeAsync(cut, "Person", "bob");
        await TypeAsync(cut, "Action", "deploy");
        await ClickAsync(cut, () => Button(cut, "Filter"));

        Assert.EndsWith("/admin/audit?actor=bob&action=deploy", Navigation.Uri);
        cut.WaitForAssertion(() => Assert.Equal(["project:web/server:production/deploy:7"], Targets(cut)), WaitTimeout);
    }

    [Fact]
    public void Dates_in_the_address_bound_the_entries_and_fill_the_date_fields()
    {
        var cut = Open("?from=2030-01-03");

        Assert.Equal(4, Targets(cut).Count);
        Assert.DoesNotContain("project:shop/secret:AWS_KEY", Targets(cut));
        Assert.Equal("2030-01-03", Field(cut, "From").GetAttribute("value"));
    }

    [Fact]
    public void A_last_day_in_the_address_keeps_the_entries_up_to_its_end()
    {
        var cut = Open("?to=2030-01-01");

        Assert.Equal(["project:shop/secret:AWS_KEY"], Targets(cut));
        Assert.Equal("2030-01-01", Field(cut, "To").GetAttribute("value"));
    }

    [Fact]
    public async Task When_nothing_matches_the_page_says_so_and_clearing_the_filters_shows_the_whole_log()
    {
        var cut = Open("?actor=nobody");

        Assert.Contains("No entries match these filters.", cut.Markup);
        Assert.Empty(Targets(cut));
        await ClickAsync(cut, () => cut.FindAll("button").First(b => b.TextContent.Trim() == "Clear filters"));

        Assert.EndsWith("/admin/audit", Navigation.Uri);
        cut.WaitForAssertion(() => Assert.Equal(5, Targets(cut).Count), WaitTimeout);
    }

    [Fact]
    public void A_bad_value_in_the_address_names_its_parameter_and_shows_no_entries()
    {
        var cut = Open("?from=last-week");

        var alert = cut.Find(".mud-alert");
        Assert.Contains("from", alert.TextContent);
        Assert.Contains("a date like 2026-12-01", alert.TextContent);
        Assert.Empty(Targets(cut));
        Assert.NotEmpty(Buttons(cut, "Clear filters"));
    }

    [Fact]
    public async Task Load_more_reads_the_next_page_of_the_filter_from_the_database()
    {
        for (var i = 0; i < AuditLogPage.PageSize + 3; i++) await Audit.RecordAsync("dave", AuditActions.VariableSet, $"org/variable:V{i}");
        var cut = Open("?actor=dave");
        Assert.Equal(AuditLogPage.PageSize, Targets(cut).Count);

        await ClickAsync(cut, () => Button(cut, "Load more"));

        cut.WaitForAssertion(() => Assert.Equal(AuditLogPage.PageSize + 3, Targets(cut).Count), WaitTimeout);
        Assert.Equal(AuditLogPage.PageSize + 3, Targets(cut).Distinct().Count());
        Assert.Empty(Buttons(cut, "Load more"));
    }
}
