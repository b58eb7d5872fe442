using Kaizen.Sdk;

namespace Kaizen.Plugins.Node;

/// <summary>
/// Node.js projects with yarn: a folder with package.json and yarn.lock. Installs with the lockfile frozen, caches
/// node_modules keyed on yarn.lock, runs the <c>test</c> and <c>lint</c> scripts that exist as parallel jobs, and
/// deploys a static site by building it and syncing it to an S3 bucket.
/// </summary>
/// <remarks>
/// Settings (plugins.json): <c>yarnVersion</c> — the classic yarn installed once per runner when package.json does
/// not pin one in <c>packageManager</c> (default 1.22.22); <c>siteDir</c> — the folder a deploy syncs, when the guess
/// from the build tool (build/, dist/, out/) is wrong.
/// </remarks>
public sealed class NodePlugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public const string StackName = "node";

    private string _yarnVersion = NodeProject.DefaultYarnVersion;
    private string? _siteDir;

    public PluginInfo Info { get; } = new("node", "Node / yarn", "0.1.0", "Kaizen", "Node.js projects with yarn: install, test, lint, static sites.");

    public void Configure(PluginSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _yarnVersion = settings.Get("yarnVersion", NodeProject.DefaultYarnVersion);
        _siteDir = settings.Get("siteDir");
    }

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        // Every folder with both files is its own install (a workspace member without a lockfile belongs to its root).
        return repository.Files
            .Where(f => RepositoryPaths.IsSource(f) && RepositoryPaths.NameOf(f) == "package.json")
            .Select(RepositoryPaths.DirectoryOf)
            .Where(d => repository.Exists(Shell.Path(d, "yarn.lock")))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .Select(d => NodeProject.Read(repository, d, _yarnVersion))
            .Select(p => new DetectedStack(Info.Id, StackName, p.Directory, p.Summary(), p.Facts()))
            .ToList();
    }

    public BuildPlan PlanBuild(BuildPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var project = NodeProject.Read(context.Repository, context.Stack.Directory, _yarnVersion);
        var dir = project.Directory;
        var name = dir.Length == 0 ? StackName : $"{StackName}-{RepositoryPaths.Slug(dir)}";
        var keyFiles = new[] { "yarn.lock", ".nvmrc", ".node-version" }
            .Select(f => Shell.Path(dir, f))
            .Where(f => f.EndsWith("yarn.lock", StringComparison.Ordinal) || context.Repository.Exists(f))
            .ToList();
        // The install fills both: stored right after it, so a build whose tests fail does not pay the install again.
        var caches = new List<CacheSpec> { new($"{name}-node_modules", keyFiles, [Shell.Path(dir, "node_modules")]) { StoreAfterSetup = true } };
        if (project.Berry)
        {
            caches.Add(new CacheSpec($"{name}-yarn", keyFiles, [Shell.Path(dir, ".yarn/cache")]) { StoreAfterSetup = true });
        }

        var jobs = new List<JobSpec>();
        if (project.HasScript("test"))
        {
            // jest writes Cobertura XML itself (coverage/cobertura-coverage.xml); text-summary keeps the figures in the log.
            jobs.Add(project.CanReportJUnit
                ? new JobSpec("test", [Shell.In(dir, "JEST_JUNIT_OUTPUT_DIR=test-reports yarn test --reporters=default --reporters=jest-junit " +
                                                    "--coverage --coverageReporters=text-summary --coverageReporters=cobertura")],
                    [Shell.Path(dir, "test-reports/junit.xml")]) { Coverage = [Shell.Path(dir, "coverage/cobertura-coverage.xml")] }
                : new JobSpec("test", [Shell.In(dir, "yarn test")]));
        }

        if (project.HasScript("lint"))
        {
            jobs.Add(new JobSpec("lint", [Shell.In(dir, "yarn lint")]));
        }

        return new BuildPlan([YarnTool(project)], caches, [Shell.In(dir, InstallCommand(project))], jobs);
    }

    public DeployPlan PlanDeploy(DeployPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var project = NodeProject.Read(context.Repository, context.Stack.Directory, _yarnVersion);
        var dir = project.Directory;
        var site = _siteDir ?? project.SiteDirectory();
        var commands = new List<string> { Shell.In(dir, InstallCommand(project)) };
        if (project.HasScript("build"))
        {
            commands.Add(Shell.In(dir, "yarn build"));
        }

        // --delete makes the bucket mirror the build, so removed pages and old hashed assets go too.
        commands.Add(Shell.In(dir, $"aws s3 sync {Shell.Quote(site)} \"s3://$BUCKET\" --delete"));
        return new DeployPlan(commands, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "BUCKET"], [YarnTool(project)]);
    }

    /// <summary>
    /// Classic yarn's global cache is not safe for two installs at once (parallel jobs of a build on a runner without
    /// a sandbox share one home): the mutex file makes the second wait for the first. A sandboxed job has its own home
    /// and /tmp, so there it never waits.
    /// </summary>
    private static string InstallCommand(NodeProject project) =>
        project.Berry ? "yarn install --immutable" : "yarn install --frozen-lockfile --non-interactive --mutex \"file:${TMPDIR:-/tmp}/.kaizen-yarn-mutex\"";

    /// <summary>
    /// Yarn installed once per runner into its tool folder (never <c>npm install -g</c> per job): classic yarn from
    /// npm, or corepack's yarn shim for yarn 2+, which then runs the version package.json pins.
    /// </summary>
    private static ToolSpec YarnTool(NodeProject project) => project.Berry
        ? new ToolSpec("yarn-corepack", project.YarnVersion, ["mkdir -p bin", "corepack enable --install-directory \"$KAIZEN_TOOL_PREFIX/bin\" yarn"], ["bin"])
        : new ToolSpec("yarn", project.YarnVersion,
            [$"npm install --prefix \"$KAIZEN_TOOL_PREFIX\" --no-audit --no-fund --no-save yarn@{project.YarnVersion}"], ["node_modules/.bin"]);
}
