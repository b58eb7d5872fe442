using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kaizen.Portal.Delivery;

/// <summary>What a person sets on a server; <see cref="Validate"/> says what is wrong with it, in words they can act on.</summary>
public sealed partial record ServerSpec(
    string Name,
    IReadOnlyList<string> Commands,
    string TriggerMode,
    string BranchPattern,
    int Approvals,
    string Deployers)
{
    public const int MaxApprovals = 10;
    public const int MaxCommands = 200;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IReadOnlyList<string> ParseCommands(string json) => JsonSerializer.Deserialize<List<string>>(json, Json) ?? [];

    public string CommandsJson => JsonSerializer.Serialize(Commands, Json);

    /// <summary>The spec with names and commands trimmed and blank commands dropped.</summary>
    public ServerSpec Normalized() => this with
    {
        Name = Name.Trim(),
        Commands = Commands.Select(c => c.Trim()).Where(c => c.Length > 0).ToList(),
        TriggerMode = TriggerMode.Trim().ToLowerInvariant(),
        BranchPattern = BranchPattern.Trim(),
        Deployers = Deployers.Trim().ToLowerInvariant(),
    };

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Text.DisplayNames.Problem(Name, "A server name") is { } shown) errors.Add(shown);
        else if (!NamePattern().IsMatch(Name))
            errors.Add("A server name is 1 to 50 letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. staging, production).");
        if (Commands.Count == 0) errors.Add("Add at least one deploy command.");
        if (Commands.Count > MaxCommands) errors.Add($"A server has at most {MaxCommands} deploy commands.");
        if (TriggerMode is not (Delivery.TriggerMode.Automatic or Delivery.TriggerMode.Manual))
            errors.Add($"The trigger mode is 'automatic' or 'manual', not '{TriggerMode}'.");
        if (TriggerMode == Delivery.TriggerMode.Automatic && BranchPattern.Length == 0)
            errors.Add("An automatic server needs the branch whose passed builds it deploys (e.g. develop, or release/*).");
        if (BranchPatterns.Error(BranchPattern) is { } patternError) errors.Add(patternError);
        if (Approvals is < 0 or > MaxApprovals) errors.Add($"Approvals are between 0 and {MaxApprovals}.");
        if (Deployers is not (Delivery.Deployers.Members or Delivery.Deployers.Admins))
            errors.Add($"Who may deploy is 'members' (members and admins) or 'admins', not '{Deployers}'.");
        return errors;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")]
    private static partial Regex NamePattern();
}

/// <summary>
/// Branch patterns of servers: a branch name (<c>develop</c>), a pattern where <c>*</c> stands for any characters
/// (<c>release/*</c>), several separated by commas (<c>main, hotfix/*</c>), or empty for any branch.
/// </summary>
public static class BranchPatterns
{
    public static bool Matches(string pattern, string branch)
    {
        if (string.IsNullOrWhiteSpace(pattern)) return true;
        return pattern.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(p => Glob(p, branch));
    }

    public static string? Error(string pattern)
    {
        if (pattern.Length > 400) return "The branch pattern is at most 400 characters.";
        foreach (var part in pattern.Split(',', StringSplitOptions.TrimEntries))
        {
            if (pattern.Length > 0 && part.Length == 0) return "The branch pattern has an empty entry between commas.";
            if (part.Any(c => char.IsWhiteSpace(c) || c is '~' or '^' or ':' or '?' or '[' or '\\'))
                return $"'{part}' cannot be a branch name; use names and '*', separated by commas.";
        }
        return null;
    }

    private static bool Glob(string pattern, string text)
    {
        // Iterative wildcard match: '*' matches any run of characters, everything else itself.
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && pattern[p] == text[t]) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = t; }
            else if (star >= 0) { p = star + 1; t = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
