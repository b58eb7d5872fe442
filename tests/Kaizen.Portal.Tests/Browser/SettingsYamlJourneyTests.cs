using System.Net.Http.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>Edit YAML on the Settings tab in Chromium against the real portal: a pipeline with blocks changed in place, its
/// problems shown with their lines as you type, the preview following, and the text kept with its comments after Save.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SettingsYamlJourneyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    private static readonly object TwoBlocks = new
    {
        setup = Array.Empty<string>(),
        jobs = Array.Empty<object>(),
        epilogue = Array.Empty<string>(),
        blocks = new object[]
        {
            new { name = "lint", jobs = new[] { new { name = "flake8", commands = new[] { "flake8 ." } } } },
            new { name = "test", dependencies = Array.Empty<string>(), jobs = new[] { new { name = "unit", commands = new[] { "pytest" } } } },
        },
    };

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

    private static Task<int> CaretLineAsync(ILocator area) =>
        area.EvaluateAsync<int>("a => a.value.slice(0, a.selectionStart).split('\\n').length");

    [SkippableFact]
    public async Task A_member_adds_a_block_in_Edit_YAML_fixes_the_typo_it_points_at_and_Save_keeps_the_comments()
    {
        // Arrange
        var slug = await _portal.CreateProjectAsync("Shop", _repo.Path, TwoBlocks);
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}/settings");
        await Assertions.Expect(page.GetByRole(AriaRole.Group, new() { Name = "Block test", Exact = true })).ToBeVisibleAsync();

        // Act: open it; the draft is there as YAML.
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit YAML" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        var area = dialog.GetByRole(AriaRole.Textbox, new() { Name = "YAML" });
        var status = dialog.GetByTestId("yaml-status");
        await Assertions.Expect(status).ToHaveTextAsync("No problems: 2 blocks, 2 jobs");
        var original = await area.InputValueAsync();
        Assert.Contains("name: lint", original);

        // Act: a comment on top and a third block, with a misspelt dependency.
        var lintLine = original.Split('\n').Single(l => l.Contains("- name: lint", StringComparison.Ordinal));
        var i = lintLine[..lintLine.IndexOf('-')];
        var block = $"{i}- name: deploy\n{i}  # ships only what passed\n{i}  dependencies: [lint, tset]\n{i}  jobs:\n" +
                    $"{i}    - name: ship\n{i}      commands:\n{i}        - echo ship\n";
        var edited = "# Shop: lint and test side by side, then deploy.\n" + original.Replace("epilogue: []", block + "epilogue: []");
        await area.FillAsync(edited);

        // Assert: the problem with its line; Apply waits.
        var typoLine = edited.Split('\n').ToList().FindIndex(l => l.Contains("tset", StringComparison.Ordinal)) + 1;
        var problems = dialog.GetByTestId("yaml-problems");
        await Assertions.Expect(problems).ToContainTextAsync($"Line {typoLine}: blocks[2].dependencies[1]: no block is named 'tset'");
        await Assertions.Expect(status).ToHaveTextAsync("1 problem");
        await Assertions.Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Apply" })).ToBeDisabledAsync();
        await browser.ScreenshotAsync("settings-yaml.png");

        // Act: the problem selects its line; typing replaces it, Tab indenting without leaving the field.
        await problems.GetByRole(AriaRole.Button).ClickAsync();
        Assert.Equal(typoLine, await CaretLineAsync(area));
        await Assertions.Expect(area).ToBeFocusedAsync();
        for (var tab = 0; tab < (i.Length + 2) / 2; tab++) await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync("dependencies: [lint, test]");
        await Assertions.Expect(area).ToBeFocusedAsync();

        // Assert: fixed, and the preview follows.
        await Assertions.Expect(status).ToHaveTextAsync("No problems: 3 blocks, 3 jobs");
        await Assertions.Expect(problems).ToHaveCountAsync(0);
        await Assertions.Expect(dialog.GetByTestId("yaml-preview").Locator("[data-block=deploy]")).ToContainTextAsync("Runs after lint, test passed.");
        var typed = await area.InputValueAsync();
        Assert.Contains($"\n{i}  dependencies: [lint, test]\n", typed);

        // Act: apply, save, reload, export.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Group, new() { Name = "Block deploy", Exact = true }).GetByTestId("block-runs-after")).ToHaveTextAsync("Runs once lint and test passed.");
        await Assertions.Expect(page.GetByText("Unsaved changes")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("Build settings saved.")).ToBeVisibleAsync();
        await page.ReloadAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Export YAML" }).ClickAsync();

        // Assert: the text as typed, comments included; the API has the new block.
        var exported = await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Textbox, new() { Name = "YAML" }).InputValueAsync();
        Assert.Equal(typed, exported);
        Assert.Contains("# ships only what passed", exported);
        var settings = (await _portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{slug}/settings"))!;
        Assert.Equal(["lint", "test", "deploy"], settings.Blocks!.Select(b => b.Name));
        Assert.Equal(["lint", "test"], settings.Blocks![2].Dependencies);
    }

    [SkippableFact]
    public async Task A_pasted_text_over_the_limit_is_refused_in_words_and_the_page_keeps_working()
    {
        // Arrange
        var slug = await _portal.CreateProjectAsync("Big", _repo.Path, PortalHost.OneJob("true"));
        await using var browser = await BrowserSession.StartAsync(_portal.BaseUrl);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}/settings");
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit YAML" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        var area = dialog.GetByRole(AriaRole.Textbox, new() { Name = "YAML" });
        await Assertions.Expect(dialog.GetByTestId("yaml-status")).ToHaveTextAsync("No problems: 1 job");

        // Act: a paste far over what settings may hold (and over what one message to the portal may carry), then Escape.
        var huge = "jobs:\n  - name: test\n    commands:\n      - " + new string('x', 5_000_000) + "\n";
        await area.FillAsync(huge);

        // Assert
        await Assertions.Expect(dialog.GetByTestId("yaml-status")).ToHaveTextAsync("Too long", new() { Timeout = 30_000 });
        await Assertions.Expect(dialog.GetByTestId("yaml-problems")).ToContainTextAsync($"The text has {huge.Length:N0} characters; build settings hold at most 1,000,000, so it was not read");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(dialog).ToContainTextAsync("Discard your YAML changes?");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Keep editing" }).ClickAsync();
        Assert.Equal(huge.Length, (await area.InputValueAsync()).Length);

        // Act: a file of the right size, pasted over it, applies (the connection survived: the large text never travelled).
        await area.FillAsync("jobs:\n  - name: check\n    commands:\n      - make check\n");
        await Assertions.Expect(dialog.GetByTestId("yaml-status")).ToHaveTextAsync("No problems: 1 job");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();

        // Assert
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Group, new() { Name = "Job check" })).ToBeVisibleAsync();
    }

    [SkippableFact]
    public async Task Typing_fast_over_a_slow_connection_keeps_every_character_and_a_phone_gets_the_whole_screen()
    {
        // Arrange: 40 ms each way, as from another office; a phone's screen.
        var slug = await _portal.CreateProjectAsync("Slow", _repo.Path, PortalHost.OneJob("true"));
        await using var proxy = new LatencyProxy(_portal.BaseUrl, TimeSpan.FromMilliseconds(40));
        await using var browser = await BrowserSession.StartAsync(proxy.Url, viewport: BrowserSession.Phone);
        var page = browser.Page;
        await browser.SignInAsync($"/projects/{slug}/settings");
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit YAML" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        var area = dialog.GetByRole(AriaRole.Textbox, new() { Name = "YAML" });
        await Assertions.Expect(dialog.GetByTestId("yaml-status")).ToHaveTextAsync("No problems: 1 job");

        // Act: a burst at the end of the text, key by key with no pause.
        await area.PressAsync("Control+End");
        await page.Keyboard.TypeAsync("# deploys from main only, see the runbook\n");
        var before = await area.InputValueAsync();
        await Assertions.Expect(dialog.GetByTestId("yaml-status")).ToHaveTextAsync("No problems: 1 job");

        // Assert: the dialog fills the phone's screen, and Apply hands over exactly what was typed (a comment alone is a
        // change Save keeps).
        var box = (await page.Locator(".mud-dialog.kz-yaml-edit").BoundingBoxAsync())!;
        Assert.Equal(BrowserSession.Phone.Width, box.Width, 1.0);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("Build settings saved.")).ToBeVisibleAsync();
        var stored = await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/settings.yaml");
        Assert.Equal(before, stored);
        Assert.EndsWith("# deploys from main only, see the runbook\n", stored);
    }
}
