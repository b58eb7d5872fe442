using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;
using Xunit.Abstractions;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// The Python plugin on the real toolchain: Debian's tox, pytest and flake8, offline (tox environments use the system
/// python3 with its site-packages and install nothing). Skipped when the tools are missing, unless
/// KAIZEN_REQUIRE_TOOLCHAINS=1 (CI), where that fails the test.
/// </summary>
public sealed class PythonPluginTests(ITestOutputHelper output) : IAsyncLifetime
{
    // A CLI library tested in two tox environments at once; brace expansion gives py3-unit and py3-cli.
    private const string ToxIni = """
        [tox]
        envlist = py3-{unit,cli}
        skipsdist = true

        [testenv]
        basepython = /usr/bin/python3
        sitepackages = true
        skip_install = true
        setenv = PYTHONPATH = {toxinidir}
        commands =
            unit: python -m pytest {posargs} tests/unit
            cli: python -m pytest {posargs} tests/cli

        [flake8]
        max-line-length = 120
        """;

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 3);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("A tiny CLI with two test suites",
            ("tox.ini", ToxIni),
            ("requirements.txt", "# nothing beyond the standard library\n"),
            ("greet/__init__.py", "def greeting(name):\n    return f\"hello {name}\"\n"),
            ("greet/__main__.py", "import sys\n\nfrom greet import greeting\n\nprint(greeting(sys.argv[1] if len(sys.argv) > 1 else \"world\"))\n"),
            ("tests/unit/test_greeting.py", "from greet import greeting\n\n\ndef test_greets_by_name():\n    assert greeting(\"ada\") == \"hello ada\"\n"),
            ("tests/cli/test_main.py",
                "import subprocess\nimport sys\n\n\ndef test_prints_a_greeting():\n" +
                "    out = subprocess.run([sys.executable, \"-m\", \"greet\", \"bob\"], capture_output=True, text=True, check=True)\n" +
                "    assert out.stdout == \"hello bob\\n\"\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task Two_tox_environments_run_as_parallel_jobs_and_a_second_build_restores_their_caches()
    {
        Toolchain.Require("apt-get install -y tox python3-pytest flake8 python3-venv", "tox", "flake8", "/usr/bin/python3");
        var slug = await CreateProjectAsync("Greet CLI");

        var stacks = await _portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");
        var applied = await _portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null);
        var first = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 240);
        var second = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 240);

        var python = Assert.Single(stacks!, s => s.PluginId == "python");
        Assert.Equal("Python: tox environments py3-unit, py3-cli; flake8", python.Summary);
        applied.EnsureSuccessStatusCode();
        PlanReport.Print(output, stacks!, first, second);
        Assert.Equal(["python: py3-unit", "python: py3-cli", "python: flake8"], python.Jobs.Select(j => j.Name));
        Assert.True(first.Status == Status.Passed, await _portal.DescribeAsync(first));
        Assert.True(second.Status == Status.Passed, await _portal.DescribeAsync(second));

        var unit = first.Jobs.Single(j => j.Name == "python: py3-unit");
        var cli = first.Jobs.Single(j => j.Name == "python: py3-cli");
        Assert.True(Later(unit.StartedAt, cli.StartedAt) < Earlier(unit.FinishedAt, cli.FinishedAt),
            $"both tox environments were running at the same moment: {unit.StartedAt:O}–{unit.FinishedAt:O} and {cli.StartedAt:O}–{cli.FinishedAt:O}");

        foreach (var name in new[] { "python: py3-unit", "python: py3-cli" })
        {
            var env = name["python: ".Length..];
            var firstLog = await _portal.LogAsync(first.Jobs.Single(j => j.Name == name).Id);
            var secondLog = await _portal.LogAsync(second.Jobs.Single(j => j.Name == name).Id);
            Assert.Contains($"cache: miss for python-tox-{env}-", firstLog);
            Assert.Contains($"cache: stored python-tox-{env}-", firstLog);
            Assert.Contains("1 passed", firstLog);
            Assert.Contains($"cache: restored python-tox-{env}-", secondLog);
            Assert.Contains("generated xml file: ", secondLog);
            Assert.DoesNotContain($"{env} create:", secondLog); // the restored virtualenv is reused, not rebuilt
        }
    }

    private async Task<string> CreateProjectAsync(string name)
    {
        // No settings of our own: "apply" fills them with the plugin's suggestions.
        var created = await _portal.Api.PostAsJsonAsync("/api/v1/projects", new { name, gitUrl = _repo.Path });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<CreatedProjectResponse>())!.Slug;
    }

    private static DateTimeOffset Later(DateTimeOffset? a, DateTimeOffset? b) => a!.Value > b!.Value ? a.Value : b.Value;

    private static DateTimeOffset Earlier(DateTimeOffset? a, DateTimeOffset? b) => a!.Value < b!.Value ? a.Value : b.Value;
}
