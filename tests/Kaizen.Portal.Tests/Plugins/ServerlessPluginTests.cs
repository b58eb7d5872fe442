using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// The Serverless plugin with the real Framework: serverless@3 is installed from the npm registry by the runner's
/// `kaizen tool use` (once per runner), then `serverless package` packages a small Python service offline.
/// </summary>
public sealed class ServerlessPluginTests : IAsyncLifetime
{
    private const string Install = "apt-get install -y nodejs npm (and access to the npm registry)";

    private const string ServerlessYml = """
        service: hello-py
        frameworkVersion: '3'

        provider:
          name: aws
          runtime: python3.11
          region: eu-west-1

        functions:
          hello:
            handler: handler.hello
        """;

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 2);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("A Python service on AWS Lambda",
            ("serverless.yml", ServerlessYml),
            ("handler.py", "def hello(event, context):\n    return {\"statusCode\": 200, \"body\": \"hello\"}\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task The_framework_is_installed_once_per_runner_and_reused_by_the_next_build_which_packages_the_service()
    {
        Toolchain.Require(Install, "node", "npm");
        var slug = await GradlePluginTests.CreateProjectAsync(_portal, _repo, "Hello Service");

        var stacks = await _portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");
        var applied = await _portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null);
        var first = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 480);
        var second = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 240);

        var serverless = Assert.Single(stacks!);
        Assert.Equal(("serverless", "Serverless service 'hello-py' on aws (python3.11)"), (serverless.PluginId, serverless.Summary));
        var tool = Assert.Single(serverless.Tools);
        Assert.Equal(("serverless", "3", "node_modules/.bin"), (tool.Name, tool.Version, Assert.Single(tool.PathEntries)));
        var job = Assert.Single(serverless.Jobs);
        Assert.Equal("serverless: package", job.Name);
        Assert.Equal(
        [
            "kaizen tool use serverless 3 --path node_modules/.bin -- 'npm install --prefix \"$KAIZEN_TOOL_PREFIX\" --no-audit --no-fund serverless@3'",
            "export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off",
            "serverless package",
        ], job.Commands);
        applied.EnsureSuccessStatusCode();
        Assert.True(first.Status == Status.Passed, await _portal.DescribeAsync(first));
        Assert.True(second.Status == Status.Passed, await _portal.DescribeAsync(second));

        var firstLog = await _portal.LogAsync(Assert.Single(first.Jobs).Id);
        var secondLog = await _portal.LogAsync(Assert.Single(second.Jobs).Id);
        Assert.Contains("tool: installing serverless 3 into ", firstLog);
        Assert.Contains("tool: installed serverless 3 in ", firstLog);
        Assert.Contains("Service packaged", firstLog);
        Assert.Contains("tool: serverless 3 already installed, reusing it", secondLog);
        Assert.DoesNotContain("tool: installing", secondLog);
        Assert.Contains("Service packaged", secondLog);
        // The Framework came from the runner's tool folder, not from a global install.
        Assert.Contains(Directory.EnumerateDirectories(_portal.DataDirectory, "serverless", SearchOption.AllDirectories),
            d => File.Exists(Path.Combine(d, "3", ".kaizen-installed")));
    }
}
