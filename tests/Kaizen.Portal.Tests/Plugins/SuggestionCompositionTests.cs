using System.Net.Http.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Plugins;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Kaizen.Sdk;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// Suggestions of several stacks are composed, not stacked: one cache per folder, the deploy of the stack that owns a
/// folder, and caches an install fills stored right after it.
/// </summary>
public sealed class SuggestionCompositionTests
{
    private static readonly DetectedStack Node = new("node", "node", "", "Node");
    private static readonly DetectedStack Service = new("serverless", "serverless", "", "Service",
        new Dictionary<string, string> { ["ownsDeploy"] = "true" });

    [Fact]
    public void A_folder_two_stacks_cache_is_one_cache_under_the_first_name()
    {
        var nodePlan = new BuildPlan([], [new CacheSpec("node-node_modules", ["yarn.lock"], ["node_modules"]) { StoreAfterSetup = true }],
            ["yarn install"], [new JobSpec("test", ["yarn test"])]);
        var servicePlan = new BuildPlan([], [new CacheSpec("serverless-node-modules", ["yarn.lock"], ["./node_modules/"]) { StoreAfterSetup = true }],
            ["yarn install --frozen-lockfile"], [new JobSpec("package", ["serverless package"])]);

        var composed = StackService.Compose(
        [
            new StackSuggestion(Node, "Node", nodePlan, [], null),
            new StackSuggestion(Service, "Serverless", servicePlan, [], null),
        ]);

        Assert.Equal(["node-node_modules"], composed[1].Plan!.Caches.Select(c => c.Name));
        Assert.Contains("cached once, as 'node-node_modules'", Assert.Single(composed[1].Plan!.Notes!));
        var package = Assert.Single(composed[1].Jobs);
        Assert.Equal(
        [
            "kaizen cache restore node-node_modules yarn.lock -- node_modules",
            "yarn install --frozen-lockfile",
            "kaizen cache store node-node_modules yarn.lock -- node_modules",
            "serverless package",
        ], package.Commands);
        Assert.DoesNotContain(composed.SelectMany(s => s.Jobs).SelectMany(j => j.Commands), c => c.Contains("serverless-node-modules", StringComparison.Ordinal));
    }

    [Fact]
    public void Caches_the_job_fills_are_stored_after_its_commands_and_those_the_install_fills_before()
    {
        var plan = new BuildPlan([],
            [
                new CacheSpec("deps", ["lock"], ["deps"]) { StoreAfterSetup = true },
                new CacheSpec("gradle", ["build.gradle"], [".gradle-home/caches"]),
            ],
            ["install"], [new JobSpec("test", ["run tests"])]);

        var job = Assert.Single(StackService.Render(Node, plan));

        Assert.Equal(
        [
            "kaizen cache restore deps lock -- deps",
            "kaizen cache restore gradle build.gradle -- .gradle-home/caches",
            "install",
            "kaizen cache store deps lock -- deps",
            "run tests",
            "kaizen cache store gradle build.gradle -- .gradle-home/caches",
        ], job.Commands);
    }

    [Fact]
    public void A_serverless_service_owns_the_deploy_of_its_folder_and_other_folders_keep_theirs()
    {
        var frontend = Node with { Directory = "frontend" };
        DeploySuggestion Deploy(DetectedStack stack, string command) => new(stack, stack.Stack, [command], [], [], null);

        var kept = StackService.OwnedDeploys(
        [
            Deploy(Node, "aws s3 sync dist s3://bucket"),
            Deploy(Service, "serverless deploy --stage production"),
            Deploy(frontend, "aws s3 sync frontend/dist s3://site"),
        ]);

        Assert.Equal(["serverless deploy --stage production", "aws s3 sync frontend/dist s3://site"], kept.Select(d => d.Commands.Single()));
    }
    [Fact]
    public async Task Suggestions_applied_to_settings_with_blocks_become_a_block_of_their_own_once()
    {
        using var repo = await GitRepo.CreateAsync("main");
        await repo.CommitAsync("A tox project", ("tox.ini", "[tox]\nenvlist = py3\n[testenv]\ncommands = pytest\n"));
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Blocks App", repo.Path, new
        {
            setup = Array.Empty<string>(),
            blocks = new[] { new { name = "lint", jobs = new[] { new { name = "check", commands = new[] { "true" } } } } },
        });

        (await portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null)).EnsureSuccessStatusCode();
        (await portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null)).EnsureSuccessStatusCode();

        var settings = (await portal.Api.GetFromJsonAsync<BuildSettings>($"/api/v1/projects/{slug}/settings"))!;
        Assert.Equal(["lint", "suggested"], settings.Blocks!.Select(b => b.Name));
        Assert.Equal(["python: py3"], settings.Blocks![1].Jobs.Select(j => j.Name));
        Assert.Equal([], settings.Blocks![1].Dependencies!);
    }
}
