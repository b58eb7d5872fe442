using Kaizen.Plugins.Serverless;
using Kaizen.Plugins.Tests.Support;
using Kaizen.Sdk;

namespace Kaizen.Plugins.Tests.Serverless;

public sealed class ServerlessPluginTests
{
    private const string PythonService = """
        service: hello-py # the service
        frameworkVersion: '3'

        provider:
          name: aws
          runtime: python3.11
          environment:
            name: not-the-provider
        functions:
          hello:
            handler: handler.hello
        """;

    private static ServerlessPlugin Plugin(params (string Key, string Value)[] settings)
    {
        var plugin = new ServerlessPlugin();
        plugin.Configure(new PluginSettings(settings.ToDictionary(s => s.Key, s => s.Value)));
        return plugin;
    }

    [Fact]
    public void A_service_at_the_root_is_detected_with_its_provider_and_runtime()
    {
        var stack = Assert.Single(Plugin().Detect(new MemoryRepository(("serverless.yml", PythonService), ("handler.py", ""))));

        Assert.Equal(("serverless", "serverless", ""), (stack.PluginId, stack.Stack, stack.Directory));
        Assert.Equal(("hello-py", "aws", "python3.11"), (stack.Fact("service"), stack.Fact("provider"), stack.Fact("runtime")));
        Assert.Equal("Serverless service 'hello-py' on aws (python3.11)", stack.Summary);
    }

    [Fact]
    public void Services_in_sub_folders_are_found_but_not_those_inside_node_modules()
    {
        var repo = new MemoryRepository(("backend/serverless.yml", PythonService), ("jobs/serverless.yaml", "service:\n  name: jobs\nprovider: aws\n"),
            ("node_modules/serverless/serverless.yml", PythonService), ("backend/.serverless/serverless.yml", PythonService));

        var stacks = Plugin().Detect(repo);

        Assert.Equal(["backend", "jobs"], stacks.Select(s => s.Directory));
        Assert.Equal("jobs", stacks[1].Fact("service"));
        Assert.Equal("aws", stacks[1].Fact("provider"));
    }

    [Fact]
    public void The_framework_is_a_tool_installed_once_and_ci_packages_the_service()
    {
        var repo = new MemoryRepository(("serverless.yml", PythonService));
        var plugin = Plugin();

        var plan = plugin.PlanBuild(new BuildPlanContext(repo, Assert.Single(plugin.Detect(repo))));

        var tool = Assert.Single(plan.Tools);
        Assert.Equal(("serverless", "3"), (tool.Name, tool.Version));
        Assert.Equal(["npm install --prefix \"$KAIZEN_TOOL_PREFIX\" --no-audit --no-fund serverless@3"], tool.Install);
        Assert.Equal(["node_modules/.bin"], tool.PathEntries);
        Assert.Contains(plan.Setup, s => s.Contains("SLS_TELEMETRY_DISABLED=1"));
        var job = Assert.Single(plan.Jobs);
        Assert.Equal(("package", "serverless package"), (job.Name, Assert.Single(job.Commands)));
        Assert.Empty(plan.Caches);
    }

    [Fact]
    public void A_service_in_a_sub_folder_is_packaged_there_and_a_yaml_file_is_named()
    {
        var repo = new MemoryRepository(("api/serverless.yaml", PythonService));
        var plugin = Plugin();

        var plan = plugin.PlanBuild(new BuildPlanContext(repo, Assert.Single(plugin.Detect(repo))));

        Assert.Equal(["(cd api && serverless package --config serverless.yaml)"], plan.Jobs[0].Commands);
    }

    [Theory]
    [InlineData(null, "'3'", "3")]
    [InlineData(null, "^2.72.0", "2")]
    [InlineData(null, "", "3")]
    [InlineData("3.38.0", "'2'", "3.38.0")]
    public void The_version_comes_from_the_setting_then_the_service_then_the_default(string? setting, string frameworkVersion, string expected)
    {
        var repo = new MemoryRepository(("serverless.yml", $"service: a\nframeworkVersion: {frameworkVersion}\nprovider:\n  name: aws\n"));
        var plugin = setting is null ? Plugin() : Plugin(("version", setting));

        var tool = Assert.Single(plugin.PlanBuild(new BuildPlanContext(repo, Assert.Single(plugin.Detect(repo)))).Tools);

        Assert.Equal(expected, tool.Version);
        Assert.EndsWith($"serverless@{expected}", tool.Install[0]);
    }

    [Fact]
    public void A_version_setting_that_is_not_a_version_fails_the_plugin_with_a_reason()
    {
        var error = Assert.Throws<ArgumentException>(() => Plugin(("version", "3; rm -rf /")));
        Assert.Contains("version", error.Message);
    }

    [Fact]
    public void Service_plugins_are_installed_from_the_lockfile_with_a_cache_keyed_on_it()
    {
        var repo = new MemoryRepository(("svc/serverless.yml", PythonService + "\nplugins:\n  - serverless-python-requirements\n"),
            ("svc/package.json", "{}"), ("svc/package-lock.json", "{}"));
        var plugin = Plugin();
        var stack = Assert.Single(plugin.Detect(repo));

        var plan = plugin.PlanBuild(new BuildPlanContext(repo, stack));

        Assert.Equal("serverless-python-requirements", stack.Fact("plugins"));
        Assert.Contains("(cd svc && npm ci --no-audit --no-fund)", plan.Setup);
        var cache = Assert.Single(plan.Caches);
        Assert.Equal(["svc/package-lock.json"], cache.KeyFiles);
        Assert.Equal(["svc/node_modules"], cache.Paths);
    }

    [Fact]
    public void A_deploy_targets_the_servers_stage_and_names_the_aws_variables_without_values()
    {
        var repo = new MemoryRepository(("serverless.yml", PythonService));
        var plugin = Plugin();
        var stack = Assert.Single(plugin.Detect(repo));

        var plan = plugin.PlanDeploy(new DeployPlanContext(repo, stack, "staging", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]));

        Assert.Equal("serverless deploy --stage staging", plan.Commands[^1]);
        Assert.Equal(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], plan.RequiredVariables);
        Assert.Equal("serverless", Assert.Single(plan.Tools!).Name);
        Assert.DoesNotContain(plan.Commands, c => c.Contains("AWS_"));
    }

    [Theory]
    [InlineData("production", "production")]
    [InlineData("Production EU", "production-eu")]
    [InlineData("dev/alice", "dev-alice")]
    [InlineData("!!!", "dev")]
    public void A_server_name_becomes_a_valid_stage(string server, string stage) =>
        Assert.Equal(stage, ServerlessPlugin.Stage(server));

    [Theory]
    [InlineData("")]
    [InlineData("::: not yaml [[[\n\t- - -")]
    [InlineData("provider:\n")]
    [InlineData("plugins: [a, 'b', ]\nservice:\n")]
    public void A_malformed_service_file_still_gives_a_plan(string content)
    {
        var repo = new MemoryRepository(("serverless.yml", content));
        var plugin = Plugin();

        var stack = Assert.Single(plugin.Detect(repo));
        var plan = plugin.PlanBuild(new BuildPlanContext(repo, stack));

        Assert.Single(plan.Jobs);
        Assert.NotEmpty(plugin.PlanDeploy(new DeployPlanContext(repo, stack, "dev", [])).Commands);
    }

    [Fact]
    public void A_repository_without_a_service_file_has_no_serverless_stack() =>
        Assert.Empty(Plugin().Detect(new MemoryRepository(("serverless.md", ""), ("package.json", "{}"))));

    [Fact]
    public void Plugin_info_is_filled_in()
    {
        var info = Plugin().Info;

        Assert.Equal("serverless", info.Id);
        Assert.All(new[] { info.Name, info.Version, info.Author, info.Description }, v => Assert.False(string.IsNullOrWhiteSpace(v)));
    }
    [Fact]
    public void A_package_json_pinning_another_major_of_the_framework_is_a_note_and_the_same_major_is_not()
    {
        var plugin = Plugin();
        BuildPlan PlanOf(string packageJson)
        {
            var repo = new MemoryRepository(("serverless.yml", PythonService), ("package.json", packageJson));
            return plugin.PlanBuild(new BuildPlanContext(repo, Assert.Single(plugin.Detect(repo))));
        }

        var old = PlanOf("""{ "devDependencies": { "serverless": "1.26.1", "serverless-python-requirements": "^6" } }""");
        var same = PlanOf("""{ "devDependencies": { "serverless": "^3.38.0" } }""");
        var broken = PlanOf("{ not json");

        Assert.Equal("package.json pins serverless 1.26.1: after the install, `serverless` runs that copy instead of the serverless 3 " +
                     "this plugin installs. Remove it from package.json, or set the plugin's version to match it.", Assert.Single(old.Notes!));
        Assert.Empty(same.Notes!);
        Assert.Empty(broken.Notes!);
    }

    [Fact]
    public void A_service_owns_the_deploy_of_its_folder_and_its_install_is_stored_right_after_it()
    {
        var repo = new MemoryRepository(("serverless.yml", "service: s\nprovider: aws\nplugins:\n  - serverless-offline\n"),
            ("package.json", "{}"), ("yarn.lock", ""));
        var plugin = Plugin();
        var stack = Assert.Single(plugin.Detect(repo));

        var plan = plugin.PlanBuild(new BuildPlanContext(repo, stack));

        Assert.Equal("true", stack.Fact("ownsDeploy"));
        Assert.True(Assert.Single(plan.Caches).StoreAfterSetup);
    }
}
