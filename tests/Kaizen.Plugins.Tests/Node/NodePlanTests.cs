using Kaizen.Plugins.Node;
using Kaizen.Plugins.Tests.Support;
using Kaizen.Sdk;

namespace Kaizen.Plugins.Tests.Node;

public sealed class NodePlanTests
{
    private readonly NodePlugin _plugin = new();

    private (DetectedStack Stack, BuildPlan Plan) Plan(MemoryRepository repository)
    {
        var stack = Assert.Single(_plugin.Detect(repository));
        return (stack, _plugin.PlanBuild(new BuildPlanContext(repository, stack)));
    }

    [Fact]
    public void Install_is_frozen_node_modules_are_cached_on_the_lockfile_and_test_and_lint_are_jobs()
    {
        var (_, plan) = Plan(new MemoryRepository(
            ("package.json", """{ "scripts": { "test": "mocha", "lint": "eslint .", "start": "node ." } }"""), ("yarn.lock", "")));

        Assert.Equal(["yarn install --frozen-lockfile --non-interactive --mutex \"file:${TMPDIR:-/tmp}/.kaizen-yarn-mutex\""], plan.Setup);
        var cache = Assert.Single(plan.Caches);
        Assert.Equal(("node-node_modules", "yarn.lock", "node_modules"), (cache.Name, cache.KeyFiles.Single(), cache.Paths.Single()));
        Assert.Equal([("test", "yarn test"), ("lint", "yarn lint")], plan.Jobs.Select(j => (j.Name, j.Commands.Single())));
    }

    [Fact]
    public void Only_the_scripts_that_exist_become_jobs()
    {
        var (_, onlyLint) = Plan(new MemoryRepository(("package.json", """{ "scripts": { "lint": "eslint ." } }"""), ("yarn.lock", "")));
        var (_, none) = Plan(new MemoryRepository(("package.json", """{ "name": "x" }"""), ("yarn.lock", "")));

        Assert.Equal(["lint"], onlyLint.Jobs.Select(j => j.Name));
        Assert.Empty(none.Jobs);
    }

    [Fact]
    public void Yarn_is_a_tool_installed_once_into_its_own_folder_not_globally()
    {
        var (_, plan) = Plan(new MemoryRepository(("package.json", """{ "scripts": { "test": "true" } }"""), ("yarn.lock", "")));

        var yarn = Assert.Single(plan.Tools);
        Assert.Equal(("yarn", "1.22.22", "node_modules/.bin"), (yarn.Name, yarn.Version, yarn.PathEntries.Single()));
        Assert.Contains("--prefix \"$KAIZEN_TOOL_PREFIX\"", Assert.Single(yarn.Install));
        Assert.DoesNotContain(" -g", yarn.Install[0]);
    }

    [Fact]
    public void A_frontend_folder_installs_tests_and_caches_there()
    {
        var (_, plan) = Plan(new MemoryRepository(
            ("frontend/package.json", """{ "scripts": { "test": "jest" } }"""), ("frontend/yarn.lock", ""), ("frontend/.nvmrc", "20\n")));

        Assert.Equal(["(cd frontend && yarn install --frozen-lockfile --non-interactive --mutex \"file:${TMPDIR:-/tmp}/.kaizen-yarn-mutex\")"], plan.Setup);
        Assert.Equal("(cd frontend && yarn test)", plan.Jobs.Single().Commands.Single());
        var cache = Assert.Single(plan.Caches);
        Assert.Equal("node-frontend-node_modules", cache.Name);
        Assert.Equal(["frontend/yarn.lock", "frontend/.nvmrc"], cache.KeyFiles);
        Assert.Equal(["frontend/node_modules"], cache.Paths);
    }

    [Fact]
    public void Jest_with_jest_junit_writes_a_test_report_and_a_coverage_report()
    {
        var (_, plan) = Plan(new MemoryRepository(
            ("package.json", """{ "scripts": { "test": "jest" }, "devDependencies": { "jest": "29", "jest-junit": "16" } }"""), ("yarn.lock", "")));

        var test = Assert.Single(plan.Jobs);
        Assert.Contains("--reporters=jest-junit", test.Commands.Single());
        Assert.Contains("--coverage --coverageReporters=text-summary --coverageReporters=cobertura", test.Commands.Single());
        Assert.Equal(["test-reports/junit.xml"], test.TestReports);
        Assert.Equal(["coverage/cobertura-coverage.xml"], test.Coverage);
    }

    [Fact]
    public void Berry_installs_immutably_through_corepack_and_caches_its_zip_cache()
    {
        var (_, plan) = Plan(new MemoryRepository(
            ("package.json", """{ "packageManager": "yarn@4.1.0", "scripts": { "test": "vitest" } }"""), ("yarn.lock", "__metadata:\n"), (".yarnrc.yml", "")));

        Assert.Equal(["yarn install --immutable"], plan.Setup);
        Assert.Equal(("yarn-corepack", "4.1.0"), (plan.Tools[0].Name, plan.Tools[0].Version));
        Assert.Equal(["node-node_modules", "node-yarn"], plan.Caches.Select(c => c.Name));
    }

    [Theory]
    [InlineData("react-scripts build", "build")]
    [InlineData("vite build", "dist")]
    [InlineData("webpack --mode production", "dist")]
    [InlineData("next build && next export", "out")]
    [InlineData("node scripts/build.js", "build")]
    public void A_deploy_builds_the_site_and_syncs_its_folder_to_the_bucket_by_variable_names(string build, string folder)
    {
        var repository = new MemoryRepository(("web/package.json", $$"""{ "scripts": { "build": "{{build}}" } }"""), ("web/yarn.lock", ""));
        var stack = Assert.Single(_plugin.Detect(repository));

        var plan = _plugin.PlanDeploy(new DeployPlanContext(repository, stack, "production", ["BUCKET"]));

        Assert.Equal(
            [
                "(cd web && yarn install --frozen-lockfile --non-interactive --mutex \"file:${TMPDIR:-/tmp}/.kaizen-yarn-mutex\")",
                "(cd web && yarn build)",
                $"(cd web && aws s3 sync {folder} \"s3://$BUCKET\" --delete)",
            ],
            plan.Commands);
        Assert.Equal(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "BUCKET"], plan.RequiredVariables);
        Assert.Equal("yarn", Assert.Single(plan.Tools!).Name);
        Assert.All(plan.Commands, c => Assert.DoesNotContain("AWS_SECRET_ACCESS_KEY", c, StringComparison.Ordinal));
    }

    [Fact]
    public void Settings_pick_the_yarn_version_and_the_site_folder()
    {
        _plugin.Configure(new PluginSettings(new Dictionary<string, string> { ["yarnVersion"] = "1.22.19", ["siteDir"] = "public" }));
        var repository = new MemoryRepository(("package.json", """{ "scripts": { "test": "true" } }"""), ("yarn.lock", ""));
        var stack = Assert.Single(_plugin.Detect(repository));

        var build = _plugin.PlanBuild(new BuildPlanContext(repository, stack));
        var deploy = _plugin.PlanDeploy(new DeployPlanContext(repository, stack, "staging", []));

        Assert.Equal("1.22.19", build.Tools.Single().Version);
        Assert.Equal(2, deploy.Commands.Count);
        Assert.Equal("aws s3 sync public \"s3://$BUCKET\" --delete", deploy.Commands[^1]);
    }
}
