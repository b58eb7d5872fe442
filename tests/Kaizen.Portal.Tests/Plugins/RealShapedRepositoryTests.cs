using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// Stack suggestions applied as they are to small repositories shaped like real ones, built twice on the real
/// toolchains: the applied settings must pass, and the second build must restore what the first stored.
/// </summary>
public sealed class RealShapedRepositoryTests : IAsyncLifetime
{
    private GitRepo _repo = null!;

    public async Task InitializeAsync() => _repo = await GitRepo.CreateAsync("main");

    public Task DisposeAsync()
    {
        _repo.Dispose();
        return Task.CompletedTask;
    }

    [SkippableFact]
    public async Task Parallel_yarn_jobs_on_a_runner_without_a_sandbox_share_its_yarn_cache_and_both_pass_twice()
    {
        Toolchain.Require("apt-get install -y nodejs npm && npm install -g yarn", "node", "npm", "yarn");
        // Without a sandbox both jobs share the runner's home, and so yarn's global cache: the setting that broke it.
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 2, embeddedSandbox: RunnerSandbox.None);
        await CommitYarnProjectAsync(test: "node test.js");
        var slug = await ApplyAsync(portal, "Yarn Lib");

        var first = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 300);
        var second = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 300);

        Assert.Equal(["node: lint", "node: test"], first.Jobs.Select(j => j.Name).Order(StringComparer.Ordinal));
        Assert.True(first.Status == Status.Passed, await portal.DescribeAsync(first));
        Assert.True(second.Status == Status.Passed, await portal.DescribeAsync(second));
        // Both jobs of the first build really ran at once.
        Assert.True(first.Jobs.Max(j => j.StartedAt) < first.Jobs.Min(j => j.FinishedAt), "the two jobs overlapped");
        foreach (var job in second.Jobs)
            Assert.Contains("cache: restored node-node_modules-", await portal.LogAsync(job.Id));
    }

    [SkippableFact]
    public async Task A_job_whose_tests_fail_still_stores_its_install_so_the_next_build_restores_it()
    {
        Toolchain.Require("apt-get install -y nodejs npm && npm install -g yarn", "node", "npm", "yarn");
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 2);
        await CommitYarnProjectAsync(test: "node -e 'process.exit(1)'");
        var slug = await ApplyAsync(portal, "Failing Lib");

        var first = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 300);
        var second = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 300);

        var failedJob = Assert.Single(first.Jobs, j => j.Name == "node: test");
        Assert.Equal(Status.Failed, failedJob.Status);
        var firstLog = await portal.LogAsync(failedJob.Id);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(firstLog, @"cache: (stored node-node_modules-|node-node_modules-\S+ (already stored|was stored meanwhile))"), firstLog);
        var secondLog = await portal.LogAsync(Assert.Single(second.Jobs, j => j.Name == "node: test").Id);
        Assert.Contains("cache: restored node-node_modules-", secondLog);
    }

    [SkippableFact]
    public async Task A_python_project_with_requirements_the_machine_has_installs_offline_and_restores_its_virtualenv()
    {
        Toolchain.Require("apt-get install -y python3-venv python3-pytest", "/usr/bin/python3", "/usr/lib/python3/dist-packages/pytest");
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        await _repo.CommitAsync("A small library",
            (".gitignore", ".venv/\n.cache/\n"),
            ("requirements.txt", "pytest\n"),
            ("calc.py", "def add(a, b):\n    return a + b\n"),
            ("tests/test_calc.py", "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"),
            ("tests/conftest.py", "import sys, os\nsys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))\n"));
        var slug = await ApplyAsync(portal, "Calc Lib");
        var stacks = await portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");

        // The index is never reached: pip would fail (not hang for 40 s) if it tried.
        (await portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/variables/PIP_INDEX_URL", new { value = "http://127.0.0.1:9/simple" }))
            .EnsureSuccessStatusCode();
        var first = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 300);
        var second = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 300);

        var python = Assert.Single(stacks!, s => s.PluginId == "python");
        Assert.Contains(python.Notes, n => n.StartsWith("pytest: installed without the package index", StringComparison.Ordinal));
        Assert.True(first.Status == Status.Passed, await portal.DescribeAsync(first));
        Assert.True(second.Status == Status.Passed, await portal.DescribeAsync(second));
        Assert.Contains("1 passed", await portal.LogAsync(first.Jobs[0].Id));
        var secondLog = await portal.LogAsync(second.Jobs[0].Id);
        Assert.Contains("cache: restored python-venv-", secondLog);
    }

    [SkippableFact]
    public async Task A_serverless_service_with_its_own_package_json_is_one_install_one_cache_and_deploys_only_with_serverless()
    {
        Toolchain.Require("apt-get install -y nodejs npm && npm install -g yarn (and access to the npm registry)", "node", "npm", "yarn");
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 2);
        await CommitYarnProjectAsync(test: "node test.js", serverless: true);
        var slug = await ApplyAsync(portal, "Api Service");

        var stacks = await portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");
        var deploys = await portal.Api.GetFromJsonAsync<List<DeploySuggestionResponse>>($"/api/v1/projects/{slug}/deploy-suggestions?server=production");
        var first = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 480);
        var second = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 300);

        Assert.Equal(["node:", "serverless:"], stacks!.Select(s => $"{s.PluginId}:{s.Directory}").Order(StringComparer.Ordinal));
        Assert.Equal(["node-node_modules"], stacks!.SelectMany(s => s.Caches).Select(c => c.Name).Distinct());
        var deploy = Assert.Single(deploys!);
        Assert.Equal("serverless", deploy.PluginId);
        Assert.DoesNotContain(deploy.Commands, c => c.Contains("aws s3 sync", StringComparison.Ordinal));
        Assert.True(first.Status == Status.Passed, await portal.DescribeAsync(first));
        Assert.True(second.Status == Status.Passed, await portal.DescribeAsync(second));
        var package = Assert.Single(second.Jobs, j => j.Name == "serverless: package");
        var packageLog = await portal.LogAsync(package.Id);
        Assert.Contains("cache: restored node-node_modules-", packageLog);
        Assert.Contains("local plugin loaded", await portal.LogAsync(Assert.Single(first.Jobs, j => j.Name == "serverless: package").Id));
    }

    private async Task<string> ApplyAsync(PortalHost portal, string name)
    {
        var created = await portal.Api.PostAsJsonAsync("/api/v1/projects", new { name, gitUrl = _repo.Path });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var slug = (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;
        var applied = await portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null);
        Assert.True(applied.IsSuccessStatusCode, await applied.Content.ReadAsStringAsync());
        return slug;
    }

    /// <summary>A yarn project with a dependency, test and lint scripts, and its yarn.lock made by yarn as a developer would;
    /// with <paramref name="serverless"/> also a Serverless service in the same folder with a local plugin.</summary>
    private async Task CommitYarnProjectAsync(string test, bool serverless = false)
    {
        await File.WriteAllTextAsync(Path.Combine(_repo.Path, "package.json"), $$"""
            { "name": "lib", "version": "1.0.0", "private": true,
              "scripts": { "test": "{{test.Replace("\"", "\\\"", StringComparison.Ordinal)}}", "lint": "node lint.js" },
              "dependencies": { "is-number": "7.0.0" } }
            """);
        var (result, stdout, stderr) = await ProcessRunner.CaptureAsync(
            new ProcessRequest("yarn", ["install", "--non-interactive", "--no-progress"], _repo.Path), CancellationToken.None);
        Assert.True(result.Succeeded, $"yarn install failed ({result.ExitCode}): {stdout}{stderr}{result.StartError}");
        var files = new List<(string, string)>
        {
            (".gitignore", "node_modules/\n.serverless/\n"),
            ("test.js", "require('assert').strictEqual(require('is-number')('7'), true);\nconsole.log('lib ok');\n"),
            ("lint.js", "console.log('lint ok');\n"),
        };
        if (serverless)
        {
            files.Add(("serverless.yml", """
                service: api
                frameworkVersion: '3'
                provider:
                  name: aws
                  runtime: nodejs18.x
                  region: eu-west-1
                plugins:
                  - ./local-plugin
                functions:
                  hello:
                    handler: handler.hello
                """));
            files.Add(("local-plugin.js", "class LocalPlugin { constructor() { console.log('local plugin loaded'); } }\nmodule.exports = LocalPlugin;\n"));
            files.Add(("handler.js", "module.exports.hello = async () => ({ statusCode: 200, body: 'hello' });\n"));
        }
        await _repo.CommitAsync("A library", [.. files]);
    }
}
