namespace Kaizen.Portal.Artifacts;

/// <summary>Where an artifact belongs: one job, its whole build, or the project's downloads.</summary>
public static class ArtifactScope
{
    public const string Job = "job";
    public const string Build = "build";
    public const string Project = "project";

    public static bool IsKnown(string? scope) => scope is Job or Build or Project;
}

/// <summary>
/// Artifact names are relative paths such as <c>cli/cli-1.4.0.tar.gz</c>: segments of letters, digits and
/// <c>. _ - + @ = , ~</c>, never <c>.</c> or <c>..</c>, so a name can neither leave its folder nor smuggle a control
/// character into a header, a log line or a file name. The bytes are never stored under the name itself.
/// </summary>
public static class ArtifactNames
{
    public const int MaxLength = 300;
    public const int MaxSegments = 8;

    /// <summary>Why <paramref name="name"/> is not a valid artifact name, or null when it is.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "The artifact name is empty.";
        if (name.Length > MaxLength) return $"The artifact name is longer than {MaxLength} characters.";
        if (name.Any(char.IsControl)) return "The artifact name holds a control character (NUL, newline, ...).";
        if (name.StartsWith('/')) return "The artifact name is an absolute path; use a relative one such as cli/cli-1.0.tar.gz.";
        var segments = name.Split('/');
        if (segments.Length > MaxSegments) return $"The artifact name has more than {MaxSegments} folders.";
        foreach (var segment in segments)
        {
            if (segment.Length == 0) return "The artifact name has an empty folder (// or a trailing /).";
            if (segment is "." or "..") return "The artifact name may not hold . or .. segments.";
            if (segment.Any(c => !IsAllowed(c)))
                return "The artifact name may hold only letters, digits, / and . _ - + @ = , ~";
        }
        return null;
    }

    /// <summary>The folder part of a name ("" for a name without one).</summary>
    public static string Folder(string name)
    {
        var slash = name.LastIndexOf('/');
        return slash < 0 ? "" : name[..slash];
    }

    /// <summary>The file part of a name.</summary>
    public static string FileName(string name) => name[(name.LastIndexOf('/') + 1)..];

    /// <summary>
    /// For <c>cli/latest.tar.gz</c>: the folder <c>cli</c> and the suffix <c>.tar.gz</c> that the newest file must end
    /// with; null when the name's file part is not <c>latest</c> or <c>latest.*</c>.
    /// </summary>
    public static (string Folder, string Suffix)? Latest(string name)
    {
        var file = FileName(name);
        if (file == "latest") return (Folder(name), "");
        return file.StartsWith("latest.", StringComparison.Ordinal) ? (Folder(name), file["latest".Length..]) : null;
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+' or '@' or '=' or ',' or '~';
}
