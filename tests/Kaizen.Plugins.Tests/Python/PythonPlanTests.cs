using Kaizen.Plugins.Python;
using Kaizen.Plugins.Tests.Support;
using Kaizen.Sdk;

namespace Kaizen.Plugins.Tests.Python;

public sealed class PythonPlanTests
{
    private const string CliToxIni = """
        [tox]
        envlist = py27, py36
        skipsdist = true

        [testenv]
        deps = -rrequirements.txt
        commands = pytest {posargs}

        [testenv:flake8]
        commands = flake8 cli
        """;

    private readonly PythonPlugin _plugin = new();

    private (DetectedStack Stack, BuildPlan Plan) Plan(MemoryRepository repository)
    {
        var stack = Assert.Single(_plugin.Detect(repository));
        return (stack, _plugin.PlanBuild(new BuildPlanContext(repository, stack)));
    }

    [Fact]
    public void Each_tox_environment_is_its_own_parallel_job_with_its_own_tox_cache_and_report()
    {
        var (_, plan) = Plan(new MemoryRepository(("tox.ini", CliToxIni), ("requirements.txt", "click\n"), ("setup.py", "")));

        Assert.Equal(["py27", "py36", "flake8"], plan.Jobs.Select(j => j.Name));
        var py27 = plan.Jobs[0];
        Assert.Equal(
            [
                "kaizen cache restore python-tox-py27 requirements.txt setup.py tox.ini -- .tox/py27",
                "tox -e py27 -- --junitxml=\"$PWD/test-reports/py27.xml\"",
                "kaizen cache store python-tox-py27 requirements.txt setup.py tox.ini -- .tox/py27",
            ],
            py27.Commands);
        Assert.Equal(["test-reports/py27.xml"], py27.TestReports);
        Assert.Equal("tox -e flake8", plan.Jobs[2].Commands[1]);
        Assert.Null(plan.Jobs[2].TestReports);
    }

    [Fact]
    public void The_pip_cache_is_keyed_on_the_requirement_files_and_handed_to_tox()
    {
        var (_, plan) = Plan(new MemoryRepository(
            ("tox.ini", CliToxIni), ("requirements.txt", ""), ("requirements-dev.txt", ""), ("requirements/docs.txt", ""), ("pyproject.toml", "[project]\n")));

        var pip = Assert.Single(plan.Caches);
        Assert.Equal("python-pip", pip.Name);
        Assert.Equal(["requirements-dev.txt", "requirements.txt", "requirements/docs.txt", "pyproject.toml", "tox.ini"], pip.KeyFiles);
        Assert.Equal([".cache/pip"], pip.Paths);
        Assert.Contains("PIP_CACHE_DIR=\"$PWD/.cache/pip\"", Assert.Single(plan.Setup));
        Assert.Contains("TOX_TESTENV_PASSENV", plan.Setup[0]);
    }

    [Fact]
    public void A_flake8_config_without_a_tox_environment_adds_a_flake8_job()
    {
        var (_, plan) = Plan(new MemoryRepository(("tox.ini", "[tox]\nenvlist = py36\n"), (".flake8", "[flake8]\n")));

        Assert.Equal(["py36", "flake8"], plan.Jobs.Select(j => j.Name));
        Assert.StartsWith("flake8 ", Assert.Single(plan.Jobs[1].Commands));
    }

    [Fact]
    public void A_project_in_a_sub_folder_runs_there_and_caches_under_it()
    {
        var (stack, plan) = Plan(new MemoryRepository(("cli/tox.ini", "[tox]\nenvlist = py36\n[testenv]\ncommands = pytest {posargs}\n")));

        Assert.Equal("cli", stack.Directory);
        var job = Assert.Single(plan.Jobs);
        Assert.Equal("kaizen cache restore python-cli-tox-py36 cli/tox.ini -- cli/.tox/py36", job.Commands[0]);
        Assert.Equal("(cd cli && tox -e py36 -- --junitxml=\"$PWD/test-reports/py36.xml\")", job.Commands[1]);
        Assert.Equal(["cli/test-reports/py36.xml"], job.TestReports);
        Assert.Equal("python-cli-pip", plan.Caches[0].Name);
    }

    [Fact]
    public void A_tox_ini_without_an_envlist_runs_plain_tox()
    {
        var (_, plan) = Plan(new MemoryRepository(("tox.ini", "[testenv]\ncommands = pytest\n")));

        Assert.Equal("tox", Assert.Single(Assert.Single(plan.Jobs).Commands));
    }

    [Fact]
    public void Without_tox_requirements_go_into_a_cached_virtualenv_and_pytest_writes_a_report()
    {
        var (_, plan) = Plan(new MemoryRepository(
            ("requirements.txt", "requests\n"), ("requirements-dev.txt", "pytest\n"), ("tests/test_app.py", "def test(): pass\n"), ("setup.cfg", "[flake8]\n")));

        Assert.Equal(
            [
                "python3 -m venv --system-site-packages .venv",
                "export VIRTUAL_ENV=\"$PWD/.venv\" PATH=\"$PWD/.venv/bin:$PATH\" PIP_CACHE_DIR=\"$PWD/.cache/pip\" PIP_WHEEL_DIR=\"$PWD/.cache/wheels\"",
                "python -m pip install --no-index --find-links \"$PIP_WHEEL_DIR\" -r requirements-dev.txt -r requirements.txt || " +
                "{ python -m pip wheel -r requirements-dev.txt -r requirements.txt && " +
                "python -m pip install --no-index --find-links \"$PIP_WHEEL_DIR\" -r requirements-dev.txt -r requirements.txt; }",
            ],
            plan.Setup);
        // The stacks panel says which requirements may need the index.
        Assert.StartsWith("pytest, requests: installed without the package index when the runner's system Python", Assert.Single(plan.Notes!));
        Assert.Equal(["pytest", "flake8"], plan.Jobs.Select(j => j.Name));
        Assert.Equal("python -m pytest --junitxml=\"$PWD/test-reports/pytest.xml\"", Assert.Single(plan.Jobs[0].Commands));
        Assert.Equal(["test-reports/pytest.xml"], plan.Jobs[0].TestReports);
        Assert.Null(plan.Jobs[0].Coverage);
        Assert.Equal([("python-venv", ".venv"), ("python-pip", ".cache/pip,.cache/wheels")], plan.Caches.Select(c => (c.Name, string.Join(',', c.Paths))));
        Assert.All(plan.Caches, c => Assert.Equal(["requirements-dev.txt", "requirements.txt", "setup.cfg"], c.KeyFiles));
    }

    [Theory]
    [InlineData("requirements-dev.txt", "pytest\npytest-cov==4.1\n")]
    [InlineData("pyproject.toml", "[project]\nname = \"app\"\n[project.optional-dependencies]\ntest = [\"pytest\", \"pytest-cov\"]\n")]
    public void With_pytest_cov_declared_pytest_also_writes_a_coverage_report(string file, string content)
    {
        var (_, plan) = Plan(new MemoryRepository((file, content), ("tests/test_app.py", "def test(): pass\n")));

        var pytest = Assert.Single(plan.Jobs, j => j.Name == "pytest");
        Assert.Equal(
            "python -m pytest --junitxml=\"$PWD/test-reports/pytest.xml\" --cov --cov-report=term --cov-report=\"xml:$PWD/test-reports/coverage.xml\"",
            Assert.Single(pytest.Commands));
        Assert.Equal(["test-reports/coverage.xml"], pytest.Coverage);
    }

    [Fact]
    public void Settings_choose_the_interpreter_system_packages_and_extra_tox_arguments()
    {
        _plugin.Configure(new PluginSettings(new Dictionary<string, string>
        {
            ["python"] = "/usr/bin/python3", ["systemSitePackages"] = "false", ["toxArgs"] = "--sitepackages",
        }));

        var (_, venv) = Plan(new MemoryRepository(("setup.py", ""), ("test_x.py", "")));
        var (_, tox) = Plan(new MemoryRepository(("tox.ini", "[tox]\nenvlist = py3\n")));

        Assert.Equal("/usr/bin/python3 -m venv .venv", venv.Setup[0]);
        Assert.Equal("python -m pip install --no-index --no-build-isolation -e . || python -m pip install -e .", venv.Setup[^1]);
        Assert.Equal("tox --sitepackages -e py3", tox.Jobs[0].Commands[1]);
    }

    [Fact]
    public void Publishing_builds_the_package_and_names_the_token_variable_without_a_value()
    {
        var repository = new MemoryRepository(("pyproject.toml", "[build-system]\nrequires = [\"setuptools\"]\n"));
        var stack = Assert.Single(_plugin.Detect(repository));

        var byDefault = _plugin.PlanDeploy(new DeployPlanContext(repository, stack, "production", []));
        var twine = _plugin.PlanDeploy(new DeployPlanContext(repository, stack, "production", ["TWINE_PASSWORD", "TWINE_USERNAME"]));

        Assert.Equal(["PYPI_TOKEN"], byDefault.RequiredVariables);
        Assert.Contains(byDefault.Commands, c => c.Contains("-m build --sdist --wheel", StringComparison.Ordinal));
        Assert.Contains("TWINE_USERNAME=__token__ TWINE_PASSWORD=\"$PYPI_TOKEN\" .kaizen-publish/bin/python -m twine upload --non-interactive dist/*", byDefault.Commands);
        Assert.Equal(["TWINE_PASSWORD"], twine.RequiredVariables);
        Assert.Equal(".kaizen-publish/bin/python -m twine upload --non-interactive dist/*", twine.Commands[^1]);
        Assert.All(byDefault.Commands.Concat(twine.Commands), c => Assert.DoesNotContain("pypi-", c, StringComparison.Ordinal));
    }

    [Fact]
    public void A_project_without_package_metadata_has_nothing_to_publish()
    {
        var repository = new MemoryRepository(("requirements.txt", ""));
        var stack = Assert.Single(_plugin.Detect(repository));

        var plan = _plugin.PlanDeploy(new DeployPlanContext(repository, stack, "production", ["PYPI_TOKEN"]));

        Assert.Empty(plan.Commands);
    }

    [Fact]
    public void The_plugin_says_who_it_is()
    {
        Assert.Equal(("python", "Python / tox", "Kaizen"), (_plugin.Info.Id, _plugin.Info.Name, _plugin.Info.Author));
        Assert.False(string.IsNullOrWhiteSpace(_plugin.Info.Description));
    }
}
