using System.Text.RegularExpressions;
using Kaizen.Sdk;

namespace Kaizen.Plugins.Auth0;

/// <summary>
/// Bash scripts that manage an Auth0 tenant with curl and jq. Detection rules, in order:
/// <list type="number">
/// <item>A <c>*.sh</c> file is a tenant script when a folder on its path has "auth0" in its name (any case), or it calls
/// <c>curl</c> and names an Auth0 endpoint (<c>/oauth/token</c> or <c>/api/v2/</c>).</item>
/// <item>The folders holding tenant scripts are grouped: a folder whose parent also holds tenant scripts, or which has a
/// sibling holding tenant scripts, belongs to its parent (the stack's folder); those sub-folders are environments.</item>
/// <item>In a stack's folder, scripts directly in it are common (run for every environment, in name order), scripts in
/// <c>&lt;folder&gt;/&lt;server&gt;/</c> only for that server; scripts named <c>_*.sh</c> or in a <c>lib</c> folder are helpers
/// that other scripts source, and are never run on their own.</item>
/// </list>
/// A deploy gets a management API token by client credentials (AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET from
/// the server's environment), exports it as AUTH0_TOKEN with AUTH0_ENV=&lt;server&gt; and AUTH0_BASE_URL (default
/// https://$AUTH0_DOMAIN), then runs the scripts one command each, from the stack's folder.
/// </summary>
public sealed partial class Auth0Plugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public static readonly IReadOnlyList<string> Variables = ["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"];

    private static readonly string[] IgnoredSegments = ["node_modules", ".git", "vendor"];
    private static readonly string[] HelperFolders = ["lib"];

    public PluginInfo Info { get; } = new("auth0", "Auth0 tenant scripts", "1.0.0", "Kaizen",
        "Bash scripts that manage an Auth0 tenant with curl and jq. A *.sh file is a tenant script when a folder on its " +
        "path has 'auth0' in its name, or it calls curl and names /oauth/token or /api/v2/. Sub-folders of a tenant-scripts " +
        "folder are environments: a deploy to server S runs the folder's own scripts, then those in <folder>/S, in name " +
        "order; _*.sh and lib/ are helpers and never run. CI checks every script with bash -n (and shellcheck when " +
        "installed). A deploy gets a management token with AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, exports " +
        "AUTH0_TOKEN, AUTH0_ENV=S and AUTH0_BASE_URL (default https://$AUTH0_DOMAIN), then runs the scripts.");

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var scripts = repository.Files
            .Where(f => f.EndsWith(".sh", StringComparison.Ordinal) && !Segments(f).Any(IgnoredSegments.Contains))
            .Where(f => IsTenantScript(f, repository.ReadText(f)))
            .ToList();
        var folders = scripts.Select(DirectoryOf).Distinct().ToHashSet(StringComparer.Ordinal);

        var byRoot = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            var root = RootOf(folder, folders);
            if (!byRoot.TryGetValue(root, out var list)) byRoot[root] = list = [];
            list.Add(folder);
        }

        return byRoot.Select(kv => Describe(repository, kv.Key, kv.Value)).ToList();
    }

    private static string RootOf(string folder, HashSet<string> folders)
    {
        // A folder named for Auth0 is a stack of its own; otherwise environment folders gather under their parent.
        if (folder.Length == 0 || FileName(folder).Contains("auth0", StringComparison.OrdinalIgnoreCase)) return folder;
        var parent = DirectoryOf(folder);
        var hasSibling = folders.Any(f => f.Length > 0 && f != folder && DirectoryOf(f) == parent);
        return folders.Contains(parent) || hasSibling ? parent : folder;
    }

    private static DetectedStack Describe(IRepositoryView repository, string root, IReadOnlyCollection<string> folders)
    {
        // Every script of the folder and of its environment folders (not only the ones that call the API themselves).
        var all = repository.Files
            .Where(f => f.EndsWith(".sh", StringComparison.Ordinal) && !Segments(f).Any(IgnoredSegments.Contains))
            .Where(f => DirectoryOf(f) == root || folders.Contains(DirectoryOf(f)))
            .Order(StringComparer.Ordinal)
            .ToList();
        var common = all.Where(f => DirectoryOf(f) == root && !IsHelper(f)).ToList();
        var environments = all.Select(DirectoryOf).Where(d => d != root).Select(FileName)
            .Where(e => !HelperFolders.Contains(e)).Distinct().Order(StringComparer.Ordinal).ToList();
        var where = root.Length == 0 ? "the repository root" : root;
        var summary = environments.Count == 0
            ? $"Auth0 tenant scripts in {where} ({all.Count} scripts)"
            : $"Auth0 tenant scripts in {where} ({all.Count} scripts; environments: {string.Join(", ", environments)})";
        return new DetectedStack("auth0", "auth0", root, summary, new Dictionary<string, string>
        {
            ["scripts"] = string.Join(',', all),
            ["common"] = string.Join(',', common),
            ["environments"] = string.Join(',', environments),
        });
    }

    public BuildPlan PlanBuild(BuildPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var dir = context.Stack.Directory;
        var scripts = Shell.Quote(dir.Length == 0 ? "." : dir);
        // find (not the list known at planning time) so scripts added later are checked too.
        var find = $"find {scripts} -name '*.sh' -not -path '*/node_modules/*' -print0";
        return new BuildPlan([], [], [],
        [
            new JobSpec("check",
            [
                $"{find} | xargs -0 -r -n 1 bash -n",
                $"if command -v shellcheck >/dev/null 2>&1; then {find} | xargs -0 -r shellcheck --severity=warning; " +
                "else echo 'shellcheck is not installed on this runner; only the syntax was checked'; fi",
            ]),
        ]);
    }

    public DeployPlan PlanDeploy(DeployPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stack = context.Stack;
        var dir = stack.Directory;
        var server = context.Server;
        var environments = List(stack.Fact("environments"));
        var envFolder = environments.FirstOrDefault(e => string.Equals(e, server, StringComparison.OrdinalIgnoreCase));
        var prefix = dir.Length == 0 ? "" : dir + "/";
        var scripts = List(stack.Fact("common"))
            .Concat(envFolder is null ? [] : List(stack.Fact("scripts")).Where(s => DirectoryOf(s) == Shell.Path(dir, envFolder) && !IsHelper(s)))
            .Select(s => s.StartsWith(prefix, StringComparison.Ordinal) ? s[prefix.Length..] : s)
            .ToList();

        var commands = new List<string>
        {
            // Names only: the values come from the server's environment at deploy time.
            "missing=''; for name in AUTH0_DOMAIN AUTH0_CLIENT_ID AUTH0_CLIENT_SECRET; do [ -n \"${!name-}\" ] || missing=\"$missing $name\"; done; " +
            "[ -z \"$missing\" ] || { echo \"auth0: not set in this server's environment:$missing\" >&2; false; }",
            "command -v curl >/dev/null && command -v jq >/dev/null || { echo 'auth0: curl and jq must be installed on the runner' >&2; false; }",
            $"export AUTH0_ENV={Shell.Quote(server)} AUTH0_BASE_URL=\"${{AUTH0_BASE_URL:-https://$AUTH0_DOMAIN}}\"",
            // pipefail and the -n test: a failed request must not pass as an empty token (jq -e accepts empty input).
            // The secret goes to curl on stdin, never on a command line that `ps` shows; the audience is the tenant's
            // own API identifier even when AUTH0_BASE_URL points elsewhere (a proxy, a test server).
            "AUTH0_TOKEN=$(set -o pipefail; jq -n --arg id \"$AUTH0_CLIENT_ID\" --arg secret \"$AUTH0_CLIENT_SECRET\" --arg audience \"https://$AUTH0_DOMAIN/api/v2/\" " +
            "'{grant_type: \"client_credentials\", client_id: $id, client_secret: $secret, audience: $audience}' " +
            "| curl -fsS -X POST \"$AUTH0_BASE_URL/oauth/token\" -H 'Content-Type: application/json' --data-binary @- " +
            "| jq -er '.access_token') && [ -n \"$AUTH0_TOKEN\" ] && export AUTH0_TOKEN && echo \"auth0: got a management API token from $AUTH0_BASE_URL\" " +
            "|| { echo \"auth0: could not get a management API token from $AUTH0_BASE_URL/oauth/token\" >&2; false; }",
        };
        if (envFolder is null && environments.Count > 0)
            commands.Add($"echo {Shell.Quote($"auth0: no {Shell.Path(dir, server)} folder; running the common scripts only")}");
        commands.AddRange(scripts.Select(s => Shell.In(dir, $"bash {Shell.Quote(s)}")));
        return new DeployPlan(commands, Variables);
    }

    private static bool IsTenantScript(string path, string? text)
    {
        if (Segments(path).Any(s => s.Contains("auth0", StringComparison.OrdinalIgnoreCase))) return true;
        if (text is null) return false;
        return CurlCommand().IsMatch(text)
               && (text.Contains("/oauth/token", StringComparison.Ordinal) || text.Contains("/api/v2/", StringComparison.Ordinal));
    }

    private static bool IsHelper(string path) =>
        FileName(path).StartsWith('_') || Segments(path).Any(HelperFolders.Contains);

    private static IReadOnlyList<string> List(string? csv) => (csv ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The folders on a file's path (not its own name).</summary>
    private static string[] Segments(string path) => path.Split('/')[..^1];

    private static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static string DirectoryOf(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";

    /// <summary>curl in a command position (line start, after a pipe, ;, &amp;&amp;, $( or `), not in prose like "echo no curl".</summary>
    [GeneratedRegex(@"(^|[|;&(`!{]|\b(?:then|do|else|if|exec|time|command)\s)\s*curl(\s|$)", RegexOptions.Multiline)]
    private static partial Regex CurlCommand();
}
