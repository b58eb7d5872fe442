using System.Text.RegularExpressions;
using Kaizen.Sdk;

namespace Kaizen.Plugins.Serverless;

/// <summary>
/// Serverless Framework services. Every <c>serverless.yml</c> / <c>serverless.yaml</c> (at the root or in a sub-folder,
/// outside <c>node_modules</c>) is a service. The Framework is a tool installed once per runner with npm and reused;
/// CI runs <c>serverless package</c>, a deploy runs <c>serverless deploy --stage &lt;server&gt;</c>.
/// Settings (plugins.json): <c>version</c> (the Framework's npm version or range, default 3, or the major of the
/// service's <c>frameworkVersion</c>).
/// </summary>
public sealed partial class ServerlessPlugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public const string DefaultVersion = "3";

    private static readonly string[] ServiceFiles = ["serverless.yml", "serverless.yaml"];
    private static readonly string[] IgnoredSegments = ["node_modules", ".serverless", ".git"];
    private static readonly string[] AwsVariables = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

    private string? _version;

    public PluginInfo Info { get; } = new("serverless", "Serverless Framework", "1.0.0", "Kaizen",
        "Serverless Framework services: every serverless.yml or serverless.yaml (root or sub-folder, not in node_modules) " +
        "is a service. The Framework (serverless@3 from npm) is a tool installed once per runner and reused. CI runs " +
        "`serverless package`; a deploy runs `serverless deploy --stage <server>` with the server's AWS_ACCESS_KEY_ID " +
        "and AWS_SECRET_ACCESS_KEY. Service plugins are installed from the service's package.json first. " +
        "Setting: version (npm version of serverless, default 3).");

    public void Configure(PluginSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var version = settings.Get("version")?.Trim();
        if (string.IsNullOrEmpty(version)) return;
        // The version names a folder of the runner's tool cache and goes into a shell command: keep it to a plain version.
        if (!ValidVersion().IsMatch(version))
            throw new ArgumentException($"The serverless plugin's 'version' setting must be an npm version such as 3 or 3.38.0, not '{version}'.");
        _version = version;
    }

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        return repository.Files
            .Where(f => ServiceFiles.Contains(FileName(f)) && !f.Split('/')[..^1].Any(IgnoredSegments.Contains))
            .GroupBy(DirectoryOf)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => Describe(repository, g.Key, g.OrderBy(f => f, StringComparer.Ordinal).First()))
            .ToList();
    }

    private static DetectedStack Describe(IRepositoryView repository, string dir, string file)
    {
        var service = ServiceFile.Parse(repository.ReadText(file));
        var facts = new Dictionary<string, string>
        {
            ["file"] = file,
            ["service"] = service.Name ?? "",
            ["provider"] = service.Provider ?? "",
            ["runtime"] = service.Runtime ?? "",
            ["frameworkVersion"] = service.FrameworkVersion ?? "",
            ["plugins"] = string.Join(',', service.Plugins),
            ["installer"] = Installer(repository, dir) ?? "",
            ["pinnedServerless"] = PinnedServerless(repository, dir) ?? "",
            // The service is deployed as a whole by `serverless deploy`: other stacks here do not deploy this folder.
            ["ownsDeploy"] = "true",
        };
        var summary = $"Serverless service {(service.Name is null ? "" : $"'{service.Name}' ")}" +
                      $"on {service.Provider ?? "an unknown provider"}{(service.Runtime is null ? "" : $" ({service.Runtime})")}";
        return new DetectedStack("serverless", "serverless", dir, summary, facts);
    }

    public BuildPlan PlanBuild(BuildPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stack = context.Stack;
        var dir = stack.Directory;
        var (setup, caches) = ServicePlugins(stack);
        return new BuildPlan(
            Tools: [Tool(stack)],
            Caches: caches,
            Setup: [Environment, .. setup],
            Jobs: [new JobSpec("package", [Shell.In(dir, "serverless package" + ConfigOption(stack))])])
        {
            Notes = PinNotes(stack),
        };
    }

    /// <summary>
    /// The Framework hands over to a copy in the service's node_modules when there is one: a package.json that pins
    /// another major than the tool's makes that copy run, not the tool (and with frameworkVersion 3, fail).
    /// </summary>
    private List<string> PinNotes(DetectedStack stack)
    {
        var pinned = stack.Fact("pinnedServerless");
        if (string.IsNullOrEmpty(pinned)) return [];
        var tool = ToolVersion(stack);
        if (Major(pinned) is { } major && Major(tool) is { } toolMajor && major == toolMajor) return [];
        var where = string.IsNullOrEmpty(stack.Directory) ? "package.json" : $"{stack.Directory}/package.json";
        return [$"{where} pins serverless {pinned}: after the install, `serverless` runs that copy instead of the serverless " +
                $"{tool} this plugin installs. Remove it from {where}, or set the plugin's version to match it."];
    }

    private static string? PinnedServerless(IRepositoryView repository, string dir)
    {
        var text = repository.ReadText(Shell.Path(dir, "package.json"));
        if (text is null) return null;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(text);
            foreach (var section in (string[])["devDependencies", "dependencies"])
            {
                if (json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                    && json.RootElement.TryGetProperty(section, out var deps) && deps.ValueKind == System.Text.Json.JsonValueKind.Object
                    && deps.TryGetProperty("serverless", out var version) && version.ValueKind == System.Text.Json.JsonValueKind.String)
                {
                    return version.GetString();
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // A package.json that is not JSON: the Node tooling will say so; nothing pinned that we can see.
        }

        return null;
    }

    public DeployPlan PlanDeploy(DeployPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stack = context.Stack;
        var (setup, _) = ServicePlugins(stack);
        var required = stack.Fact("provider") is "aws" or "" ? AwsVariables : [];
        return new DeployPlan(
            [Environment, .. setup, Shell.In(stack.Directory, $"serverless deploy --stage {Shell.Quote(Stage(context.Server))}{ConfigOption(stack)}")],
            required,
            [Tool(stack)]);
    }

    private const string Environment = "export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off";

    /// <summary>The Framework as a runner-wide tool: one npm install per version and runner, then only a PATH entry.</summary>
    private string ToolVersion(DetectedStack stack) => _version ?? Major(stack.Fact("frameworkVersion")) ?? DefaultVersion;

    private ToolSpec Tool(DetectedStack stack)
    {
        var version = ToolVersion(stack);
        return new ToolSpec("serverless", version,
            [$"npm install --prefix \"$KAIZEN_TOOL_PREFIX\" --no-audit --no-fund serverless@{version}"],
            ["node_modules/.bin"]);
    }

    /// <summary>Plugins listed in the service come from its package.json, so they are installed (and cached) first.</summary>
    private static (IReadOnlyList<string> Setup, IReadOnlyList<CacheSpec> Caches) ServicePlugins(DetectedStack stack)
    {
        var installer = stack.Fact("installer");
        if (string.IsNullOrEmpty(stack.Fact("plugins")) || string.IsNullOrEmpty(installer)) return ([], []);
        var dir = stack.Directory;
        var (command, lockFile) = installer switch
        {
            "yarn" => ("yarn install --frozen-lockfile", "yarn.lock"),
            "npm-ci" => ("npm ci --no-audit --no-fund", "package-lock.json"),
            _ => ("npm install --no-audit --no-fund", "package.json"),
        };
        var name = string.IsNullOrEmpty(dir) ? "serverless-node-modules" : "serverless-node-modules-" + CacheSafe(dir);
        return ([Shell.In(dir, command)], [new CacheSpec(name, [Shell.Path(dir, lockFile)], [Shell.Path(dir, "node_modules")]) { StoreAfterSetup = true }]);
    }

    private static string? Installer(IRepositoryView repository, string dir)
    {
        if (!repository.Exists(Shell.Path(dir, "package.json"))) return null;
        if (repository.Exists(Shell.Path(dir, "yarn.lock"))) return "yarn";
        return repository.Exists(Shell.Path(dir, "package-lock.json")) ? "npm-ci" : "npm";
    }

    private static string ConfigOption(DetectedStack stack) =>
        stack.Fact("file") is { } file && FileName(file) != "serverless.yml" ? $" --config {Shell.Quote(FileName(file))}" : "";

    /// <summary>Stages become part of AWS resource names: lower-case letters, digits and '-'.</summary>
    internal static string Stage(string server)
    {
        var stage = new string(server.Trim().ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        return stage.Length == 0 ? "dev" : stage;
    }

    /// <summary>"3", "^3.38.0", "&gt;=3 &lt;4" → "3"; anything else → null.</summary>
    private static string? Major(string? range) =>
        range is null ? null : LeadingMajor().Match(range) is { Success: true } m ? m.Groups[1].Value : null;

    private static string CacheSafe(string dir) =>
        new(dir.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '-').ToArray());

    private static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static string DirectoryOf(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+){0,2}([-+][0-9A-Za-z.]+)?$")]
    private static partial Regex ValidVersion();

    [GeneratedRegex(@"^\s*[\^~>=v]*\s*([0-9]+)")]
    private static partial Regex LeadingMajor();
}
