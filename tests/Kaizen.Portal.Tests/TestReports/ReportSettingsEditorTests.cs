using Bunit;
using Kaizen.Portal.Tests.Components.Settings;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.Components.Web;

namespace Kaizen.Portal.Tests.TestReports;

public sealed class ReportSettingsEditorTests : EditorHarness
{
    [Fact]
    public async Task A_jobs_test_reports_and_coverage_are_typed_checked_and_saved()
    {
        var cut = RenderEditor(await ProjectWithAsync(TestDatabase.OneJob("test")));
        var job = Group(cut, "Job test");

        await Field(job, "Test reports").InputAsync(new() { Value = "../junit.xml" });

        Assert.Contains("must stay inside the workspace", Group(cut, "Job test").TextContent);
        await Button(cut, "Save").ClickAsync(new MouseEventArgs());
        Assert.Contains("must stay inside the workspace", cut.Find("[data-testid=settings-problems]").TextContent);
        Assert.Empty(Assert.Single((await SavedSettingsAsync()).Jobs).TestReports ?? []);

        await Field(Group(cut, "Job test"), "Test reports").InputAsync(new() { Value = "reports/junit.xml, reports/more/*.xml" });
        await Field(Group(cut, "Job test"), "Coverage").InputAsync(new() { Value = "coverage.xml" });
        await Button(cut, "Save").ClickAsync(new MouseEventArgs());

        var saved = Assert.Single((await SavedSettingsAsync()).Jobs);
        Assert.Equal(["reports/junit.xml", "reports/more/*.xml"], saved.TestReports);
        Assert.Equal(["coverage.xml"], saved.Coverage);
    }
}
