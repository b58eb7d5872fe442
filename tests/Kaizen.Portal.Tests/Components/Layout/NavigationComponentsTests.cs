using Bunit;
using Bunit.TestDoubles;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Components.Layout;
using Kaizen.Portal.Components.Pages.Errors;
using Kaizen.Portal.Components.Pages.Jobs;
using Kaizen.Portal.Components.Pages.Projects;
using Kaizen.Portal.Tests.Components.OpenSource;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Layout;

/// <summary>The project switcher, the drawer's project sections, and the portal's "not allowed" notice, as people read them.</summary>
public sealed class NavigationComponentsTests : OpenSourceHarness
{
    private static List<string> Options(IRenderedComponent<ProjectSearch> cut) =>
        cut.FindAll("[role=option]").Select(o => o.GetAttribute("data-project")!).ToList();

    [Fact]
    public void The_switcher_lists_public_projects_to_visitors_and_every_project_to_people_signed_in()
    {
        SignOut();
        var visitor = Render<ProjectSearch>();
        visitor.WaitForAssertion(() => Assert.Equal(["open"], Options(visitor)), WaitTimeout);

        SignIn("vic", "viewer");
        var viewer = Render<ProjectSearch>();
        viewer.WaitForAssertion(() => Assert.Equal(["closed", "open"], Options(viewer)), WaitTimeout);
    }

    [Fact]
    public void Typing_filters_the_projects_and_arrows_and_Enter_open_the_chosen_ones_builds()
    {
        SignIn("vic", "viewer");
        ProjectRow? chosen = null;
        var cut = Render<ProjectSearch>(p => p.Add(x => x.OnChosen, (ProjectRow p) => chosen = p));
        cut.WaitForAssertion(() => Assert.Equal(2, Options(cut).Count), WaitTimeout);

        cut.Find("input").Input("op");
        cut.WaitForAssertion(() => Assert.Equal(["open"], Options(cut)), WaitTimeout);
        cut.Find("input").Input("");
        cut.WaitForAssertion(() => Assert.Equal(2, Options(cut).Count), WaitTimeout);
        Assert.Equal("true", cut.FindAll("[role=option]")[0].GetAttribute("aria-selected"));

        cut.Find("input").KeyDown(new KeyboardEventArgs { Key = "ArrowDown" });
        Assert.Equal("true", cut.FindAll("[role=option]")[1].GetAttribute("aria-selected"));
        cut.Find("input").KeyDown(new KeyboardEventArgs { Key = "Enter" });

        cut.WaitForAssertion(() => Assert.Equal("open", chosen?.Slug), WaitTimeout);
        Assert.EndsWith("/projects/open/builds", Services.GetRequiredService<NavigationManager>().Uri);
    }

    [Fact]
    public void A_search_that_matches_nothing_says_so()
    {
        SignIn("vic", "viewer");
        var cut = Render<ProjectSearch>();
        cut.WaitForAssertion(() => Assert.Equal(2, Options(cut).Count), WaitTimeout);
        cut.Find("input").Input("zzz");
        cut.WaitForAssertion(() => Assert.Contains("No project matches 'zzz'.", cut.Markup), WaitTimeout);
    }

    [Fact]
    public void Matching_puts_names_that_start_with_the_search_first_and_needs_every_word()
    {
        ProjectRow P(string name, string slug) => new() { Name = name, Slug = slug };
        var projects = new[] { P("Web shop", "shop"), P("Shop API", "shop-api"), P("Billing", "billing") };

        Assert.Equal(["Shop API", "Web shop"], ProjectSearch.Match(projects, "shop").Select(p => p.Name));
        Assert.Equal(["Shop API"], ProjectSearch.Match(projects, "shop api").Select(p => p.Name));
        Assert.Equal(["Billing", "Shop API", "Web shop"], ProjectSearch.Match(projects, " ").Select(p => p.Name));
    }

    [Fact]
    public void The_drawer_lists_every_section_of_a_project_to_people_signed_in_each_at_its_own_address()
    {
        var cut = Render<ProjectNav>(p => p.Add(x => x.Project, ProjectAsync("open").Result).Add(x => x.SignedIn, true));

        var links = cut.FindAll("a").Select(a => (a.TextContent.Trim(), a.GetAttribute("href"))).ToList();
        Assert.Equal(ProjectSections.All.Select(s => (s.Title, (string?)$"/projects/open/{s.Path}")), links);
        Assert.Contains("open", cut.Markup);
    }

    [Theory]
    [InlineData("projects/calc/builds", "calc")]
    [InlineData("projects/calc", "calc")]
    [InlineData("projects/calc/servers/production?x=1", "calc")]
    [InlineData("projects", null)]
    [InlineData("builds/5", null)]
    [InlineData("", null)]
    public void The_project_of_an_address_is_found_from_its_path(string path, string? slug) =>
        Assert.Equal(slug, ProjectSections.SlugOf(path));

    [Theory]
    [InlineData("admin", "You need to be an admin", "This page is for the portal's admins.")]
    [InlineData("admin,member", "You may not open this page", "This page is for admins and members.")]
    [InlineData(null, "You may not open this page", "Your account may not open this page.")]
    public void A_refused_page_says_which_role_it_needs(string? roles, string title, string sentence)
    {
        var cut = Render<ForbiddenNotice>(p => p.Add(x => x.Roles, roles));

        Assert.Equal(title, cut.Find("h1").TextContent.Trim());
        Assert.Contains(sentence, cut.Markup);
        Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == "/" && a.TextContent.Contains("Back to the projects"));
    }

    [Theory]
    [InlineData("/admin/users", "admin")]
    [InlineData("/admin/audit?x=1", "admin")]
    [InlineData("/admin/variables", "admin,member")]
    [InlineData("/projects/calc/builds", null)]
    [InlineData("/no/such/page", null)]
    [InlineData("https://elsewhere.example/admin/users", null)]
    public void The_roles_a_page_needs_are_read_from_its_address(string path, string? roles) =>
        Assert.Equal(roles, PageRoutes.RolesOf(path));

    [Fact]
    public void Not_found_says_what_was_not_found_and_the_way_back()
    {
        var cut = Render<NotFoundNotice>(p => p.Add(x => x.What, "There is no project 'nowhere'."));

        Assert.Equal("Not found", cut.Find("h1").TextContent.Trim());
        Assert.Contains("There is no project 'nowhere'.", cut.Markup);
        Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == "/");
    }
}

/// <summary>The failure banner's words: the failing command by its text, not the runner's internal index.</summary>
public sealed class JobFailureTests
{
    private static readonly CommandRow[] Commands =
    [
        new() { Idx = 0, Phase = "setup", Text = "pip install tox" },
        new() { Idx = 1, Phase = "setup", Text = "echo ready" },
        new() { Idx = 2, Phase = "main", Text = "tox -e lint" },
        new() { Idx = 3, Phase = "main", Text = "tox -e py311" },
    ];

    [Fact]
    public void An_exit_code_names_the_command_by_its_text()
    {
        var failure = JobFailure.Of(new JobRow { Error = "Command 3 failed with exit code 1." }, Commands)!;

        Assert.Equal("tox -e py311", failure.CommandText);
        Assert.Equal("failed with exit code 1.", failure.Outcome);
    }

    [Fact]
    public void A_multi_line_or_long_command_is_named_by_its_first_line_shortened()
    {
        CommandRow[] commands = [new() { Idx = 0, Text = "for f in *.py; do\n  flake8 \"$f\"\ndone" }, new() { Idx = 1, Text = new string('x', 300) }];

        Assert.Equal("for f in *.py; do …", JobFailure.Of(new JobRow { Error = "Command 0 failed with exit code 2." }, commands)!.CommandText);
        Assert.Equal(JobFailure.MaxCommandChars, JobFailure.Of(new JobRow { Error = "Command 1 failed with exit code 2." }, commands)!.CommandText!.Length);
    }

    [Fact]
    public void Other_errors_are_shown_as_they_are_and_no_error_is_no_banner()
    {
        var lost = JobFailure.Of(new JobRow { Error = "runner lost" }, Commands)!;
        Assert.Null(lost.CommandText);
        Assert.Equal("runner lost", lost.Message);
        Assert.Null(JobFailure.Of(new JobRow(), Commands));
        Assert.Null(JobFailure.Of(new JobRow { Error = "Command 9 failed with exit code 1." }, Commands)!.CommandText);
    }

    [Fact]
    public void The_first_line_of_a_commands_log_is_counted_over_the_output_before_it()
    {
        LogChunkRow Chunk(long seq, int? idx, string text) => new() { Seq = seq, CommandIdx = idx, Data = System.Text.Encoding.UTF8.GetBytes(text) };
        LogChunkRow[] chunks = [Chunk(1, null, "checkout\nready\n"), Chunk(2, 0, "installed\n"), Chunk(3, 3, "FAILED test_total\n"), Chunk(4, null, "cleanup\n")];

        var outline = new Kaizen.Portal.Logs.LogDocument();
        outline.Append(chunks);

        Assert.Equal(4, JobFailure.FirstLine(outline, 3));
        Assert.Null(JobFailure.FirstLine(outline, 2));
    }
}
