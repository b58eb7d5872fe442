using Kaizen.Plugins.Node;
using Kaizen.Plugins.Tests.Support;

namespace Kaizen.Plugins.Tests.Node;

public sealed class NodeDetectionTests
{
    private const string PackageJson = """{ "name": "web", "scripts": { "test": "jest", "lint": "eslint src", "build": "react-scripts build" } }""";

    private readonly NodePlugin _plugin = new();

    [Fact]
    public void Package_json_with_a_yarn_lock_in_the_root_is_a_yarn_stack()
    {
        var stack = Assert.Single(_plugin.Detect(new MemoryRepository(("package.json", PackageJson), ("yarn.lock", "# yarn lockfile v1\n"))));

        Assert.Equal(("node", "node", ""), (stack.PluginId, stack.Stack, stack.Directory));
        Assert.Equal("test,lint,build", stack.Fact("scripts"));
        Assert.Equal("1.22.22", stack.Fact("yarn"));
        Assert.Equal("build", stack.Fact("siteDir"));
        Assert.Equal("yarn 1.22.22 project with scripts test, lint, build", stack.Summary);
    }

    [Fact]
    public void A_frontend_folder_is_found_and_node_modules_is_skipped()
    {
        var stacks = _plugin.Detect(new MemoryRepository(
            ("frontend/package.json", PackageJson), ("frontend/yarn.lock", ""),
            ("frontend/node_modules/left-pad/package.json", "{}"), ("frontend/node_modules/left-pad/yarn.lock", ""),
            ("backend/setup.py", "")));

        Assert.Equal(["frontend"], stacks.Select(s => s.Directory));
    }

    [Fact]
    public void Without_a_yarn_lock_it_is_not_a_yarn_project()
    {
        Assert.Empty(_plugin.Detect(new MemoryRepository(("package.json", PackageJson), ("package-lock.json", "{}"))));
    }

    [Fact]
    public void Workspace_members_belong_to_the_root_that_holds_the_lockfile()
    {
        var stacks = _plugin.Detect(new MemoryRepository(
            ("package.json", """{ "private": true, "workspaces": ["packages/*"] }"""), ("yarn.lock", ""), ("packages/a/package.json", "{}")));

        Assert.Equal([""], stacks.Select(s => s.Directory));
    }

    [Theory]
    [InlineData("{ \"scripts\": { \"test\": ")]
    [InlineData("[1, 2, 3]")]
    [InlineData("not json at all")]
    public void A_malformed_package_json_is_detected_with_a_reason_and_plans_no_jobs(string content)
    {
        var repository = new MemoryRepository(("package.json", content), ("yarn.lock", ""));

        var stack = Assert.Single(_plugin.Detect(repository));
        var plan = _plugin.PlanBuild(new(repository, stack));

        Assert.Contains("package.json is not", stack.Summary);
        Assert.Empty(plan.Jobs);
    }

    [Fact]
    public void A_pinned_package_manager_and_yarn_berry_are_recognised()
    {
        var classic = _plugin.Detect(new MemoryRepository(("package.json", """{ "packageManager": "yarn@1.22.19+sha512.abc" }"""), ("yarn.lock", "")));
        var berry = _plugin.Detect(new MemoryRepository(("package.json", """{ "packageManager": "yarn@4.1.0" }"""), ("yarn.lock", "__metadata:\n  version: 8\n")));

        Assert.Equal("1.22.19", Assert.Single(classic).Fact("yarn"));
        Assert.Equal(("4.1.0", "true"), (Assert.Single(berry).Fact("yarn"), berry[0].Fact("berry")));
    }

    [Fact]
    public void The_plugin_says_who_it_is()
    {
        Assert.Equal(("node", "Node / yarn", "Kaizen"), (_plugin.Info.Id, _plugin.Info.Name, _plugin.Info.Author));
        Assert.False(string.IsNullOrWhiteSpace(_plugin.Info.Description));
    }
}
