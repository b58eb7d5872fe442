using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Pages.Builds;
using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Data;
using Kaizen.Runner.Tests.Support;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Components.RunBuild;

/// <summary>
/// The Run build dialog, the build page's actions (Cancel's confirmation, Rerun failed jobs) and what a build says of
/// where it comes from, rendered with bUnit over the real services: a migrated SQLite database and a real git repository
/// with two commits on main and a tag on the first. A member, "mia", is signed in unless a test says otherwise.
/// </summary>
public sealed class RunBuildComponentTests : PortalComponentContext, IAsyncLifetime
{
    private GitRepo _repo = null!;
    private string _data = "";
    private ProjectRow _project = null!;
    private string _first = "";

    protected override async Task SetUpAsync()
    {
        var protection = new EphemeralDataProtectionProvider();
        _data = Path.Combine(Path.GetTempPath(), $"kaizen-run-{Guid.NewGuid():N}");
        Services.AddSingleton<IOptions<KaizenOptions>>(Options.Create(new KaizenOptions { DataDirectory = _data }));
        Services.AddSingleton<IDataProtectionProvider>(protection);
        AddBuildAndDeployServices(protection);
        Services.AddSingleton<GitMirror>().AddSingleton<GitUrlPolicy>().AddSingleton<ProjectService>();
        Services.AddSingleton<BuildService>().AddSingleton<BuildRefResolver>().AddSingleton<BuildFactsReader>();
        Services.AddSingleton<SettingsSourceStore>().AddSingleton<RepositorySettings>();
        SignIn("mia", "member");

        _repo = await GitRepo.CreateAsync("main");
        _first = await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
        await _repo.GitAsync("tag", "v1.0");
        await _repo.CommitAsync("Second", ("readme.txt", "world\n"));
        var id = await Db.Projects.CreateAsync("Shop", "shop", _repo.Path, "main", isPublic: false);
        await Db.Projects.SaveSettingsAsync(id, TestDatabase.TwoJobs);
        _project = (await Db.Projects.FindBySlugAsync("shop"))!;
    }

    // The repository and the mirrors go with the context.
    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        _repo.Dispose();
        // The dialog may still be fetching tags into the mirror when a test ends: git finishes within moments.
        for (var attempt = 0; Directory.Exists(_data); attempt++)
        {
            try
            {
                Directory.Delete(_data, recursive: true);
            }
            catch (IOException) when (attempt < 20)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Opens Run build… without waiting for the dialog to close (its handler waits for that).</summary>
    private async Task<IRenderedComponent<ContainerFragment>> OpenDialogAsync(string? initialRef)
    {
        var cut = RenderInLayout<RunBuildButton>(("Project", _project), ("InitialRef", initialRef));
        await cut.InvokeAsync(() => { _ = Button(cut, "Run build…").ClickAsync(new MouseEventArgs()); });
        cut.WaitForAssertion(() => Assert.Contains("Variables for this build", cut.Markup), WaitTimeout);
        return cut;
    }

    private static async Task AddVariableAsync(IRenderedComponent<ContainerFragment> cut, string name, string value)
    {
        await ClickAsync(cut, () => Button(cut, "Add variable"));
        await TypeAsync(cut, "Name", name);
        await TypeAsync(cut, "Value", value);
    }

    [Fact]
    public async Task Run_build_starts_a_build_of_the_tag_with_its_variable_and_opens_it()
    {
        var cut = await OpenDialogAsync("v1.0");
        await AddVariableAsync(cut, "NAME", "world");

        await ClickAsync(cut, () => Button(cut, "Start build"));

        var navigation = Services.GetRequiredService<NavigationManager>();
        cut.WaitForAssertion(() => Assert.Matches(@"/builds/\d+$", navigation.Uri), WaitTimeout);
        var build = (await Db.Builds.FindAsync(long.Parse(navigation.Uri.Split('/')[^1])))!;
        Assert.Equal(RefKinds.Tag, build.RefKind);
        Assert.Equal("v1.0", build.Tag);
        Assert.Equal(_first, build.CommitSha);
        Assert.Equal("mia", build.TriggeredBy);
        Assert.Equal(new Dictionary<string, string> { ["NAME"] = "world" }, build.VariablesMap);
        cut.WaitForAssertion(() => Assert.DoesNotContain("Variables for this build", cut.Markup), WaitTimeout);
    }

    [Fact]
    public async Task The_dialog_says_variables_are_plain_values_not_secrets()
    {
        var cut = await OpenDialogAsync(null);

        var note = cut.Find("[data-testid=variables-note]").TextContent;
        Assert.Contains("not secrets", note);
        Assert.Contains("shown on the build page", note);
        Assert.Equal("main", Field(cut, "Branch, tag or commit").GetAttribute("value"));
    }

    [Theory]
    [InlineData("CI", "set by the runner")]
    [InlineData("KAIZEN_TOKEN", "reserved for the variables Kaizen sets")]
    [InlineData("2FAST", "is not a valid name")]
    public async Task A_name_the_build_cannot_take_is_marked_on_its_field_and_nothing_starts(string name, string why)
    {
        var cut = await OpenDialogAsync("main");
        await AddVariableAsync(cut, name, "x");

        await ClickAsync(cut, () => Button(cut, "Start build"));

        cut.WaitForAssertion(() => Assert.Contains(why, cut.Markup), WaitTimeout);
        Assert.Equal(0, (await Db.Builds.ListAsync(_project.Id, 0, 10, null, null)).Total);
        Assert.Contains("Variables for this build", cut.Markup);
    }

    [Fact]
    public async Task An_unknown_ref_is_said_on_the_field_and_what_was_typed_is_kept()
    {
        var cut = await OpenDialogAsync("no-such-thing");
        await AddVariableAsync(cut, "NAME", "kept-value");

        await ClickAsync(cut, () => Button(cut, "Start build"));

        cut.WaitForAssertion(() => Assert.Contains("there is no branch, tag or commit", cut.Markup), WaitTimeout);
        Assert.Contains("no-such-thing", cut.Find(".mud-input-helper-text.mud-input-error").TextContent);
        Assert.DoesNotContain(_repo.Path, cut.Markup);
        Assert.Equal("kept-value", Field(cut, "Value").GetAttribute("value"));
        Assert.Equal(0, (await Db.Builds.ListAsync(_project.Id, 0, 10, null, null)).Total);
    }

    [Fact]
    public void A_viewer_is_not_offered_run_build()
    {
        SignIn("vic", "viewer");

        var cut = RenderInLayout<RunBuildButton>(("Project", _project));

        Assert.Empty(Buttons(cut, "Run build…"));
    }

    /// <summary>A build of the project with its jobs; the first one claimed by a runner (running) when asked.</summary>
    private async Task<(BuildRow Build, IReadOnlyList<JobRow> Jobs)> BuildAsync(bool oneRunning)
    {
        var id = await Db.CreateBuildAsync(_project.Id, TestDatabase.TwoJobs);
        if (oneRunning) await Db.Runners.ClaimAsync(await Db.RegisterRunnerAsync("r1"), TestDatabase.LeaseSeconds);
        return ((await Db.Builds.FindAsync(id))!, await Db.Builds.JobsAsync(id));
    }

    [Fact]
    public async Task Cancel_asks_first_while_a_job_runs_and_keeps_running_when_told_to()
    {
        var (build, jobs) = await BuildAsync(oneRunning: true);
        var cut = RenderInLayout<BuildActions>(("Build", build), ("Jobs", jobs));
        // A build still running has nothing to rerun the failures of yet.
        Assert.Empty(Buttons(cut, "Rerun failed jobs"));

        await cut.InvokeAsync(() => { _ = Button(cut, "Cancel").ClickAsync(new MouseEventArgs()); });
        cut.WaitForAssertion(() => Assert.Contains("1 job is running; cancel it?", cut.Markup), WaitTimeout);
        await ClickAsync(cut, () => Button(cut, "Keep running"));

        cut.WaitForAssertion(() => Assert.DoesNotContain("1 job is running", cut.Markup), WaitTimeout);
        Assert.Equal(Status.Running, (await Db.Builds.FindAsync(build.Id))!.Status);

        await cut.InvokeAsync(() => { _ = Button(cut, "Cancel").ClickAsync(new MouseEventArgs()); });
        cut.WaitForAssertion(() => Assert.Contains("1 job is running; cancel it?", cut.Markup), WaitTimeout);
        await ClickAsync(cut, () => Button(cut, "Cancel build"));

        await WaitUntilAsync(async () => (await Db.Builds.FindAsync(build.Id))!.CanceledBy == "mia");
    }

    [Fact]
    public async Task Cancel_of_a_build_whose_jobs_only_wait_needs_no_confirmation()
    {
        var (build, jobs) = await BuildAsync(oneRunning: false);
        var cut = RenderInLayout<BuildActions>(("Build", build), ("Jobs", jobs));

        await ClickAsync(cut, () => Button(cut, "Cancel"));

        Assert.DoesNotContain("running; cancel", cut.Markup);
        var canceled = (await Db.Builds.FindAsync(build.Id))!;
        Assert.Equal(Status.Canceled, canceled.Status);
        Assert.Equal("mia", canceled.CanceledBy);
    }

    [Fact]
    public async Task Rerun_failed_jobs_is_offered_only_for_a_finished_build_with_failures()
    {
        var (build, _) = await BuildAsync(oneRunning: false);

        await Db.Builds.CancelAsync(build.Id);
        var canceled = RenderInLayout<BuildActions>(("Build", (await Db.Builds.FindAsync(build.Id))!), ("Jobs", await Db.Builds.JobsAsync(build.Id)));

        Assert.Single(Buttons(canceled, "Rerun failed jobs"));
        Assert.Single(Buttons(canceled, "Rerun"));
    }

    [Fact]
    public async Task A_rerun_names_its_original_and_who_ran_it_and_a_canceled_build_who_canceled_it()
    {
        var original = await Db.CreateBuildAsync(_project.Id, TestDatabase.OneJob());
        var plan = BuildStore.Plan(_project.Id, TestDatabase.OneJob(), "main", _first, "First", "Dev", Trigger.Rerun, "alice") with
        {
            RerunOf = original, RerunFailed = true, Variables = new Dictionary<string, string> { ["NAME"] = "value" },
        };
        var rerun = await Db.Builds.CreateAsync(plan);
        await Db.Builds.CancelAsync(rerun, canceledBy: "bob");

        var cut = RenderInLayout<BuildOrigin>(("Build", (await Db.Builds.FindAsync(rerun))!));

        var line = cut.Find("[data-testid=rerun-of]");
        Assert.StartsWith($"Rerun of the failed jobs of #{original} by alice", line.TextContent.Trim());
        Assert.Equal($"/builds/{original}", line.QuerySelector("a")!.GetAttribute("href"));
        Assert.Contains("NAME=value", cut.Find("[data-testid=run-variables]").TextContent);
        Assert.Contains("Canceled by bob", cut.Find("[data-testid=canceled-by]").TextContent);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + WaitTimeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("The condition did not hold in time.");
            await Task.Delay(50);
        }
    }
}
