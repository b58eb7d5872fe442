namespace Kaizen.Portal.Builds;

/// <summary>
/// What a branch name a caller gives may look like before it reaches git: git's own rules for a ref name
/// (<c>git check-ref-format</c>) and a length no hosting service exceeds. A name that breaks them is refused with what
/// is wrong, never passed to a process (a megabyte-long argument fails there with the server's paths in the error).
/// </summary>
public static class BranchNames
{
    public const int MaxLength = 255;

    /// <summary>Why <paramref name="name"/> cannot be a branch, or null when it can.</summary>
    public static string? Problem(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length > MaxLength) return $"A branch name is at most {MaxLength} characters; this one has {name.Length:N0}.";
        if (name.Any(c => char.IsControl(c) || c is ' ' or '~' or '^' or ':' or '?' or '*' or '[' or '\\'))
            return "A branch name cannot contain spaces, control characters or any of ~ ^ : ? * [ \\.";
        if (name.StartsWith('-') || name.StartsWith('/') || name.EndsWith('/') || name.EndsWith('.') || name.EndsWith(".lock", StringComparison.Ordinal)
            || name.Contains("..", StringComparison.Ordinal) || name.Contains("//", StringComparison.Ordinal) || name.Contains("@{", StringComparison.Ordinal)
            || name == "@" || name.Split('/').Any(part => part.StartsWith('.')))
            return $"'{(name.Length <= 60 ? name : name[..60] + "…")}' is not a valid branch name (see git check-ref-format).";
        return null;
    }
}
