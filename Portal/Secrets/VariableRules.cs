using System.Text;
using System.Text.RegularExpressions;

namespace Kaizen.Portal.Secrets;

/// <summary>What a variable's or secret's name, value and file path may be; each rule answers with a message a person can act on.</summary>
public static partial class VariableRules
{
    public const int MaxNameLength = 200;
    public const int MaxValueBytes = 64 * 1024;
    public const int MaxFilePathLength = 500;

    /// <summary>Kaizen sets variables with this prefix for every job, so people may not define their own.</summary>
    public const string ReservedPrefix = "KAIZEN_";

    public const string NameRule =
        "A name is an environment variable name: letters, digits and underscores, not starting with a digit " +
        "(like AWS_ACCESS_KEY_ID), and not starting with KAIZEN_ (reserved for the variables Kaizen sets).";

    /// <summary>Null when <paramref name="name"/> is a valid name, else why not.</summary>
    public static string? NameError(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "The name is empty. " + NameRule;
        if (name.Length > MaxNameLength) return $"The name is longer than {MaxNameLength} characters. " + NameRule;
        if (!NamePattern().IsMatch(name)) return $"'{name}' is not a valid name. " + NameRule;
        if (name.StartsWith(ReservedPrefix, StringComparison.OrdinalIgnoreCase))
            return $"'{name}' starts with {ReservedPrefix}, which is reserved for the variables Kaizen sets. Choose another name.";
        return null;
    }

    /// <summary>Null when <paramref name="value"/> can be stored (as a secret when <paramref name="secret"/>), else why not.</summary>
    public static string? ValueError(string? value, bool secret, bool asFile)
    {
        if (value is null) return "Send the value: { \"value\": \"...\" }.";
        // An empty secret could not be masked in logs, and is surely a mistake.
        if (secret && value.Length == 0) return "A secret's value cannot be empty.";
        // The runner masks values of at least this length; a shorter secret would be printed in the clear.
        if (secret && !asFile && value.Length < Kaizen.Runner.Execution.SecretMasker.MinimumLength)
            return $"A secret must be at least {Kaizen.Runner.Execution.SecretMasker.MinimumLength} characters long, or it could not be masked in logs.";
        if (Encoding.UTF8.GetByteCount(value) > MaxValueBytes)
            return $"The value is larger than {MaxValueBytes / 1024} KiB; keep large files in a store the job downloads from.";
        if (!asFile && value.Contains('\0'))
            return "An environment variable cannot hold a NUL character; send the value as a file (\"file\": \"path\") instead.";
        return null;
    }

    /// <summary>Null when <paramref name="path"/> is a relative path inside the job's workspace, else why not.</summary>
    public static string? FilePathError(string path)
    {
        const string rule = "A file path is relative to the job's workspace, with forward slashes and no '.' or '..' parts " +
                            "(like \"secrets/deploy-key.pem\").";
        if (path.Length == 0) return "The file path is empty. " + rule;
        if (path.Length > MaxFilePathLength) return $"The file path is longer than {MaxFilePathLength} characters. " + rule;
        if (path.StartsWith('/') || path.Contains('\\') || path.Contains(':') || path.Any(char.IsControl))
            return $"'{path}' is not a relative path. " + rule;
        if (path.Split('/').Any(part => part is "" or "." or ".."))
            return $"'{path}' has an empty, '.' or '..' part. " + rule;
        return null;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex NamePattern();
}
