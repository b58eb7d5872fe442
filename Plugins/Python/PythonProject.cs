using Kaizen.Sdk;

namespace Kaizen.Plugins.Python;

/// <summary>
/// What one Python project folder holds, read once for detection and again for planning (plugins keep no state
/// between calls). <see cref="Problems"/> names files that could not be read; they never make detection throw.
/// </summary>
internal sealed record PythonProject(
    string Directory,
    bool UsesTox,
    IReadOnlyList<string> ToxEnvs,
    string? ToxLintEnv,
    IReadOnlyList<string> ReportingEnvs,
    bool Flake8Configured,
    IReadOnlyList<string> Requirements,
    string? Package,
    bool HasTests,
    bool UsesPytestCov,
    IReadOnlyList<string> KeyFiles,
    IReadOnlyList<string> Problems)
{
    public static readonly string[] MarkerNames = ["tox.ini", "setup.py", "pyproject.toml"];

    public static bool IsMarker(string name) =>
        MarkerNames.Contains(name) || (name.StartsWith("requirements", StringComparison.Ordinal) && name.EndsWith(".txt", StringComparison.Ordinal));

    public static PythonProject Read(IRepositoryView repository, string directory)
    {
        var problems = new List<string>();
        var here = repository.Files.Where(f => RepositoryPaths.IsSource(f) && RepositoryPaths.IsUnder(f, directory)).ToList();
        string Local(string path) => directory.Length == 0 ? path : path[(directory.Length + 1)..];
        bool Has(string name) => repository.Exists(Shell.Path(directory, name));
        string? Text(string name)
        {
            if (!Has(name)) return null;
            var text = RepositoryPaths.Read(repository, directory, name);
            if (text is null) problems.Add($"{name} could not be read (binary or larger than 1 MiB)");
            return text;
        }

        var pyproject = Text("pyproject.toml");
        var toxIni = Text("tox.ini");
        var setupCfg = Text("setup.cfg");

        // tox reads tox.ini first, then setup.cfg's [tox:tox], then pyproject.toml's legacy_tox_ini.
        ToxConfig? tox = null;
        var usesTox = Has("tox.ini");
        if (toxIni is not null) tox = ToxConfig.Parse(toxIni);
        else if (!usesTox && pyproject is not null && ToxConfig.LegacyIniOf(pyproject) is { } legacy)
        {
            usesTox = true;
            tox = ToxConfig.Parse(legacy);
        }

        var envs = tox?.EnvList ?? [];
        var declared = tox?.DeclaredEnvs.ToList() ?? [];
        var lintEnv = envs.Concat(declared).FirstOrDefault(e => e == "flake8")
            ?? envs.Concat(declared).FirstOrDefault(e => e is "lint" or "pep8" or "style" && tox!.Commands(e).Contains("flake8", StringComparison.Ordinal));
        var flake8 = Has(".flake8")
            || (toxIni is not null && IniFile.Parse(toxIni).HasSection("flake8"))
            || (setupCfg is not null && IniFile.Parse(setupCfg).HasSection("flake8"));

        var requirements = here
            .Where(f => RepositoryPaths.DirectoryOf(f) == directory && PythonProject.IsMarker(RepositoryPaths.NameOf(f)) && f.EndsWith(".txt", StringComparison.Ordinal)
                        || RepositoryPaths.DirectoryOf(f) == Shell.Path(directory, "requirements") && f.EndsWith(".txt", StringComparison.Ordinal))
            .Select(Local)
            .Order(StringComparer.Ordinal)
            .ToList();

        var package = pyproject is not null && (pyproject.Contains("[project]", StringComparison.Ordinal) || pyproject.Contains("[build-system]", StringComparison.Ordinal))
            ? "pyproject.toml"
            : Has("setup.py") ? "setup.py" : null;

        var hasTests = here.Any(f => RepositoryPaths.NameOf(f) is var n && n.EndsWith(".py", StringComparison.Ordinal)
                                     && (n.StartsWith("test_", StringComparison.Ordinal) || n.EndsWith("_test.py", StringComparison.Ordinal) || n == "conftest.py"))
                       || Has("pytest.ini")
                       || (pyproject?.Contains("[tool.pytest", StringComparison.Ordinal) ?? false);

        // pytest-cov named as a dependency anywhere the project declares them.
        var usesPytestCov = requirements.Select(Text).Append(pyproject).Append(setupCfg).Append(toxIni).Append(Text("setup.py"))
            .Any(t => t is not null && t.Contains("pytest-cov", StringComparison.OrdinalIgnoreCase));

        var keyFiles = requirements
            .Concat(new[] { "setup.py", "setup.cfg", "pyproject.toml", "tox.ini" }.Where(Has))
            .Select(f => Shell.Path(directory, f))
            .Distinct()
            .ToList();

        return new PythonProject(
            directory, usesTox, envs, lintEnv,
            envs.Concat(lintEnv is null ? [] : [lintEnv]).Where(e => tox!.PassesPosargsToPytest(e)).ToList(),
            flake8, requirements, package, hasTests, usesPytestCov, keyFiles, problems);
    }

    public IReadOnlyDictionary<string, string> Facts()
    {
        var facts = new Dictionary<string, string>(StringComparer.Ordinal) { ["tox"] = UsesTox ? "true" : "false" };
        if (ToxEnvs.Count > 0) facts["toxenvs"] = string.Join(',', ToxEnvs);
        if (ToxLintEnv is not null) facts["flake8"] = $"tox:{ToxLintEnv}";
        else if (Flake8Configured) facts["flake8"] = "config";
        if (Requirements.Count > 0) facts["requirements"] = string.Join(',', Requirements);
        if (Package is not null) facts["package"] = Package;
        if (Problems.Count > 0) facts["problems"] = string.Join("; ", Problems);
        return facts;
    }

    public string Summary()
    {
        var parts = new List<string>();
        if (UsesTox)
        {
            parts.Add(ToxEnvs.Count > 0 ? $"tox environments {string.Join(", ", ToxEnvs)}" : "tox (default environment)");
        }
        else
        {
            parts.Add(HasTests ? "pytest" : "no tests found");
            if (Requirements.Count > 0) parts.Add(string.Join(", ", Requirements));
        }

        if (ToxLintEnv is not null && !ToxEnvs.Contains(ToxLintEnv)) parts.Add($"lint with tox -e {ToxLintEnv}");
        else if (ToxLintEnv is null && Flake8Configured) parts.Add("flake8");
        if (Package is not null) parts.Add($"package from {Package}");
        parts.AddRange(Problems);
        return "Python: " + string.Join("; ", parts);
    }
}
