using System.Globalization;
using System.Text.RegularExpressions;
using Kaizen.Portal.Builds;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kaizen.Portal.Components.Settings;

/// <summary>One thing to fix in a settings text, with the line it is on when that is known.</summary>
public sealed record YamlProblem(int? Line, string Message);

/// <summary>
/// What a settings text says, as the Edit YAML dialog checks it while someone types: the YAML's own errors first (they
/// stop the reading), then what <see cref="BuildSettings.Validate"/> finds, each placed on the line its JSON path points
/// at. <see cref="Settings"/> is set only when the text can be applied as it is.
/// </summary>
public sealed partial record SettingsYamlCheck(BuildSettings? Settings, IReadOnlyList<YamlProblem> Problems, string Status)
{
    /// <summary>Whether the text can be applied.</summary>
    public bool Ok => Settings is not null && Problems.Count == 0;

    /// <summary>Longest text read at all: the most the settings may hold. A larger paste is refused before any parsing.</summary>
    public const int MaxLength = BuildSettings.MaxTotalLength;

    public static SettingsYamlCheck Of(string? text)
    {
        text ??= "";
        if (text.Length > MaxLength) return TooLong(text.Length);
        if (string.IsNullOrWhiteSpace(text))
            return Refused("Nothing to apply",
                "The text is empty. Write the settings here or paste a settings file; the smallest settings are one job:\n" +
                "jobs:\n  - name: test\n    commands:\n      - make test");

        try
        {
            return Read(text);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A reader's bug on some half-typed text must not end the page's connection and take the typed text with it.
            return Refused("1 problem", $"The text could not be read ({e.Message}); check the lines you changed last.");
        }
    }

    private static SettingsYamlCheck Read(string text)
    {
        var (settings, errors) = BuildSettingsYaml.FromYaml(text);
        if (settings is null)
        {
            var read = errors.Select(e => new YamlProblem(LineOf(e), e)).ToList();
            return new(null, read, Count(read.Count));
        }
        var invalid = settings.Validate();
        if (invalid.Count == 0) return new(settings, [], Summary(settings));

        var root = Root(text);
        var problems = invalid.Select(e => LineOfPath(root, e) is { } line
            ? new YamlProblem(line, $"Line {line}: {e}")
            : new YamlProblem(null, e)).ToList();
        return new(null, problems, Count(problems.Count));
    }

    /// <summary>The refusal of a text of <paramref name="length"/> characters, more than <see cref="MaxLength"/>.</summary>
    public static SettingsYamlCheck TooLong(long length) => Refused("Too long",
        $"The text has {length:N0} characters; build settings hold at most {MaxLength:N0}, so it was not read. " +
        "Long scripts belong in the repository or the script library; remove them here and call them from a command.");

    private static SettingsYamlCheck Refused(string status, string message) => new(null, [new YamlProblem(null, message)], status);

    private static string Count(int problems) => problems == 1 ? "1 problem" : $"{problems} problems";

    private static string Summary(BuildSettings settings)
    {
        var jobs = Pipeline.CountJobs(settings);
        var jobText = jobs == 1 ? "1 job" : $"{jobs:N0} jobs";
        if (!settings.HasBlocks) return $"No problems: {jobText}";
        var blocks = settings.Blocks!.Count;
        return $"No problems: {(blocks == 1 ? "1 block" : $"{blocks} blocks")}, {jobText}";
    }

    /// <summary>The line a reading error names ("Line 3, column 5: …").</summary>
    private static int? LineOf(string error)
    {
        var m = LeadingLine().Match(error);
        return m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    private static YamlNode? Root(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null;
        }
        catch (YamlException)
        {
            return null; // read once already by FromYaml, so this does not happen; without a tree there is no line to say
        }
    }

    /// <summary>The line of the deepest node a problem's JSON path (<c>blocks[1].dependencies[0]</c>) reaches in the text.</summary>
    private static int? LineOfPath(YamlNode? root, string error)
    {
        if (root is null || SettingsErrors.PathOf(error) is not { } path) return null;
        var node = root;
        int? line = null;
        foreach (Match step in PathStep().Matches(path[2..]))
        {
            if (step.Groups["key"].Success)
            {
                var key = step.Groups["key"].Value;
                if (node is not YamlMappingNode map) break;
                var entry = map.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: var k } && k == key);
                if (entry.Key is null) break;
                // The key's own line: a list under it starts on the next line, the key is what a person looks for.
                line = (int)entry.Key.Start.Line;
                node = entry.Value;
            }
            else
            {
                var index = int.Parse(step.Groups["index"].Value, CultureInfo.InvariantCulture);
                if (node is not YamlSequenceNode list || index >= list.Children.Count) break;
                node = list.Children[index];
                line = (int)node.Start.Line;
            }
        }
        return line;
    }

    [GeneratedRegex(@"^Line (\d+), column \d+:")]
    private static partial Regex LeadingLine();

    [GeneratedRegex(@"(?<key>[A-Za-z_][A-Za-z0-9_]*)|\[(?<index>\d+)\]")]
    private static partial Regex PathStep();
}
