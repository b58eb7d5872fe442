using Kaizen.Sdk;

namespace Kaizen.Plugins.Python;

/// <summary>
/// Python projects built with tox, pytest and flake8: one parallel job per tox environment (or a pytest job in a
/// virtualenv without tox), flake8 when configured, caches keyed on the requirement files, and publishing to a
/// package index on deploy.
/// </summary>
/// <remarks>
/// Settings (plugins.json): <c>python</c> — the interpreter that creates virtualenvs without tox (default
/// <c>python3</c>); <c>systemSitePackages</c> — "true" gives those virtualenvs the system's packages (useful offline);
/// <c>toxArgs</c> — extra arguments for every <c>tox</c> call (e.g. <c>--sitepackages</c>).
/// </remarks>
public sealed class PythonPlugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public const string StackName = "python";

    private const string PipCacheDirectory = ".cache/pip";

    private string _python = "python3";
    private bool _systemSitePackages;
    private string _toxArgs = "";

    public PluginInfo Info { get; } = new("python", "Python / tox", "0.1.0", "Kaizen", "Python projects built with tox, pytest and flake8.");

    public void Configure(PluginSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _python = settings.Get("python", "python3");
        _systemSitePackages = string.Equals(settings.Get("systemSitePackages"), "true", StringComparison.OrdinalIgnoreCase);
        _toxArgs = settings.Get("toxArgs", "").Trim();
    }

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var directories = repository.Files
            .Where(f => RepositoryPaths.IsSource(f) && PythonProject.IsMarker(RepositoryPaths.NameOf(f)))
            .Select(RepositoryPaths.DirectoryOf);
        return RepositoryPaths.Roots(directories)
            .Select(directory => PythonProject.Read(repository, directory))
            .Select(project => new DetectedStack(Info.Id, StackName, project.Directory, project.Summary(), project.Facts()))
            .ToList();
    }

    public BuildPlan PlanBuild(BuildPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var project = PythonProject.Read(context.Repository, context.Stack.Directory);
        return project.UsesTox ? PlanTox(project) : PlanVirtualenv(project);
    }

    public DeployPlan PlanDeploy(DeployPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var project = PythonProject.Read(context.Repository, context.Stack.Directory);
        if (project.Package is null) return new DeployPlan([], []);

        // The token is referred to by name only: TWINE_PASSWORD when the server defines it, else PYPI_TOKEN.
        var usesTwineVariables = context.Variables.Contains("TWINE_PASSWORD");
        var token = usesTwineVariables ? "TWINE_PASSWORD" : "PYPI_TOKEN";
        var credentials = usesTwineVariables
            ? (context.Variables.Contains("TWINE_USERNAME") ? "" : "TWINE_USERNAME=__token__ ")
            : "TWINE_USERNAME=__token__ TWINE_PASSWORD=\"$PYPI_TOKEN\" ";
        var dir = project.Directory;
        return new DeployPlan(
            [
                Shell.In(dir, $"{_python} -m venv .kaizen-publish && .kaizen-publish/bin/python -m pip install --upgrade build twine"),
                Shell.In(dir, "rm -rf dist && .kaizen-publish/bin/python -m build --sdist --wheel"),
                Shell.In(dir, $"{credentials}.kaizen-publish/bin/python -m twine upload --non-interactive dist/*"),
            ],
            [token]);
    }

    private BuildPlan PlanTox(PythonProject project)
    {
        var dir = project.Directory;
        var name = CachePrefix(dir);
        var toxArgs = _toxArgs.Length > 0 ? " " + _toxArgs : "";
        var jobs = new List<JobSpec>();

        // Each environment keeps its own .tox/ENV entry: parallel jobs storing one shared .tox would each keep only theirs.
        JobSpec ToxJob(string env)
        {
            var cache = new CacheSpec($"{name}-tox-{RepositoryPaths.Slug(env)}", project.KeyFiles, [Shell.Path(dir, $".tox/{env}")]);
            var reports = project.ReportingEnvs.Contains(env);
            var report = $"test-reports/{RepositoryPaths.Slug(env)}.xml";
            var run = $"tox{toxArgs} -e {Shell.Quote(env)}" + (reports ? $" -- --junitxml=\"$PWD/{report}\"" : "");
            return new JobSpec(env, [CacheCommand("restore", cache), Shell.In(dir, run), CacheCommand("store", cache)],
                reports ? [Shell.Path(dir, report)] : null);
        }

        if (project.ToxEnvs.Count == 0)
        {
            jobs.Add(new JobSpec("tox", [Shell.In(dir, $"tox{toxArgs}")]));
        }

        jobs.AddRange(project.ToxEnvs.Select(ToxJob));
        if (project.ToxLintEnv is { } lint && !project.ToxEnvs.Contains(lint))
        {
            jobs.Add(ToxJob(lint));
        }
        else if (project.ToxLintEnv is null && project.Flake8Configured)
        {
            jobs.Add(Flake8Job(dir));
        }

        return new BuildPlan(
            [],
            [new CacheSpec($"{name}-pip", project.KeyFiles, [PipCacheDirectory])],
            // tox 3 hands only listed variables to environments; tox 4 passes PIP_* on its own.
            [$"export PIP_CACHE_DIR=\"$PWD/{PipCacheDirectory}\" TOX_TESTENV_PASSENV=\"PIP_CACHE_DIR ${{TOX_TESTENV_PASSENV-}}\""],
            jobs);
    }

    private BuildPlan PlanVirtualenv(PythonProject project)
    {
        var dir = project.Directory;
        var name = CachePrefix(dir);
        var venv = Shell.Path(dir, ".venv");
        var setup = new List<string>
        {
            // Re-running venv over a restored folder keeps its packages and points it at this workspace.
            $"{_python} -m venv{(_systemSitePackages ? " --system-site-packages" : "")} {Shell.Quote(venv)}",
            $"export VIRTUAL_ENV=\"$PWD/{venv}\" PATH=\"$PWD/{venv}/bin:$PATH\" PIP_CACHE_DIR=\"$PWD/{PipCacheDirectory}\"",
        };
        if (project.Requirements.Count > 0)
        {
            setup.Add(Shell.In(dir, "python -m pip install " + string.Join(' ', project.Requirements.Select(r => "-r " + Shell.Quote(r)))));
        }

        if (project.Package is not null)
        {
            setup.Add(Shell.In(dir, "python -m pip install -e ."));
        }

        var jobs = new List<JobSpec>();
        if (project.HasTests)
        {
            const string report = "test-reports/pytest.xml", coverage = "test-reports/coverage.xml";
            // With pytest-cov installed, the same run also writes Cobertura XML (what to measure stays in the project's config).
            jobs.Add(project.UsesPytestCov
                ? new JobSpec("pytest", [Shell.In(dir, $"python -m pytest --junitxml=\"$PWD/{report}\" --cov --cov-report=term --cov-report=\"xml:$PWD/{coverage}\"")],
                    [Shell.Path(dir, report)]) { Coverage = [Shell.Path(dir, coverage)] }
                : new JobSpec("pytest", [Shell.In(dir, $"python -m pytest --junitxml=\"$PWD/{report}\"")], [Shell.Path(dir, report)]));
        }

        if (project.Flake8Configured)
        {
            jobs.Add(Flake8Job(dir));
        }

        return new BuildPlan(
            [],
            [
                new CacheSpec($"{name}-venv", project.KeyFiles, [venv]),
                new CacheSpec($"{name}-pip", project.KeyFiles, [PipCacheDirectory]),
            ],
            setup,
            jobs);
    }

    // flake8 skips .tox and .git by itself but not the virtualenv and pip cache the jobs create.
    private static JobSpec Flake8Job(string dir) =>
        new("flake8", [Shell.In(dir, "flake8 --extend-exclude=.venv,.cache,.kaizen-publish,node_modules")]);

    private static string CachePrefix(string directory) =>
        directory.Length == 0 ? StackName : $"{StackName}-{RepositoryPaths.Slug(directory)}";

    /// <summary>A cache command in the exact form the portal renders plan caches, for caches that belong to one job.</summary>
    internal static string CacheCommand(string verb, CacheSpec cache) =>
        $"kaizen cache {verb} {Shell.Quote(cache.Name)} {string.Join(' ', cache.KeyFiles.Select(Shell.Quote))} -- {string.Join(' ', cache.Paths.Select(Shell.Quote))}";
}
