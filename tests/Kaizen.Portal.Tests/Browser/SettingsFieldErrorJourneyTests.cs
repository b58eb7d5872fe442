using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>The build settings editor's errors in Chromium: a new job opens without red fields, and a problem only the
/// portal can find (a run-script line naming no script) is said under that command's own field, in its words.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SettingsFieldErrorJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 0);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("readme.txt", "hello\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_script_the_library_lacks_is_shown_on_command_7_and_a_new_job_is_not_red_until_Save()
    {
        // Arrange
        var slug = await _portal.CreateProjectAsync("Docs", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "lint", commands = new[] { "a", "b", "c", "d", "e", "f", "true" } } },
            epilogue = Array.Empty<string>(),
        });
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync();
        await page.GotoAsync($"/projects/{slug}/settings");
        var lint = page.GetByRole(AriaRole.Group, new() { Name = "Job lint" });

        // Act: the seventh command now calls a script nobody wrote, and a new job is added.
        var seventh = lint.GetByRole(AriaRole.Textbox, new() { Name = "Command 7", Exact = true });
        await seventh.FillAsync("run-script publish-docs");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add job" }).ClickAsync();
        var added = page.GetByRole(AriaRole.Group, new() { Name = "Job 2" });

        // Assert: the new job's empty fields are not red before Save.
        await Assertions.Expect(added.GetByRole(AriaRole.Textbox, new() { Name = "Job name" })).ToBeVisibleAsync();
        Assert.Equal(0, await added.Locator(".mud-input-error").CountAsync());
        await added.GetByRole(AriaRole.Button, new() { Name = "Remove job 2" }).ClickAsync();

        // Act
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();

        // Assert: under Command 7, marked invalid, said the same way in the list; no internal path; nothing saved.
        var field = lint.Locator(".mud-input-control").Filter(new() { Has = page.GetByRole(AriaRole.Textbox, new() { Name = "Command 7", Exact = true }) });
        await Assertions.Expect(field).ToContainTextAsync("There is no script 'publish-docs' in the library.");
        await Assertions.Expect(seventh).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.GetByTestId("settings-problems")).ToContainTextAsync("Command 7 of job lint: There is no script 'publish-docs' in the library.");
        Assert.DoesNotContain("jobs[", await page.ContentAsync());
        var stored = (await _portal.Service<Kaizen.Portal.Projects.ProjectStore>().FindBySlugAsync(slug))!.Settings;
        Assert.Equal("true", stored.Jobs[0].Commands[6]);

        // Fixing the command clears the message, and Save keeps it.
        await seventh.FillAsync("make docs");
        await Assertions.Expect(field).Not.ToContainTextAsync("There is no script");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("Build settings saved.")).ToBeVisibleAsync();
        stored = (await _portal.Service<Kaizen.Portal.Projects.ProjectStore>().FindBySlugAsync(slug))!.Settings;
        Assert.Equal("make docs", stored.Jobs[0].Commands[6]);
    }
}
