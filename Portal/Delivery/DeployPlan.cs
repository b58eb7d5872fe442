using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Kaizen.Portal.Builds;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Delivery;

/// <summary>Where the version of a shared script a deploy runs comes from.</summary>
public static class ScriptSource
{
    /// <summary>A deploy command or the setup names the version itself (<c>run-script name@3</c>).</summary>
    public const string Pinned = "pinned";

    /// <summary>The build's snapshot: the newest version when the build was created.</summary>
    public const string Build = "build";

    /// <summary>The newest version now: a build from before snapshots, or a script made after the build.</summary>
    public const string Latest = "latest";
}

/// <summary>A shared script a deploy runs, and why that version (<see cref="ScriptSource"/>).</summary>
public sealed record DeployScript(string Name, int Version, string Source)
{
    public string Target => $"{Name}@{Version}";
}

/// <summary>
/// What a deploy runs: the setup commands (its build's snapshot, or the project's current ones for a build from before
/// snapshots: <see cref="FromSnapshot"/> false), the server's deploy commands, and the version of each shared script.
/// <see cref="Job"/> is the job a runner gets, scripts expanded.
/// </summary>
public sealed record DeployPlan(
    IReadOnlyList<string> Setup, IReadOnlyList<string> Commands, IReadOnlyList<DeployScript> Scripts, bool FromSnapshot, NewJob Job)
{
    /// <summary>The plan of a deploy that ran, read back from its job's recorded commands (a script's steps left out).</summary>
    public static DeployPlan FromCommands(IReadOnlyList<CommandRow> commands, bool fromSnapshot)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var top = commands.Where(c => c.ParentIdx is null).OrderBy(c => c.Idx).ToList();
        var scripts = top.Where(c => c is { ScriptName: not null, ScriptVersion: not null })
            .Select(c => new DeployScript(c.ScriptName!, c.ScriptVersion!.Value,
                Kaizen.Portal.Scripts.ScriptReference.Parse(c.Text, out _) is { Version: not null } ? ScriptSource.Pinned
                : fromSnapshot ? ScriptSource.Build : ScriptSource.Latest))
            .Distinct().ToList();
        var job = new NewJob("", commands.Select(c => new JobCommand(c.Idx, BuildStore.ParsePhase(c.Phase), c.Text)).ToList());
        return new DeployPlan(
            top.Where(c => c.Phase == BuildStore.PhaseName(CommandPhase.Setup)).Select(c => c.Text).ToList(),
            top.Where(c => c.Phase == BuildStore.PhaseName(CommandPhase.Main)).Select(c => c.Text).ToList(),
            scripts, fromSnapshot, job);
    }
}

/// <summary>One line of a change between two deploys: <see cref="Change"/> is <c>added</c>, <c>removed</c> or <c>same</c>.</summary>
public sealed record PlanLine(string Change, string Text)
{
    public const string Added = "added";
    public const string Removed = "removed";
    public const string Same = "same";
}

/// <summary>A part of a deploy (<c>setup</c>, <c>commands</c>, <c>scripts</c>) and its lines compared with the last deploy.</summary>
public sealed record PlanSection(string Name, IReadOnlyList<PlanLine> Lines)
{
    public bool Changed => Lines.Any(l => l.Change != PlanLine.Same);
}

/// <summary>What changed between the server's last deploy and the one to approve, section by section.</summary>
public static class DeployChanges
{
    public static IReadOnlyList<PlanSection> Between(DeployPlan? before, DeployPlan after)
    {
        ArgumentNullException.ThrowIfNull(after);
        return
        [
            new("setup", Lines(before?.Setup ?? [], after.Setup)),
            new("commands", Lines(before?.Commands ?? [], after.Commands)),
            new("scripts", Lines(Versions(before), Versions(after))),
        ];
    }

    private static List<string> Versions(DeployPlan? plan) =>
        plan is null ? [] : plan.Scripts.Select(s => s.Target).Distinct().Order(StringComparer.Ordinal).ToList();

    private static List<PlanLine> Lines(IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        // One line per command: a command's own line breaks (a here-document) stay inside it.
        static string Text(IEnumerable<string> lines) => string.Join('\n', lines.Select(l => l.Replace("\r", "").Replace('\n', '⏎')));
        if (before.Count == 0 && after.Count == 0) return [];
        var diff = InlineDiffBuilder.Diff(Text(before), Text(after), ignoreWhiteSpace: false);
        return diff.Lines.Where(l => l.Type != ChangeType.Imaginary)
            .Where(l => !(l.Text.Length == 0 && ((l.Type == ChangeType.Deleted && before.Count == 0) || (l.Type == ChangeType.Inserted && after.Count == 0))))
            .Select(l => new PlanLine(l.Type switch
            {
                ChangeType.Inserted => PlanLine.Added,
                ChangeType.Deleted => PlanLine.Removed,
                _ => PlanLine.Same,
            }, l.Text)).ToList();
    }
}

/// <summary>A deploy with what it runs (<see cref="Plan"/>), the server's last deploy that ran before it
/// (<see cref="Previous"/>, null for a first deploy) and what changed since (<see cref="Changes"/>).</summary>
public sealed record DeployPreview(DeployRow Deploy, DeployPlan Plan, DeployRow? Previous, IReadOnlyList<PlanSection> Changes);
