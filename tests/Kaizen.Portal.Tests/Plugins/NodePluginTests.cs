using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;
using Xunit.Abstractions;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// The Node plugin on the real toolchain: node, npm and yarn 1 against the npm registry (the one package registry
/// these machines reach). Skipped when the tools are missing, unless KAIZEN_REQUIRE_TOOLCHAINS=1 (CI).
/// </summary>
public sealed class NodePluginTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string PackageJson = """
        {
          "name": "tiny-frontend",
          "version": "1.0.0",
          "private": true,
          "scripts": { "test": "node test.js" },
          "dependencies": { "is-number": "7.0.0" }
        }
        """;

    private const string TestJs = """
        const assert = require("assert");
        const isNumber = require("is-number");
        assert.strictEqual(isNumber("42"), true);
        assert.strictEqual(isNumber("forty-two"), false);
        console.log("tiny-frontend: 2 assertions passed");
        """;

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 2);
        _repo = await GitRepo.CreateAsync("main");
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_yarn_project_in_a_sub_folder_is_installed_tested_and_its_node_modules_restored_on_the_second_build()
    {
        Toolchain.Require("apt-get install -y nodejs npm && npm install -g yarn", "node", "npm", "yarn");
        await CommitFrontendWithLockfileAsync();
        var created = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name = "Tiny Frontend", gitUrl = _repo.Path });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var slug = (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;

        var stacks = await _portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");
        var applied = await _portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null);
        var first = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 240);
        var second = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 240);

        var node = Assert.Single(stacks!, s => s.PluginId == "node");
        Assert.Equal("frontend", node.Directory);
        Assert.Equal(["node (frontend): test"], node.Jobs.Select(j => j.Name));
        Assert.Equal("yarn", Assert.Single(node.Tools).Name);
        applied.EnsureSuccessStatusCode();
        PlanReport.Print(output, stacks!, first, second);
        Assert.True(first.Status == Status.Passed, await _portal.DescribeAsync(first));
        Assert.True(second.Status == Status.Passed, await _portal.DescribeAsync(second));
        var firstLog = await _portal.LogAsync(first.Jobs.Single().Id);
        var secondLog = await _portal.LogAsync(second.Jobs.Single().Id);
        Assert.Contains("tiny-frontend: 2 assertions passed", firstLog);
        Assert.Contains("cache: miss for node-frontend-node_modules-", firstLog);
        Assert.Contains("cache: stored node-frontend-node_modules-", firstLog);
        Assert.Contains("cache: restored node-frontend-node_modules-", secondLog);
        Assert.Contains("tool: yarn 1.22.22 already installed, reusing it", secondLog);
        Assert.Contains("tiny-frontend: 2 assertions passed", secondLog);
    }

    /// <summary>Writes the project into frontend/ and runs yarn once there to make its yarn.lock, as a developer would.</summary>
    private async Task CommitFrontendWithLockfileAsync()
    {
        var frontend = Path.Combine(_repo.Path, "frontend");
        Directory.CreateDirectory(frontend);
        await File.WriteAllTextAsync(Path.Combine(frontend, "package.json"), PackageJson);
        var (result, stdout, stderr) = await ProcessRunner.CaptureAsync(
            new ProcessRequest("yarn", ["install", "--non-interactive", "--no-progress"], frontend), CancellationToken.None);
        Assert.True(result.Succeeded, $"yarn install in the test's repository failed ({result.ExitCode}): {stdout}{stderr}{result.StartError}");
        Assert.True(File.Exists(Path.Combine(frontend, "yarn.lock")), "yarn wrote a yarn.lock");
        await _repo.CommitAsync("A tiny frontend with one dependency",
            (".gitignore", "node_modules/\n"), ("frontend/test.js", TestJs), ("README.md", "# tiny\n"));
    }
}
