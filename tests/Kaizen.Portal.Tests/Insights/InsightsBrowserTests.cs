using Kaizen.Portal.Tests.Browser;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Insights;

/// <summary>The insights pages in real Chromium over the seeded history: charts drawn, numbers in tables, nothing missing.</summary>
[Collection(BrowserCollection.Name)]
public sealed class InsightsBrowserTests(InsightsPortal fixture) : IClassFixture<InsightsPortal>
{
    [SkippableFact]
    public async Task The_project_tab_and_the_cross_project_page_draw_their_charts_with_the_numbers_beside_them()
    {
        // Arrange
        await using var browser = await BrowserSession.StartAsync(fixture.Portal.BaseUrl);
        var page = browser.Page;
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        await browser.SignInAsync();

        // Act: the project's Insights tab.
        await page.GotoAsync("/projects/shop");
        await browser.ProjectSection("Insights").ClickAsync();

        // Assert
        await Assertions.Expect(page.GetByText("Build duration on main")).ToBeVisibleAsync();
        var days = page.GetByRole(AriaRole.Table, new() { Name = "Build duration, queue time and pass rate per day on main" });
        await Assertions.Expect(days.Locator("tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(days.Locator("tbody tr").First).ToContainTextAsync("2 m 30 s");          // median of 120 and 180 s
        var commands = page.GetByRole(AriaRole.Table, new() { Name = "Slowest commands" });
        await Assertions.Expect(commands.Locator("tbody tr").First).ToContainTextAsync("pytest -q");
        await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Time to production per deploy" }).Locator("tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.GetByText("Target (5 min)").First).ToBeAttachedAsync();
        Assert.True(await page.Locator("[data-testid=project-insights] svg").CountAsync() >= 4, "four charts are drawn");

        // Act: its own page, for the README, then the cross-project page.
        await page.GotoAsync("/projects/shop/insights");
        await Assertions.Expect(page.GetByText("Build duration on main")).ToBeVisibleAsync();
        await page.SettleAsync();
        await browser.ScreenshotAsync("insights.png");
        await page.GetByRole(AriaRole.Link, new() { Name = "Insights", Exact = true }).First.ClickAsync();

        // Assert
        var projects = page.GetByRole(AriaRole.Table, new() { Name = "Projects compared" });
        await Assertions.Expect(projects.Locator("tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(projects.Locator("tbody tr").Nth(1)).ToContainTextAsync("5 m 45 s / 7 m 09 s (Production)");
        await projects.GetByRole(AriaRole.Link, new() { Name = "Tool" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Insights of Tool")).ToBeVisibleAsync();
        Assert.Empty(browser.FailedResponses);
        Assert.Empty(errors);
    }
}
