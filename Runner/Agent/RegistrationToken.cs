namespace Kaizen.Runner.Agent;

/// <summary>
/// Where the console runner finds the portal's registration token: <c>--registration-token-file PATH</c>, else the
/// <see cref="Variable"/> environment variable, else <c>--registration-token VALUE</c> (which other processes can read
/// from the command line). Kept out of job environments: the runner never passes its own environment to a job.
/// </summary>
public static class RegistrationToken
{
    public const string Variable = "KAIZEN_REGISTRATION_TOKEN";

    /// <summary>The token from the first source that has one; null when none does.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="ArgumentException">The file is empty.</exception>
    public static string? Resolve(string? fromArgument, string? file, string? fromEnvironment)
    {
        if (file is not null)
        {
            var text = File.ReadAllText(file).Trim();
            if (text.Length == 0) throw new ArgumentException($"The registration token file '{file}' is empty.");
            return text;
        }
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return fromEnvironment.Trim();
        return string.IsNullOrWhiteSpace(fromArgument) ? null : fromArgument.Trim();
    }
}
