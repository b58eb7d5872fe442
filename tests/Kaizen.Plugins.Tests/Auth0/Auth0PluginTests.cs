using Kaizen.Plugins.Auth0;
using Kaizen.Plugins.Tests.Support;
using Kaizen.Sdk;

namespace Kaizen.Plugins.Tests.Auth0;

public sealed class Auth0PluginTests
{
    private const string PatchClient = """
        #!/usr/bin/env bash
        set -euo pipefail
        curl -fsS -X PATCH "$AUTH0_BASE_URL/api/v2/clients/$CLIENT_ID" -H "Authorization: Bearer $AUTH0_TOKEN" -d @client.json | jq .name
        """;

    private static readonly Auth0Plugin Plugin = new();

    private static MemoryRepository TenantRepository() => new(
        ("tenant/10-clients.sh", PatchClient),
        ("tenant/_common.sh", "log() { echo \"$*\"; }\n"),
        ("tenant/dev/20-connections.sh", "curl -s \"$AUTH0_BASE_URL/api/v2/connections\"\n"),
        ("tenant/prod/20-connections.sh", "if ! curl -s \"$AUTH0_BASE_URL/api/v2/connections\"; then exit 1; fi\n"),
        ("tenant/prod/30-rules.sh", "echo rules\n"),
        ("tools/build.sh", "make all\n"));

    [Fact]
    public void A_folder_of_scripts_calling_the_management_api_is_a_stack_with_its_environment_folders()
    {
        var stack = Assert.Single(Plugin.Detect(TenantRepository()));

        Assert.Equal(("auth0", "auth0", "tenant"), (stack.PluginId, stack.Stack, stack.Directory));
        Assert.Equal("dev,prod", stack.Fact("environments"));
        Assert.Equal("tenant/10-clients.sh", stack.Fact("common"));
        Assert.Contains("environments: dev, prod", stack.Summary);
    }

    [Fact]
    public void A_folder_named_for_auth0_is_a_stack_whatever_its_scripts_contain()
    {
        var stack = Assert.Single(Plugin.Detect(new MemoryRepository(("infra/auth0-tenant/apply.sh", "echo hi\n"), ("infra/deploy.sh", "echo x\n"))));

        Assert.Equal("infra/auth0-tenant", stack.Directory);
    }

    [Fact]
    public void Environment_folders_without_common_scripts_gather_under_their_parent()
    {
        var repo = new MemoryRepository(("scripts/dev/a.sh", "curl \"https://$AUTH0_DOMAIN/oauth/token\"\n"),
            ("scripts/staging/a.sh", "curl \"$AUTH0_BASE_URL/api/v2/users\"\n"));

        var stack = Assert.Single(Plugin.Detect(repo));

        Assert.Equal(("scripts", "dev,staging", ""), (stack.Directory, stack.Fact("environments"), stack.Fact("common")));
    }

    [Fact]
    public void Scripts_at_the_root_make_a_root_stack()
    {
        var stack = Assert.Single(Plugin.Detect(new MemoryRepository(("update.sh", PatchClient), ("README.md", ""))));

        Assert.Equal("", stack.Directory);
        Assert.Equal("update.sh", stack.Fact("common"));
    }

    [Theory]
    [InlineData("deploy.sh", "curl -fsS https://example.com/health\n")] // curl, but no Auth0 endpoint
    [InlineData("deploy.sh", "# see /api/v2/ docs\necho no curl here\n")] // an endpoint, but no curl
    [InlineData("notes.txt", PatchClient)] // not a shell script
    [InlineData("node_modules/auth0/x.sh", PatchClient)]
    public void Other_scripts_are_not_tenant_scripts(string path, string content) =>
        Assert.Empty(Plugin.Detect(new MemoryRepository((path, content), ("README.md", ""))));

    [Fact]
    public void Unreadable_scripts_do_not_crash_detection()
    {
        var repo = new MemoryRepository(new Dictionary<string, string>());
        Assert.Empty(Plugin.Detect(repo));
        Assert.Empty(Plugin.Detect(new MemoryRepository(("x.sh", "\0\u0001binary"), ("auth0", "a file, not a folder"))));
    }

    [Fact]
    public void Ci_checks_the_syntax_of_every_script_and_runs_shellcheck_when_installed()
    {
        var repo = TenantRepository();
        var stack = Assert.Single(Plugin.Detect(repo));

        var plan = Plugin.PlanBuild(new BuildPlanContext(repo, stack));

        var job = Assert.Single(plan.Jobs);
        Assert.Equal("check", job.Name);
        Assert.Equal("find tenant -name '*.sh' -not -path '*/node_modules/*' -print0 | xargs -0 -r -n 1 bash -n", job.Commands[0]);
        Assert.Contains("shellcheck --severity=warning", job.Commands[1]);
        Assert.Empty(plan.Tools);
    }

    [Fact]
    public void A_deploy_gets_a_token_then_runs_the_common_and_the_servers_scripts_in_order()
    {
        var repo = TenantRepository();
        var stack = Assert.Single(Plugin.Detect(repo));

        var plan = Plugin.PlanDeploy(new DeployPlanContext(repo, stack, "prod", ["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"]));

        Assert.Equal(["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"], plan.RequiredVariables);
        Assert.Contains(plan.Commands, c => c.Contains("export AUTH0_ENV=prod AUTH0_BASE_URL=\"${AUTH0_BASE_URL:-https://$AUTH0_DOMAIN}\""));
        var token = Assert.Single(plan.Commands, c => c.StartsWith("AUTH0_TOKEN=", StringComparison.Ordinal));
        Assert.Contains("\"$AUTH0_BASE_URL/oauth/token\"", token);
        Assert.Contains("--data-binary @-", token); // the secret never sits on curl's command line
        Assert.Equal(["(cd tenant && bash 10-clients.sh)", "(cd tenant && bash prod/20-connections.sh)", "(cd tenant && bash prod/30-rules.sh)"],
            plan.Commands.Where(c => c.Contains("&& bash ")));
    }

    [Fact]
    public void A_server_without_its_own_folder_runs_the_common_scripts_and_says_so()
    {
        var repo = TenantRepository();
        var stack = Assert.Single(Plugin.Detect(repo));

        var plan = Plugin.PlanDeploy(new DeployPlanContext(repo, stack, "qa", []));

        Assert.Contains("echo 'auth0: no tenant/qa folder; running the common scripts only'", plan.Commands);
        Assert.Equal(["(cd tenant && bash 10-clients.sh)"], plan.Commands.Where(c => c.Contains("&& bash ")));
    }

    [Fact]
    public void Deploy_commands_refer_to_variables_by_name_only()
    {
        var repo = TenantRepository();
        var stack = Assert.Single(Plugin.Detect(repo));

        var plan = Plugin.PlanDeploy(new DeployPlanContext(repo, stack, "dev", ["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"]));

        // No assignment of any credential: only references such as "$AUTH0_CLIENT_SECRET".
        Assert.DoesNotContain(plan.Commands, c => c.Contains("AUTH0_CLIENT_SECRET=") || c.Contains("AUTH0_CLIENT_ID=") || c.Contains("AUTH0_DOMAIN="));
        Assert.Contains(plan.Commands, c => c.Contains("$AUTH0_CLIENT_SECRET"));
    }

    [Fact]
    public void Plugin_info_is_filled_in_and_states_the_detection_rules()
    {
        var info = Plugin.Info;

        Assert.Equal("auth0", info.Id);
        Assert.All(new[] { info.Name, info.Version, info.Author }, v => Assert.False(string.IsNullOrWhiteSpace(v)));
        Assert.Contains("/oauth/token", info.Description);
        Assert.Contains("AUTH0_CLIENT_SECRET", info.Description);
    }
}
