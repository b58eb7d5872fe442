using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Execution;

/// <summary>A file secret where the runner writes it: <see cref="Path"/> is full, its variable holds it.</summary>
internal sealed record SecretFile(string Name, string Path, string Value);

/// <summary>
/// A job's secrets on the runner's side: checking them, the variables they give the shell, and their files. A file
/// secret's relative path is under the workspace (and may not leave it through <c>..</c> or a symbolic link the
/// repository brought); an absolute path is taken as is. Files are created fresh with mode 0600, parent folders as
/// needed, and deleted at the end of the job.
/// </summary>
internal static class JobSecrets
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The masker for <paramref name="secrets"/>, every value registered.</summary>
    public static SecretMasker Masker(IReadOnlyList<JobSecret> secrets) => SecretMasker.Of(secrets.Select(s => s.Value));

    /// <summary>Why <paramref name="secrets"/> cannot be used in <paramref name="workspace"/>, or null with the files to write.
    /// <paramref name="hostPath"/> says where an absolute path as the job sees it is on the runner's host (a sandbox
    /// shows its home and /tmp from folders of the job's own), or why it cannot be written there; null: the same path.</summary>
    public static string? Check(
        IReadOnlyList<JobSecret> secrets, string workspace, out List<SecretFile> files, Func<string, (string? Path, string? Error)>? hostPath = null)
    {
        files = [];
        foreach (var secret in secrets)
        {
            if (string.IsNullOrEmpty(secret.Name) || secret.Name.Contains('=') || secret.Name.Contains('\0'))
            {
                return "A secret has an invalid variable name (empty, or with '=' or a NUL character).";
            }

            if (secret.Value is null || (secret.Value.Contains('\0') && secret.FilePath is null))
            {
                return "A secret has no value, or an environment secret's value holds a NUL character.";
            }

            if (secret.FilePath is not { } filePath)
            {
                continue;
            }

            var path = FullPath(workspace, filePath);
            if (path is null)
            {
                return $"The secret file path '{filePath}' leaves the workspace; use a relative path inside it or an absolute path.";
            }

            if (hostPath is not null && Path.IsPathRooted(filePath) && !IsUnder(path, workspace))
            {
                var (onHost, error) = hostPath(path);
                if (onHost is null)
                {
                    return error ?? $"The secret file path '{filePath}' cannot be written for this job.";
                }

                path = onHost;
            }

            files.Add(new SecretFile(secret.Name, path, secret.Value));
        }

        return null;
    }

    /// <summary>Variables for the job's shell: environment secrets by value, file secrets by their file's full path.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Variables(IReadOnlyList<JobSecret> secrets, string workspace)
    {
        foreach (var secret in secrets)
        {
            if (secret.FilePath is null)
            {
                yield return new(secret.Name, secret.Value);
            }
            else if (FullPath(workspace, secret.FilePath) is { } path)
            {
                yield return new(secret.Name, path);
            }
        }
    }

    /// <summary>Writes the files (the workspace exists by now); returns why one could not be written, or null. <paramref name="written"/> gets each file made.</summary>
    public static string? Write(IReadOnlyList<SecretFile> files, string workspace, List<string> written)
    {
        foreach (var file in files)
        {
            try
            {
                var directory = Path.GetDirectoryName(file.Path)!;
                if (IsUnder(file.Path, workspace) && LeavesThroughLink(workspace, directory) is { } link)
                {
                    return $"The secret file '{file.Path}' would be written through the symbolic link '{link}'; secret files are not written through links.";
                }

                Directory.CreateDirectory(directory);
                var existing = new FileInfo(file.Path);
                if (existing.Exists || existing.LinkTarget is not null)
                {
                    File.Delete(file.Path); // a file from the repository is replaced; a link is removed, not followed
                }
                else if (Directory.Exists(file.Path))
                {
                    return $"The secret file '{file.Path}' would replace a folder.";
                }

                // CreateNew does not follow a link at the last step, and the file is never readable by others.
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = OwnerOnly;
                }

                using (var stream = new FileStream(file.Path, options))
                {
                    stream.Write(System.Text.Encoding.UTF8.GetBytes(file.Value));
                }

                written.Add(file.Path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return $"Could not write the secret file '{file.Path}': {ex.Message}";
            }
        }

        return null;
    }

    /// <summary>Deletes the files written; best effort.</summary>
    public static void Delete(IEnumerable<string> written)
    {
        foreach (var path in written)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The workspace goes anyway; an absolute path outside it is the job's choice.
            }
        }
    }

    /// <summary>The full path of a secret file, or null when a relative path leaves the workspace or names the workspace itself.</summary>
    internal static string? FullPath(string workspace, string filePath)
    {
        if (filePath.Length == 0 || filePath.Contains('\0'))
        {
            return null;
        }

        if (Path.IsPathRooted(filePath))
        {
            return Path.GetFullPath(filePath);
        }

        var full = Path.GetFullPath(Path.Combine(workspace, filePath));
        return IsUnder(full, workspace) ? full : null;
    }

    private static bool IsUnder(string path, string workspace)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(workspace)) + Path.DirectorySeparatorChar;
        return path.StartsWith(root, StringComparison.Ordinal) && path.Length > root.Length;
    }

    /// <summary>The first symbolic link between <paramref name="workspace"/> and <paramref name="directory"/> (inclusive), if any.</summary>
    private static string? LeavesThroughLink(string workspace, string directory)
    {
        var relative = Path.GetRelativePath(workspace, directory);
        if (relative == ".")
        {
            return null;
        }

        var current = Path.TrimEndingDirectorySeparator(Path.GetFullPath(workspace));
        foreach (var part in relative.Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, part);
            var info = new DirectoryInfo(current);
            if (info.LinkTarget is not null)
            {
                return Path.GetRelativePath(workspace, current);
            }

            if (!info.Exists)
            {
                return null; // created fresh from here on
            }
        }

        return null;
    }
}
