using Kaizen.Sdk;

namespace Kaizen.Plugins.Python;

/// <summary>
/// Python projects built with tox, pytest and flake8: one parallel job per tox environment (or a pytest job in a
/// virtualenv without tox), flake8 when configured, caches keyed on the requirement files, and publishing to a
/// package index on deploy.
/// </summary>
/// <remarks>
/// Settings (plugins.json): <c>python</c> — the interpreter that creates virtualenvs without tox (default
/// <c>python3</c>); <c>systemSitePackages</c> — "true" (the default) gives those virtualenvs the runner's system
/// packages, so requirements the machine has (Debian's python3-*) install without the package index; "false" isolates
/// them; <c>toxArgs</c> — extra arguments for every <c>tox</c> call (e.g. <c>--sitepackages</c>).
/// Requirements install without the index first (the venv, the system packages and the wheels the cache keeps); only
/// what is missing is fetched from the index, once: its wheels go into the kept wheel folder for later builds.
/// </remarks>
public sealed class PythonPlugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public const string StackName = "python";

    private const string PipCacheDirectory = ".cache/pip";
    private const string WheelDirectory = ".cache/wheels";

    private string _python = "python3";
    private bool _systemSitePackages = true;
    private string _toxArgs = "";

    public PluginInfo Info { get; } = new("python", "Python / tox", "0.1.0", "Kaizen", "Python projects built with tox, pytest and flake8.");

    public void Configure(PluginSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _python = settings.Get("python", "python3");
        _systemSitePackages = !string.Equals(settings.Get("systemSitePackages"), "false", StringComparison.OrdinalIgnoreCase);
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
        return project.UsesTox ? PlanTox(project) : PlanVirtualenv(project, context.Repository);
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

    private BuildPlan PlanVirtualenv(PythonProject project, IRepositoryView repository)
    {
        var dir = project.Directory;
        var name = CachePrefix(dir);
        var venv = Shell.Path(dir, ".venv");
        var setup = new List<string>
        {
            // Re-running venv over a restored folder keeps its packages and points it at this workspace.
            $"{_python} -m venv{(_systemSitePackages ? " --system-site-packages" : "")} {Shell.Quote(venv)}",
            // pip wheel reads its --wheel-dir from PIP_WHEEL_DIR; pip install ignores it.
            $"export VIRTUAL_ENV=\"$PWD/{venv}\" PATH=\"$PWD/{venv}/bin:$PATH\" PIP_CACHE_DIR=\"$PWD/{PipCacheDirectory}\" PIP_WHEEL_DIR=\"$PWD/{WheelDirectory}\"",
        };
        var notes = new List<string>();
        if (project.Requirements.Count > 0)
        {
            var files = string.Join(' ', project.Requirements.Select(r => "-r " + Shell.Quote(r)));
            // Offline first: what the venv, the system or the kept wheels have installs with no index at all; else the
            // missing wheels are fetched once into the kept folder and installed from there.
            var offline = $"python -m pip install --no-index --find-links \"$PIP_WHEEL_DIR\" {files}";
            setup.Add(Shell.In(dir, $"{offline} || {{ python -m pip wheel {files} && {offline}; }}"));
            notes.Add(RequirementsNote(project, repository));
        }

        if (project.Package is not null)
        {
            // Without build isolation the venv's (or the system's) setuptools builds it, so no index is needed for that.
            setup.Add(Shell.In(dir, "python -m pip install --no-index --no-build-isolation -e . || python -m pip install -e ."));
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
                new CacheSpec($"{name}-venv", project.KeyFiles, [venv]) { StoreAfterSetup = true },
                new CacheSpec($"{name}-pip", project.KeyFiles, [PipCacheDirectory, WheelDirectory]) { StoreAfterSetup = true },
            ],
            setup,
            jobs)
        {
            Notes = notes,
        };
    }

    /// <summary>Which requirements may need the package index, said plainly for the stacks panel.</summary>
    private string RequirementsNote(PythonProject project, IRepositoryView repository)
    {
        var names = project.Requirements
            .SelectMany(file => (RepositoryPaths.Read(repository, project.Directory, file) ?? "").Split('\n'))
            .Select(line => line.Split('#')[0].Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('-'))
            .Select(line => line.Split(['=', '<', '>', '!', '~', ';', '[', ' '], 2)[0].Trim())
            .Where(n => n.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        var listed = names.Count == 0 ? "the requirements" : string.Join(", ", names.Take(12)) + (names.Count > 12 ? $" and {names.Count - 12} more" : "");
        var system = _systemSitePackages ? "the runner's system Python (e.g. Debian's python3-* packages), " : "";
        return $"{listed}: installed without the package index when {system}the restored virtualenv or the kept wheels " +
               "have them; whatever is missing is downloaded once from the index (PIP_INDEX_URL) and its wheels kept for later builds. " +
               "A runner that cannot reach an index needs those packages on its machine.";
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
