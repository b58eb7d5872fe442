using System.Text.Json;
using Kaizen.Sdk;

namespace Kaizen.Plugins.Node;

/// <summary>
/// One folder with a package.json and a yarn.lock, read once for detection and again for planning. A package.json
/// that is not valid JSON gives a project with <see cref="Problem"/> set and no scripts, never an exception.
/// </summary>
internal sealed record NodeProject(
    string Directory,
    IReadOnlyDictionary<string, string> Scripts,
    IReadOnlySet<string> Dependencies,
    string YarnVersion,
    bool Berry,
    string? Problem)
{
    public const string DefaultYarnVersion = "1.22.22";

    public static NodeProject Read(IRepositoryView repository, string directory, string defaultYarnVersion = DefaultYarnVersion)
    {
        var scripts = new Dictionary<string, string>(StringComparer.Ordinal);
        var dependencies = new HashSet<string>(StringComparer.Ordinal);
        string? problem = null;
        string? packageManager = null;
        var text = repository.ReadText(Shell.Path(directory, "package.json"));
        if (text is null)
        {
            problem = "package.json could not be read (binary or larger than 1 MiB)";
        }
        else
        {
            try
            {
                using var json = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    problem = "package.json is not a JSON object";
                }
                else
                {
                    if (root.TryGetProperty("scripts", out var s) && s.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var script in s.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
                        {
                            scripts[script.Name] = script.Value.GetString()!;
                        }
                    }

                    foreach (var section in new[] { "dependencies", "devDependencies" })
                    {
                        if (root.TryGetProperty(section, out var d) && d.ValueKind == JsonValueKind.Object)
                        {
                            dependencies.UnionWith(d.EnumerateObject().Select(p => p.Name));
                        }
                    }

                    if (root.TryGetProperty("packageManager", out var pm) && pm.ValueKind == JsonValueKind.String)
                    {
                        packageManager = pm.GetString();
                    }
                }
            }
            catch (JsonException ex)
            {
                problem = $"package.json is not valid JSON ({ex.Message.Split(". ")[0]})";
            }
        }

        // "yarn@1.22.19+sha512.…" pins classic yarn; yarn 2+ (berry) shows in packageManager, the lockfile or .yarnrc.yml.
        var pinned = packageManager is not null && packageManager.StartsWith("yarn@", StringComparison.Ordinal)
            ? packageManager["yarn@".Length..].Split('+')[0]
            : null;
        var berry = (pinned is not null && !pinned.StartsWith("1.", StringComparison.Ordinal))
                    || (repository.ReadText(Shell.Path(directory, "yarn.lock"))?.Contains("__metadata:", StringComparison.Ordinal) ?? false)
                    || repository.Exists(Shell.Path(directory, ".yarnrc.yml"));
        var version = pinned is not null && IsVersion(pinned) ? pinned : berry ? "stable" : defaultYarnVersion;
        return new NodeProject(directory, scripts, dependencies, version, berry, problem);
    }

    public bool HasScript(string name) => Scripts.ContainsKey(name);

    /// <summary>
    /// Where <c>yarn build</c> writes the site, guessed from the tools the build uses: Create React App writes
    /// <c>build/</c>, Vite, Vue CLI, Parcel, webpack, Rollup and Angular <c>dist/</c>, a Next.js export <c>out/</c>.
    /// </summary>
    public string SiteDirectory()
    {
        var build = Scripts.GetValueOrDefault("build", "");
        bool Uses(string tool) => build.Contains(tool, StringComparison.Ordinal) || Dependencies.Contains(tool);
        if (Uses("react-scripts")) return "build";
        if (Uses("next")) return "out";
        if (new[] { "vite", "@vue/cli-service", "parcel", "webpack", "rollup", "@angular/cli", "astro" }.Any(Uses)) return "dist";
        return "build";
    }

    /// <summary>True when the test script runs jest and jest-junit is installed, so a JUnit report can be asked for.</summary>
    public bool CanReportJUnit =>
        Dependencies.Contains("jest-junit") && Scripts.TryGetValue("test", out var test)
        && (test.Contains("jest", StringComparison.Ordinal) || test.Contains("react-scripts test", StringComparison.Ordinal));

    public IReadOnlyDictionary<string, string> Facts()
    {
        var facts = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["scripts"] = string.Join(',', Scripts.Keys),
            ["yarn"] = YarnVersion,
        };
        if (Berry) facts["berry"] = "true";
        if (HasScript("build")) facts["siteDir"] = SiteDirectory();
        if (Problem is not null) facts["problems"] = Problem;
        return facts;
    }

    public string Summary()
    {
        if (Problem is not null) return $"yarn project; {Problem}";
        var used = new[] { "test", "lint", "build" }.Where(HasScript).ToList();
        return used.Count == 0
            ? $"yarn {YarnVersion} project without test, lint or build scripts"
            : $"yarn {YarnVersion} project with scripts {string.Join(", ", used)}";
    }

    private static bool IsVersion(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
}
