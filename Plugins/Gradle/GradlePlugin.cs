using Kaizen.Sdk;

namespace Kaizen.Plugins.Gradle;

/// <summary>
/// Gradle builds (Kotlin or Java), with or without the wrapper. Detection rules:
/// <list type="bullet">
/// <item>A folder holding <c>settings.gradle[.kts]</c> or <c>build.gradle[.kts]</c> is a Gradle build, unless a folder
/// above it has a settings file (then it is a sub-project of that build) or it is a <c>buildSrc</c> folder.</item>
/// <item>The build uses <c>./gradlew</c> when a <c>gradlew</c> sits beside its build files, else <c>gradle</c>.</item>
/// <item>It is a Kotlin build when a build file is a <c>.kts</c> file, applies a Kotlin plugin, or <c>.kt</c> sources exist.</item>
/// </list>
/// Settings (plugins.json): <c>offline</c> ("true" adds <c>--offline</c>; default off).
/// </summary>
public sealed class GradlePlugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    private static readonly string[] SettingsFiles = ["settings.gradle", "settings.gradle.kts"];
    private static readonly string[] BuildFiles = ["build.gradle", "build.gradle.kts", .. SettingsFiles];
    private static readonly string[] IgnoredSegments = ["node_modules", ".gradle", ".gradle-home", "build", ".git"];

    // Plugins whose tasks hang off `check`; a separate job runs them beside the tests.
    private static readonly string[] VerificationPlugins =
        ["checkstyle", "pmd", "spotbugs", "detekt", "ktlint", "kotlinter", "spotless", "codenarc", "jacoco", "errorprone"];

    private bool _offline;

    public PluginInfo Info { get; } = new("gradle", "Kotlin / Gradle", "1.0.0", "Kaizen",
        "Gradle builds (Kotlin or Java), with or without the wrapper. A folder with settings.gradle[.kts] or " +
        "build.gradle[.kts] is a build unless a folder above it has a settings file (a sub-project). Uses ./gradlew when " +
        "present, else gradle. Suggests a test job (JUnit reports from build/test-results/test), a check job when a " +
        "verification plugin (checkstyle, detekt, ktlint, spotless, ...) is applied, and a cache of Gradle's caches in " +
        "<build>/.gradle-home keyed on the build files. Setting: offline=true adds --offline.");

    public void Configure(PluginSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var offline = settings.Get("offline", "false").Trim();
        _offline = offline.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" or "" => false,
            _ => throw new ArgumentException($"The gradle plugin's 'offline' setting must be true or false, not '{offline}'."),
        };
    }

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var buildDirs = repository.Files
            .Where(f => BuildFiles.Contains(FileName(f)) && !IsIgnored(f) && !f.Split('/').Contains("buildSrc"))
            .Select(DirectoryOf)
            .Distinct()
            .OrderBy(d => d.Length).ThenBy(d => d, StringComparer.Ordinal)
            .ToList();
        var settingsDirs = buildDirs.Where(d => SettingsFiles.Any(s => repository.Exists(Shell.Path(d, s)))).ToList();
        var roots = buildDirs.Where(d => !settingsDirs.Any(s => s != d && IsUnder(d, s))).ToList();

        return roots.Select(root => Describe(repository, root, settingsDirs.Contains(root), roots)).ToList();
    }

    private static DetectedStack Describe(IRepositoryView repository, string root, bool hasSettings, IReadOnlyList<string> roots)
    {
        // The build's own files: under its folder, and not under a separate build nested in it.
        var files = repository.Files
            .Where(f => IsUnder(DirectoryOf(f), root) && !IsIgnored(f))
            .Where(f => !roots.Any(other => other.Length > root.Length && IsUnder(DirectoryOf(f), other)))
            .ToList();
        var buildFiles = files.Where(f => IsBuildScript(FileName(f))).ToList();
        var scripts = buildFiles.Select(f => repository.ReadText(f) ?? "").ToList();
        var wrapper = repository.Exists(Shell.Path(root, "gradlew"));
        var kotlin = buildFiles.Any(f => f.EndsWith(".kts", StringComparison.Ordinal))
                     || scripts.Any(AppliesKotlin)
                     || files.Any(f => f.EndsWith(".kt", StringComparison.Ordinal));
        var multiProject = hasSettings && buildFiles.Any(f => DirectoryOf(f) != root);
        var verification = VerificationPlugins.Where(p => scripts.Any(s => s.Contains(p, StringComparison.OrdinalIgnoreCase))).ToList();
        var publishes = scripts.Any(s => s.Contains("maven-publish", StringComparison.Ordinal));

        var summary = $"{(kotlin ? "Kotlin" : "Java")} Gradle build{(multiProject ? " (multi-project)" : "")}, " +
                      (wrapper ? "with the wrapper" : "without a wrapper (uses the runner's gradle)");
        return new DetectedStack("gradle", "gradle", root, summary, new Dictionary<string, string>
        {
            ["wrapper"] = Flag(wrapper),
            ["kotlin"] = Flag(kotlin),
            ["dsl"] = buildFiles.Any(f => f.EndsWith(".kts", StringComparison.Ordinal)) ? "kotlin" : "groovy",
            ["multiProject"] = Flag(multiProject),
            ["verification"] = string.Join(',', verification),
            ["publish"] = Flag(publishes),
            ["buildFiles"] = string.Join(',', buildFiles),
        });
    }

    public BuildPlan PlanBuild(BuildPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stack = context.Stack;
        var dir = stack.Directory;
        var jobs = new List<JobSpec>
        {
            new("test", [Shell.In(dir, Gradle(stack, "test"))], TestReports(stack)),
        };
        if (!string.IsNullOrEmpty(stack.Fact("verification")))
            jobs.Add(new JobSpec("check", [Shell.In(dir, Gradle(stack, "check -x test"))]));

        return new BuildPlan(
            Tools: [],
            Caches: [Cache(context.Repository, stack)],
            Setup: [$"export GRADLE_USER_HOME=\"$PWD/{Shell.Path(dir, ".gradle-home")}\""],
            Jobs: jobs);
    }

    public DeployPlan PlanDeploy(DeployPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // Only a build that publishes has a deploy step Gradle itself knows; credentials are the build's own business
        // (gradle.properties or ORG_GRADLE_PROJECT_* variables in the server's environment).
        if (context.Stack.Fact("publish") != "true") return new DeployPlan([], []);
        var dir = context.Stack.Directory;
        return new DeployPlan(
            [$"export GRADLE_USER_HOME=\"$PWD/{Shell.Path(dir, ".gradle-home")}\"", Shell.In(dir, Gradle(context.Stack, "publish"))],
            []);
    }

    /// <summary>Gradle's dependency and wrapper caches, relocated into the workspace so the paths are repo-relative.</summary>
    private static CacheSpec Cache(IRepositoryView repository, DetectedStack stack)
    {
        var dir = stack.Directory;
        var keyFiles = (stack.Fact("buildFiles") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { "gradle/wrapper/gradle-wrapper.properties", "gradle.properties", "gradle/libs.versions.toml" }
                .Select(f => Shell.Path(dir, f))
                .Where(repository.Exists))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        var paths = new List<string> { Shell.Path(dir, ".gradle-home/caches") };
        if (stack.Fact("wrapper") == "true") paths.Add(Shell.Path(dir, ".gradle-home/wrapper"));
        var name = string.IsNullOrEmpty(dir) ? "gradle" : "gradle-" + new string(dir.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '-').ToArray());
        return new CacheSpec(name, keyFiles, paths);
    }

    private string Gradle(DetectedStack stack, string tasks)
    {
        var command = $"{(stack.Fact("wrapper") == "true" ? "./gradlew" : "gradle")} {tasks} --no-daemon";
        if (_offline) command += " --offline";
        // The Kotlin compile daemon would outlive the job (and hold gigabytes); in CI compile inside Gradle's own
        // process. Older Kotlin plugins read the system property, newer ones the Gradle property.
        if (stack.Fact("kotlin") == "true")
            command += " -Pkotlin.compiler.execution.strategy=in-process -Dkotlin.compiler.execution.strategy=in-process";
        return command;
    }

    private static IReadOnlyList<string> TestReports(DetectedStack stack) =>
        stack.Fact("multiProject") == "true"
            ? [Shell.Path(stack.Directory, "build/test-results/test/*.xml"), Shell.Path(stack.Directory, "**/build/test-results/test/*.xml")]
            : [Shell.Path(stack.Directory, "build/test-results/test/*.xml")];

    private static bool AppliesKotlin(string script) =>
        script.Contains("org.jetbrains.kotlin", StringComparison.Ordinal)
        || script.Contains("kotlin(\"", StringComparison.Ordinal)
        || script.Contains("plugin: 'kotlin", StringComparison.Ordinal)
        || script.Contains("plugin: \"kotlin", StringComparison.Ordinal)
        || script.Contains("id 'kotlin", StringComparison.Ordinal)
        || script.Contains("id \"kotlin", StringComparison.Ordinal)
        || script.Contains("id(\"kotlin", StringComparison.Ordinal);

    private static bool IsBuildScript(string name) =>
        name.EndsWith(".gradle", StringComparison.Ordinal) || name.EndsWith(".gradle.kts", StringComparison.Ordinal);

    private static bool IsIgnored(string path) => path.Split('/')[..^1].Any(IgnoredSegments.Contains);

    private static bool IsUnder(string dir, string root) =>
        root.Length == 0 || dir == root || dir.StartsWith(root + "/", StringComparison.Ordinal);

    private static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static string DirectoryOf(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";

    private static string Flag(bool value) => value ? "true" : "false";
}
