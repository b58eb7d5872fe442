using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// One repository holding a Python service deployed with the Serverless Framework and a yarn frontend: three
/// stacks, and a build of the suggested jobs that really runs tox, yarn and `serverless package`.
/// </summary>
public sealed class PolyglotRepositoryTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 4);
        _repo = await GitRepo.CreateAsync("main");
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task A_python_service_with_serverless_and_a_yarn_frontend_is_three_stacks_whose_jobs_all_pass()
    {
        Toolchain.Require("apt-get install -y tox python3-pytest nodejs npm && npm install -g yarn", "tox", "node", "npm", "yarn", "/usr/bin/python3");
        await CommitRepositoryAsync();
        var created = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name = "Polyglot", gitUrl = _repo.Path });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var slug = (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;

        var stacks = await _portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");
        (await _portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null)).EnsureSuccessStatusCode();
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 420);

        Assert.Equal(["node:frontend", "python:", "serverless:"],
            stacks!.Select(s => $"{s.PluginId}:{s.Directory}").Order(StringComparer.Ordinal));
        Assert.Contains(build.Jobs, j => j.Name.StartsWith("python", StringComparison.Ordinal));
        Assert.Contains(build.Jobs, j => j.Name.StartsWith("node (frontend)", StringComparison.Ordinal));
        Assert.Contains(build.Jobs, j => j.Name.StartsWith("serverless", StringComparison.Ordinal));
        var failures = build.Jobs.Where(j => j.Status != Status.Passed).Select(j => $"{j.Name}: {j.Status} {j.Error}");
        Assert.True(build.Status == Status.Passed, "every suggested job passes: " + string.Join("; ", failures));
        var serverless = build.Jobs.First(j => j.Name.StartsWith("serverless", StringComparison.Ordinal));
        Assert.Contains("serverless package", string.Join("\n", serverless.Commands.Select(c => c.Text)));
    }

    private async Task CommitRepositoryAsync()
    {
        var frontend = Path.Combine(_repo.Path, "frontend");
        Directory.CreateDirectory(frontend);
        await File.WriteAllTextAsync(Path.Combine(frontend, "package.json"), """
            { "name": "web", "version": "1.0.0", "private": true,
              "scripts": { "test": "node test.js" }, "dependencies": { "is-number": "7.0.0" } }
            """);
        var (result, stdout, stderr) = await ProcessRunner.CaptureAsync(
            new ProcessRequest("yarn", ["install", "--non-interactive", "--no-progress"], frontend), CancellationToken.None);
        Assert.True(result.Succeeded, $"yarn install failed ({result.ExitCode}): {stdout}{stderr}{result.StartError}");

        await _repo.CommitAsync("Service, tests and frontend",
            (".gitignore", "node_modules/\n.serverless/\n"),
            ("tox.ini", """
                [tox]
                envlist = py3
                skipsdist = true

                [testenv]
                basepython = /usr/bin/python3
                sitepackages = true
                skip_install = true
                setenv = PYTHONPATH = {toxinidir}
                commands = python -m pytest {posargs} tests
                """),
            ("handler.py", "def hello(event, context):\n    return {\"statusCode\": 200, \"body\": \"hello\"}\n"),
            ("tests/test_handler.py", "from handler import hello\n\n\ndef test_says_hello():\n    assert hello({}, None)[\"body\"] == \"hello\"\n"),
            ("serverless.yml", """
                service: polyglot
                frameworkVersion: '3'

                provider:
                  name: aws
                  runtime: python3.11
                  region: eu-west-1

                functions:
                  hello:
                    handler: handler.hello
                """),
            ("frontend/test.js", "require('assert').strictEqual(require('is-number')('7'), true);\nconsole.log('web ok');\n"));
    }
}
