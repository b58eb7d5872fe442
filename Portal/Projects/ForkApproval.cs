namespace Kaizen.Portal.Projects;

/// <summary>
/// Which builds of pull requests from forks wait for a member's approval before any of their code runs, per project.
/// A fork's code is anyone's code: even without secrets it gets a runner's time and network, so by default every
/// such build waits.
/// </summary>
public static class ForkApproval
{
    /// <summary>Every build of a pull request from a fork waits (the default).</summary>
    public const string Always = "always";

    /// <summary>Only authors who have never had a fork build of this project approved or run wait.</summary>
    public const string FirstTime = "first-time";

    /// <summary>Fork builds run at once (still without secrets).</summary>
    public const string Never = "never";

    public static readonly IReadOnlyList<string> Modes = [Always, FirstTime, Never];

    /// <summary>What each mode means, in one sentence a person choosing it reads.</summary>
    public static string Describe(string mode) => mode switch
    {
        Always => "Every build of a fork's pull request waits for a member's approval.",
        FirstTime => "Only contributors whose fork builds were never approved or run here before wait for approval.",
        Never => "Fork builds run at once (still without secrets).",
        _ => mode,
    };

    /// <summary>Why <paramref name="mode"/> is not a mode, or null when it is.</summary>
    public static string? Error(string? mode) =>
        mode is not null && !Modes.Contains(mode)
            ? $"'{mode}' is not a fork pull request approval; use one of: {string.Join(", ", Modes)}."
            : null;
}
