namespace Kaizen.Sdk;

/// <summary>Helpers for writing the bash commands plugins suggest.</summary>
public static class Shell
{
    /// <summary>Quotes a value for bash so it stays one word whatever it contains.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or '=' or ':' or '@' or ','))
            return value;
        return "'" + value.Replace("'", "'\\''") + "'";
    }

    /// <summary>A command run from <paramref name="directory"/> (relative to the repository root; "" is the root).</summary>
    public static string In(string directory, string command) =>
        string.IsNullOrEmpty(directory) || directory == "." ? command : $"(cd {Quote(directory)} && {command})";

    /// <summary>A path under <paramref name="directory"/>, '/' separated.</summary>
    public static string Path(string directory, string path) =>
        string.IsNullOrEmpty(directory) || directory == "." ? path : $"{directory.TrimEnd('/')}/{path}";
}
