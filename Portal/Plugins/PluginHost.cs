using System.Text.Json;
using Kaizen.Sdk;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Plugins;

public static class PluginStatus
{
    public const string Loaded = "loaded";
    public const string Disabled = "disabled";
    public const string Failed = "failed";
}

/// <summary>One plugin as the portal sees it: what plugins.json says, and what came of loading it.</summary>
public sealed class PluginState
{
    public required string Id { get; init; }
    public required string Path { get; init; }
    public string Name { get; set; } = "";
    public string Version { get; set; } = "";
    public string Author { get; set; } = "";
    public string Description { get; set; } = "";
    public string Status { get; set; } = PluginStatus.Failed;
    public string? Error { get; set; }
    public IKaizenPlugin? Instance { get; set; }
    public bool IsLoaded => Status == PluginStatus.Loaded && Instance is not null;
}

/// <summary>
/// Loads the plugins listed in plugins.json with McMaster.NETCore.Plugins, sharing only Sdk types with them.
/// A plugin that is missing, fails to load, or throws while planning is marked failed with its reason; nothing else
/// is affected.
/// </summary>
public sealed class PluginHost : IDisposable
{
    private readonly KaizenOptions _options;
    private readonly ILogger<PluginHost> _logger;
    private readonly List<PluginLoader> _loaders = [];
    private readonly Lazy<IReadOnlyList<PluginState>> _plugins;

    public PluginHost(IOptions<KaizenOptions> options, IHostEnvironment environment, ILogger<PluginHost> logger)
    {
        _options = options.Value;
        _logger = logger;
        File = ResolveFile(_options, environment.ContentRootPath);
        _plugins = new(() => LoadAll(File, _logger, _loaders));
    }

    /// <summary>Every plugin listed in plugins.json (loaded on first use).</summary>
    public IReadOnlyList<PluginState> Plugins => _plugins.Value;

    /// <summary>The plugins.json the portal loads (it may not exist).</summary>
    public string File { get; }

    public IEnumerable<(PluginState Plugin, T Extension)> Extensions<T>() where T : class =>
        Plugins.Where(p => p.IsLoaded && p.Instance is T).Select(p => (p, (T)p.Instance!));

    /// <summary>Runs a plugin call; an exception marks the plugin failed (for every later use) and returns null.</summary>
    public TResult? Invoke<TResult>(PluginState plugin, Func<TResult> call, string what) where TResult : class
    {
        try
        {
            return call();
        }
        catch (Exception ex)
        {
            plugin.Status = PluginStatus.Failed;
            plugin.Error = $"threw while {what}: {ex.GetType().Name}: {ex.Message}";
            _logger.LogError(ex, "Plugin {Plugin} threw while {What}; it is now marked failed", plugin.Id, what);
            return null;
        }
    }

    /// <summary>
    /// <c>Kaizen:Plugins:File</c> when set, else plugins.json in the content root (beside the portal's binaries, where
    /// the build copies the repository's). Never searched for: a plugins.json someone leaves in the working directory or
    /// a folder above it would load their code into the portal.
    /// </summary>
    public static string ResolveFile(KaizenOptions options, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrWhiteSpace(options.Plugins.File)
            ? Path.Combine(Path.GetFullPath(contentRoot), "plugins.json")
            : Path.GetFullPath(options.Plugins.File);
    }

    private static IReadOnlyList<PluginState> LoadAll(string file, ILogger logger, List<PluginLoader> loaders)
    {
        if (!System.IO.File.Exists(file))
        {
            logger.LogInformation("No plugins.json at {File}; no stack plugins are loaded", file);
            return [];
        }

        PluginsFile? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<PluginsFile>(System.IO.File.ReadAllText(file),
                new JsonSerializerOptions(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            logger.LogError("{File} is not valid JSON ({Error}); no plugins are loaded", file, ex.Message);
            return [new PluginState { Id = "plugins.json", Path = file, Name = "plugins.json", Status = PluginStatus.Failed, Error = $"not valid JSON: {ex.Message}" }];
        }

        var states = new List<PluginState>();
        var baseDir = Path.GetDirectoryName(file)!;
        foreach (var entry in parsed?.Plugins ?? [])
        {
            var state = new PluginState
            {
                Id = string.IsNullOrWhiteSpace(entry.Id) ? $"plugin-{states.Count + 1}" : entry.Id.Trim(),
                Path = string.IsNullOrWhiteSpace(entry.Path) ? "" : Path.GetFullPath(Path.Combine(baseDir, entry.Path)),
            };
            state.Name = state.Id;
            states.Add(state);
            if (states.Count(s => s.Id == state.Id) > 1)
            {
                state.Error = $"another plugin in plugins.json already has the id '{state.Id}'";
                continue;
            }
            if (entry.Enabled == false)
            {
                state.Status = PluginStatus.Disabled;
                continue;
            }
            Load(state, entry.Settings ?? [], loaders, logger);
        }
        logger.LogInformation("Plugins from {File}: {Summary}", file,
            string.Join(", ", states.Select(s => $"{s.Id} ({s.Status})")));
        return states;
    }

    private static void Load(PluginState state, Dictionary<string, string> settings, List<PluginLoader> loaders, ILogger logger)
    {
        try
        {
            var assembly = AssemblyPath(state.Path);
            if (assembly is null)
            {
                state.Error = state.Path.Length == 0
                    ? "plugins.json gives no path for it"
                    : $"nothing to load at {state.Path} (build the plugin, or fix its path in plugins.json)";
                return;
            }
            var loader = PluginLoader.CreateFromAssemblyFile(assembly, sharedTypes: [typeof(IKaizenPlugin)],
                config => config.PreferSharedTypes = true);
            loaders.Add(loader);
            var entryTypes = loader.LoadDefaultAssembly().GetTypes()
                .Where(t => typeof(IKaizenPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                .ToList();
            if (entryTypes.Count != 1)
            {
                state.Error = entryTypes.Count == 0
                    ? $"{Path.GetFileName(assembly)} has no public class implementing Kaizen.Sdk.IKaizenPlugin"
                    : $"{Path.GetFileName(assembly)} has {entryTypes.Count} classes implementing IKaizenPlugin; keep one";
                return;
            }
            var plugin = (IKaizenPlugin)Activator.CreateInstance(entryTypes[0])!;
            plugin.Configure(new PluginSettings(settings));
            var info = plugin.Info;
            state.Name = info.Name;
            state.Version = info.Version;
            state.Author = info.Author;
            state.Description = info.Description;
            state.Instance = plugin;
            state.Status = PluginStatus.Loaded;
        }
        catch (Exception ex)
        {
            var root = ex is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : ex;
            state.Status = PluginStatus.Failed;
            state.Error = $"failed to load: {root.GetType().Name}: {root.Message}";
            logger.LogError(root, "Plugin {Plugin} failed to load from {Path}", state.Id, state.Path);
        }
    }

    /// <summary>The plugin's main assembly: the path itself, or in a folder the assembly named like its .deps.json.</summary>
    private static string? AssemblyPath(string path)
    {
        if (System.IO.File.Exists(path)) return path;
        if (!Directory.Exists(path)) return null;
        var deps = Directory.GetFiles(path, "*.deps.json");
        var dll = deps.Length == 1 ? Path.Combine(path, Path.GetFileName(deps[0])[..^".deps.json".Length] + ".dll") : null;
        if (dll is not null && System.IO.File.Exists(dll)) return dll;
        var dlls = Directory.GetFiles(path, "*.dll").Where(d => !d.EndsWith("Kaizen.Sdk.dll", StringComparison.Ordinal)).ToArray();
        return dlls.Length == 1 ? dlls[0] : null;
    }

    public void Dispose()
    {
        foreach (var loader in _loaders) loader.Dispose();
    }

    private sealed record PluginsFile(List<PluginEntry>? Plugins);

    private sealed record PluginEntry(string? Id, string? Path, bool? Enabled, Dictionary<string, string>? Settings);
}
