using Kaizen.Portal.Builds;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;

namespace Kaizen.Portal.Scripts;

/// <summary>
/// A <c>run-script</c> command of a planned job: the command at <see cref="Index"/> is the script's section, resolved
/// to <see cref="Name"/>@<see cref="Version"/> when the build was created, and the next <see cref="Steps"/> commands
/// are its top-level commands.
/// </summary>
public sealed record PlannedScript(int Index, string Name, int Version, int Steps);

/// <summary>
/// Turns the <c>run-script</c> lines of planned jobs into script sections with one command per top-level command,
/// resolving each to a version at that moment (the latest, or the pinned one). The versions are recorded with the
/// build's commands, so a later change of the script never changes a build that already ran (or its reruns of jobs).
/// A line that does not resolve (the script was deleted since the settings were saved) is kept as it is: the job's
/// shell then says why it cannot run it.
/// </summary>
public sealed class ScriptPlanner(ScriptStore store)
{
    /// <summary>The build with its jobs' <c>run-script</c> lines expanded. <paramref name="recorded"/> (a rerun's: the
    /// versions its original build ran) stands in for "latest" of the scripts it names.</summary>
    public async Task<NewBuild> ExpandAsync(NewBuild build, CancellationToken ct = default,
        IReadOnlyDictionary<string, int>? recorded = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        if (!build.Jobs.Any(j => j.Commands.Any(c => ScriptReference.IsScriptCommand(c.Text)))) return build;
        var cache = new Dictionary<(string, int?), ScriptVersion?>();
        foreach (var (name, version) in recorded ?? new Dictionary<string, int>())
            cache[(name, null)] = await store.VersionAsync(name, version, ct);
        var jobs = new List<NewJob>();
        foreach (var job in build.Jobs) jobs.Add(await ExpandAsync(job, cache, ct));
        return build with { Jobs = jobs };
    }

    /// <summary>
    /// One job (a deploy's) with its <c>run-script</c> lines expanded. With the <paramref name="snapshot"/> of the build it
    /// deploys, a script named without a version runs the version the build recorded, or, for a script the build did not
    /// record (named by deploy commands changed since), the newest version that existed when the build was created: a
    /// version published afterwards never runs in a deploy of that build. Without one (a build from before snapshots),
    /// the newest version runs. <c>FromSnapshot</c> names the scripts whose version the build decided.
    /// </summary>
    public async Task<(NewJob Job, IReadOnlySet<string> FromSnapshot)> ExpandAsync(NewJob job, BuildSnapshot? snapshot,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var cache = new Dictionary<(string, int?), ScriptVersion?>();
        if (snapshot is not null)
        {
            foreach (var (name, version) in snapshot.Unpinned) cache[(name, null)] = await store.VersionAsync(name, version, ct);
            foreach (var command in job.Commands)
            {
                if (ScriptReference.Parse(command.Text, out _) is not { Version: null } reference || cache.ContainsKey((reference.Name, null)))
                    continue;
                var then = (await store.VersionsAsync(reference.Name, ct)).Where(v => v.CreatedAt <= snapshot.TakenAt)
                    .MaxBy(v => v.Version);
                // A script made after the build has no version from its time: its newest runs, and the approval page says so.
                if (then is not null) cache[(reference.Name, null)] = then;
            }
        }
        var decided = cache.Where(e => e.Value is not null).Select(e => e.Key.Item1).ToHashSet(StringComparer.Ordinal);
        return (await ExpandAsync(job, cache, ct), decided);
    }

    /// <summary>
    /// The snapshot of a build about to be created from <paramref name="settings"/>: the settings, the script versions its
    /// <paramref name="expanded"/> jobs resolved, and the versions the project's servers' deploy commands resolve to now
    /// (<paramref name="recorded"/> stands in for "latest", as for the jobs of a rerun).
    /// </summary>
    public async Task<BuildSnapshot> SnapshotAsync(string projectSlug, BuildSettings settings, NewBuild expanded,
        CancellationToken ct = default, IReadOnlyDictionary<string, int>? recorded = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(expanded);
        var scripts = new HashSet<Builds.SnapshotScript>();
        foreach (var job in expanded.Jobs)
        {
            foreach (var planned in job.Scripts ?? [])
            {
                var text = job.Commands.First(c => c.Index == planned.Index).Text;
                var pinned = ScriptReference.Parse(text, out _) is { Version: not null };
                scripts.Add(new Builds.SnapshotScript(planned.Name, planned.Version, pinned));
            }
        }
        foreach (var server in (await store.ServerCommandsAsync(ct)).Where(s => s.ProjectSlug == projectSlug))
        {
            foreach (var command in Delivery.ServerSpec.ParseCommands(server.CommandsJson))
            {
                if (ScriptReference.Parse(command, out _) is not { } reference) continue;
                if (reference.Version is { } pinned)
                {
                    if (await store.VersionAsync(reference.Name, pinned, ct) is not null)
                        scripts.Add(new Builds.SnapshotScript(reference.Name, pinned, true));
                    continue;
                }
                if (scripts.Any(s => s.Name == reference.Name && !s.Pinned)) continue;
                int? version = recorded is not null && recorded.TryGetValue(reference.Name, out var again) ? again
                    : await store.FindAsync(reference.Name, ct) is { DeletedAt: null } script ? script.LatestVersion : null;
                if (version is { } v) scripts.Add(new Builds.SnapshotScript(reference.Name, v, false));
            }
        }
        var ordered = scripts.OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Version).ToList();
        return new BuildSnapshot(settings, ordered, 0);
    }

    private async Task<NewJob> ExpandAsync(NewJob job, Dictionary<(string, int?), ScriptVersion?> cache, CancellationToken ct)
    {
        if (!job.Commands.Any(c => ScriptReference.IsScriptCommand(c.Text))) return job;
        var commands = new List<JobCommand>();
        var scripts = new List<PlannedScript>();
        foreach (var command in job.Commands.OrderBy(c => c.Index))
        {
            var reference = ScriptReference.Parse(command.Text, out _);
            var version = reference is null ? null : await ResolveAsync(reference, cache, ct);
            if (reference is null || version is null)
            {
                commands.Add(command with { Index = commands.Count });
                continue;
            }
            var section = commands.Count;
            var steps = Steps(version.Body);
            commands.Add(new JobCommand(section, command.Phase, command.Text.Trim()));
            foreach (var step in steps) commands.Add(new JobCommand(commands.Count, command.Phase, step));
            scripts.Add(new PlannedScript(section, version.Name, version.Version, steps.Count));
        }
        return job with { Commands = commands, Scripts = scripts };
    }

    /// <summary>At most this many steps per script: the rest of a longer script runs (and is timed) in its last step,
    /// so a generated script of thousands of lines does not make a log of thousands of sections.</summary>
    public const int MaxSteps = 300;

    /// <summary>The texts of a script's steps: its top-level commands, the last one holding any beyond <see cref="MaxSteps"/>.</summary>
    internal static List<string> Steps(string body)
    {
        var spans = BashSplitter.Split(body);
        var steps = spans.Take(MaxSteps).Select(s => s.TextOf(body)).ToList();
        if (spans.Count > MaxSteps)
        {
            var last = spans[MaxSteps - 1];
            steps[^1] = body[last.Start..(spans[^1].Start + spans[^1].Length)];
        }
        return steps;
    }

    private async Task<ScriptVersion?> ResolveAsync(ScriptReference reference, Dictionary<(string, int?), ScriptVersion?> cache,
        CancellationToken ct)
    {
        if (cache.TryGetValue((reference.Name, reference.Version), out var known)) return known;
        ScriptVersion? version = null;
        if (reference.Version is { } pinned)
        {
            version = await store.VersionAsync(reference.Name, pinned, ct);
        }
        else if (await store.FindAsync(reference.Name, ct) is { DeletedAt: null } script)
        {
            version = await store.VersionAsync(reference.Name, script.LatestVersion, ct);
        }
        cache[(reference.Name, reference.Version)] = version;
        return version;
    }

    /// <summary>
    /// The versions a build ran for its unpinned <c>run-script</c> lines, by script name (the newest when jobs differed):
    /// what a rerun of it runs again, so a retry is a retry of the same text.
    /// </summary>
    public static IReadOnlyDictionary<string, int> Recorded(IEnumerable<Builds.CommandRow> commands) => commands
        .Where(c => c is { ScriptName: not null, ScriptVersion: not null } && ScriptReference.Parse(c.Text, out _) is { Version: null })
        .GroupBy(c => c.ScriptName!)
        .ToDictionary(g => g.Key, g => g.Max(c => c.ScriptVersion!.Value));

    /// <summary>
    /// The script a runner runs for a section: the recorded version's text, split again into its steps, each matched to
    /// the job command recorded for it. Null when the version is gone (never, as versions are kept).
    /// </summary>
    internal static ScriptCall? Call(ScriptVersion version, string sectionText, IReadOnlyList<int> stepIndexes)
    {
        var reference = ScriptReference.Parse(sectionText, out _);
        var spans = BashSplitter.Split(version.Body);
        // Both splits are made by the same code from the same immutable text, so they agree; should a newer portal
        // split differently, the extra top-level commands simply run inside the previous step.
        // Zip stops at the shorter list: beyond MaxSteps, the rest runs inside the last step.
        var steps = spans.Zip(stepIndexes, (span, index) => new ScriptStep(index, span.Start)).ToList();
        return new ScriptCall(version.Name, version.Version, reference?.Arguments ?? "", version.Body, steps);
    }
}
