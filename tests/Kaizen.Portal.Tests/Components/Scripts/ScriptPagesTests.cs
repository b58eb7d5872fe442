using Bunit;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Pages.Scripts;
using Kaizen.Portal.Components.Scripts;
using Kaizen.Portal.Scripts;
using Kaizen.Portal.Git;
using Kaizen.Runner.Tests.Support;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Components.Scripts;

/// <summary>The Scripts pages over the real library and a migrated SQLite database.</summary>
public sealed class ScriptPagesTests : PortalComponentContext
{
    private ScriptLibrary _library = null!;

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"kaizen-scripts-ui-{Guid.NewGuid():N}");

    protected override Task SetUpAsync()
    {
        var protection = new EphemeralDataProtectionProvider();
        Services.AddSingleton<IOptions<KaizenOptions>>(Options.Create(new KaizenOptions { DataDirectory = _dataDirectory }));
        Services.AddSingleton<IDataProtectionProvider>(protection);
        AddBuildAndDeployServices(protection);
        Services.AddSingleton<GitMirror>();
        Services.AddKaizenScripts();
        _library = Services.GetRequiredService<ScriptLibrary>();
        return Task.CompletedTask;
    }

    [Fact]
    public void An_empty_library_tells_a_member_how_to_start_and_a_viewer_who_can()
    {
        SignIn("mia", "member");
        var member = Render<ScriptsPage>();
        member.WaitForAssertion(() => Assert.Contains("Create the first script", member.Find("[data-testid=scripts-empty]").TextContent), WaitTimeout);

        SignIn("vic", "viewer");
        var viewer = Render<ScriptsPage>();
        viewer.WaitForAssertion(() => Assert.Contains("Members and admins can create them", viewer.Find("[data-testid=scripts-empty]").TextContent), WaitTimeout);
        Assert.Empty(viewer.FindAll("a[href='/scripts/new']"));
    }

    [Fact]
    public async Task The_list_shows_each_script_with_its_latest_version()
    {
        await _library.SaveAsync("deploy-s3", "aws s3 sync . \"s3://$1\"", "Syncs to a bucket", "mia");
        await _library.SaveAsync("deploy-s3", "aws s3 sync --delete . \"s3://$1\"", "Syncs to a bucket", "mia");
        SignIn("vic", "viewer");

        var cut = Render<ScriptsPage>();

        cut.WaitForAssertion(() =>
        {
            var row = cut.Find("[data-testid=scripts-table] tbody tr").TextContent;
            Assert.Contains("deploy-s3", row);
            Assert.Contains("Syncs to a bucket", row);
            Assert.Contains("v2", row);
            Assert.Contains("by mia", row);
        }, WaitTimeout);
    }

    [Fact]
    public async Task Saving_an_edit_makes_the_next_version_and_the_versions_compare_side_by_side()
    {
        await _library.SaveAsync("notify", "echo start\ncurl -s \"$HOOK\"\n", "Posts to chat", "mia");
        SignIn("mia", "member");
        var cut = RenderInLayout<ScriptPage>((nameof(ScriptPage.Name), "notify"));
        cut.WaitForAssertion(() => Assert.Contains("Save as v2", cut.Markup), WaitTimeout);

        await cut.InvokeAsync(() => cut.Find("textarea[aria-label='Bash script']").Input("echo start\ncurl -sf \"$HOOK\"\necho sent\n"));
        await cut.InvokeAsync(() => cut.FindAll("button").Single(b => b.TextContent.Contains("Save as v2")).Click());

        cut.WaitForAssertion(() => Assert.Contains("Save as v3", cut.Markup), WaitTimeout);
        var v2 = await _library.GetVersionAsync("notify", 2);
        Assert.Equal("echo start\ncurl -sf \"$HOOK\"\necho sent\n", v2!.Body);
        Assert.Equal("mia", v2.Author);
        Assert.Contains("Versions (2)", cut.Markup);
        Assert.Equal("echo start\ncurl -s \"$HOOK\"\n", (await _library.GetVersionAsync("notify", 1))!.Body);
    }

    [Fact]
    public void A_diff_marks_removed_lines_on_the_left_and_added_lines_on_the_right()
    {
        var cut = Render<ScriptDiff>(p => p
            .Add(c => c.OldText, "echo start\nrm -rf build\necho end\n")
            .Add(c => c.NewText, "echo start\necho end\nnotify done\n")
            .Add(c => c.OldTitle, "v1").Add(c => c.NewTitle, "v2"));

        var deleted = cut.FindAll(".diff-deleted").Select(c => c.TextContent.Trim()).ToList();
        var inserted = cut.FindAll(".diff-inserted").Select(c => c.TextContent.Trim()).ToList();
        Assert.Equal(["2rm -rf build"], deleted);
        Assert.Equal(["3notify done"], inserted);
        Assert.Contains("Changes from v1 to v2", cut.Find("[data-testid=script-diff]").GetAttribute("aria-label"));
    }

    [Fact]
    public async Task A_bad_name_on_the_new_script_form_says_what_names_may_be_and_saves_nothing()
    {
        SignIn("mia", "member");
        var cut = RenderInLayout<ScriptPage>();
        cut.WaitForAssertion(() => Assert.Contains("Create script", cut.Markup), WaitTimeout);

        await cut.InvokeAsync(() => cut.Find("input").Input("Deploy To S3!"));
        await cut.InvokeAsync(() => cut.Find("textarea[aria-label='Bash script']").Input("echo hi"));
        await cut.InvokeAsync(() => cut.FindAll("button").Single(b => b.TextContent.Contains("Create script")).Click());

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.Find("[data-testid=script-error]").TextContent), WaitTimeout);
        Assert.Empty(await _library.ListAsync());
    }

    [Fact]
    public async Task A_script_shows_the_projects_that_use_it_and_a_viewer_reads_it_without_an_editor()
    {
        await _library.SaveAsync("deploy-s3", "aws s3 sync . \"s3://$1\"", "", "mia");
        await Db.CreateProjectAsync("shop", new BuildSettings([], [new JobSettings("ship", ["run-script deploy-s3@1 my-bucket"])], []));
        SignIn("vic", "viewer");

        var cut = RenderInLayout<ScriptPage>((nameof(ScriptPage.Name), "deploy-s3"));

        cut.WaitForAssertion(() => Assert.Contains("Used by (1)", cut.Markup), WaitTimeout);
        Assert.DoesNotContain("Save as", cut.Markup);
        Assert.NotNull(cut.Find("textarea[aria-label='deploy-s3 v1'][readonly]"));
        var usages = (await _library.UsagesAsync("deploy-s3")).Single();
        Assert.Equal(("shop", 1), (usages.ProjectSlug, usages.PinnedVersion));
    }

    [Fact]
    public void An_unknown_script_says_so_and_links_back_to_the_list()
    {
        SignIn("mia", "member");

        var cut = RenderInLayout<ScriptPage>((nameof(ScriptPage.Name), "no-such-script"));

        cut.WaitForAssertion(() => Assert.Contains("There is no script 'no-such-script'", cut.Find("[data-testid=script-missing]").TextContent), WaitTimeout);
    }

    [Fact]
    public async Task An_admin_takes_the_scripts_from_a_git_repository_and_editing_here_turns_off()
    {
        using var repo = await GitRepo.CreateAsync("main");
        await repo.CommitAsync("Scripts", ("ops/notify.sh", "echo \"notify $1\"\n"), ("ops/README.md", "not a script"));
        SignIn("ada", "admin");
        var cut = RenderInLayout<ScriptsPage>();
        cut.WaitForAssertion(() => Assert.Contains("Use this repository", cut.Markup), WaitTimeout);
        Assert.NotEmpty(cut.FindAll("a[href='/scripts/new']"));

        var inputs = cut.FindComponents<MudBlazor.MudTextField<string>>();
        await cut.InvokeAsync(() => inputs.Single(i => i.Instance.Label == "Repository URL").Instance.ValueChanged.InvokeAsync(repo.Path));
        await cut.InvokeAsync(() => inputs.Single(i => i.Instance.Label == "Folder").Instance.ValueChanged.InvokeAsync("ops"));
        await cut.InvokeAsync(() => cut.FindAll("button").Single(b => b.TextContent.Contains("Use this repository")).Click());

        cut.WaitForAssertion(() => Assert.Contains("notify", cut.Find("[data-testid=scripts-table]").TextContent), TimeSpan.FromSeconds(30));
        Assert.Contains("Synced commit", cut.Find("[data-testid=library-result]").TextContent);
        Assert.Contains("change them there", cut.Find("[data-testid=git-backed]").TextContent);
        Assert.Empty(cut.FindAll("a[href='/scripts/new']"));
        Assert.Contains("/webhooks/scripts", cut.Find("[data-testid=library-source]").TextContent);
        Assert.Equal("echo \"notify $1\"\n", (await _library.GetVersionAsync("notify", 1))!.Body);
    }

    [Fact]
    public async Task A_script_cannot_be_named_new_because_that_is_the_page_that_creates_scripts()
    {
        var saved = await _library.SaveAsync("new", "echo hi", "", "mia");

        Assert.False(saved.Ok);
        Assert.Contains("'new' is reserved", saved.Message);
    }
}
