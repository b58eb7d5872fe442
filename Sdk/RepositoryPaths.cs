namespace Kaizen.Sdk;

/// <summary>
/// Helpers for the paths of an <see cref="IRepositoryView"/> ('/'-separated, relative to the root; "" is the root),
/// for plugins that look for projects anywhere in a repository.
/// </summary>
public static class RepositoryPaths
{
    // Folders that hold installed or generated code, never a project of their own.
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "node_modules", "venv", "env", "__pycache__", "site-packages", "bower_components",
    };

    /// <summary>False for files in dependency, virtualenv and hidden folders (.git, .tox, .venv, ...).</summary>
    public static bool IsSource(string path)
    {
        var segments = path.Split('/');
        for (var i = 0; i < segments.Length - 1; i++)
        {
            if (segments[i].StartsWith('.') || Ignored.Contains(segments[i])) return false;
        }

        return true;
    }

    public static string DirectoryOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..slash];
    }

    public static string NameOf(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>True when <paramref name="path"/> is inside <paramref name="directory"/> (any depth; "" contains all).</summary>
    public static bool IsUnder(string path, string directory) =>
        directory.Length == 0 || path.StartsWith(directory + "/", StringComparison.Ordinal);

    /// <summary>Directories with a marker file, outermost only: a project's docs/requirements.txt is not a second project.</summary>
    public static IReadOnlyList<string> Roots(IEnumerable<string> directories)
    {
        var roots = new List<string>();
        foreach (var directory in directories.Distinct().OrderBy(d => d.Length == 0 ? 0 : d.Count(c => c == '/') + 1).ThenBy(d => d, StringComparer.Ordinal))
        {
            if (!roots.Any(r => r == directory || IsUnder(directory, r))) roots.Add(directory);
        }

        return roots;
    }

    /// <summary>A cache or job name part for a directory: "backend/api" → "backend-api"; only [A-Za-z0-9._+-].</summary>
    public static string Slug(string text) =>
        new(text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-' ? c : '-').ToArray());

    public static string? Read(IRepositoryView repository, string directory, string name) =>
        repository.ReadText(Shell.Path(directory, name));
}
