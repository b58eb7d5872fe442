using System.Security.Claims;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Git;
using Kaizen.Portal.Projects;
using Kaizen.Sdk;

namespace Kaizen.Portal.Plugins;

/// <summary>A stack found in a project and what its plugin suggests (or why it could not).</summary>
public sealed record StackSuggestion(DetectedStack Stack, string PluginName, BuildPlan? Plan, IReadOnlyList<JobSettings> Jobs, string? Error);

/// <summary>A deploy a stack's plugin suggests: its commands, the variables it needs and which of them are missing.</summary>
public sealed record DeploySuggestion(
    DetectedStack Stack, string PluginName, IReadOnlyList<string> Commands, IReadOnlyList<string> RequiredVariables,
    IReadOnlyList<string> MissingVariables, string? Error);

/// <summary>Detects stacks at a project's default branch head and turns plugins' plans into build settings.</summary>
public sealed class StackService(PluginHost host, ProjectStore projects, ProjectService projectService, GitMirror git,
    BuildSettingsChanges settingsChanges, SettingsSourceStore sources)
{
    /// <param name="refresh">Fetch the repository first (false: use the mirror as it is, for overview pages).</param>
    public async Task<Outcome<IReadOnlyList<StackSuggestion>>> DetectAsync(ProjectRow project, CancellationToken ct, bool refresh = true)
    {
        var detected = await WithStacksAsync(project, refresh, ct, (view, plugin, detected) =>
        {
            if (plugin.Instance is not IBuildPlanner planner) return new StackSuggestion(detected, plugin.Name, null, [], null);
            var plan = host.Invoke(plugin, () => planner.PlanBuild(new BuildPlanContext(view, detected)), "planning a build");
            return new StackSuggestion(detected, plugin.Name, plan, [], plan is null ? plugin.Error : null);
        });
        return detected.Ok ? Outcome<IReadOnlyList<StackSuggestion>>.Of(Compose(detected.Value!)) : detected;
    }

    /// <summary>
    /// Suggestions of several stacks made into one whole: a folder cached by two plans (a Serverless service's
    /// node_modules and its Node stack's) is one cache, under the name and key of the plan that came first, so it is
    /// stored once and every job restores the same entry. Then each plan becomes jobs (<see cref="Render"/>).
    /// </summary>
    public static IReadOnlyList<StackSuggestion> Compose(IReadOnlyList<StackSuggestion> suggestions)
    {
        ArgumentNullException.ThrowIfNull(suggestions);
        var byPath = new Dictionary<string, CacheSpec>(StringComparer.Ordinal);
        var result = new List<StackSuggestion>(suggestions.Count);
        foreach (var s in suggestions)
        {
            if (s.Plan is not { } plan)
            {
                result.Add(s);
                continue;
            }
            var caches = new List<CacheSpec>();
            var notes = new List<string>(plan.Notes ?? []);
            foreach (var cache in plan.Caches)
            {
                var owner = cache.Paths.Select(p => byPath.GetValueOrDefault(NormalPath(p))).FirstOrDefault(c => c is not null);
                if (owner is null)
                {
                    foreach (var path in cache.Paths) byPath[NormalPath(path)] = cache;
                    caches.Add(cache);
                }
                else if (!caches.Contains(owner))
                {
                    caches.Add(owner);
                    notes.Add($"{string.Join(", ", cache.Paths)} is cached once, as '{owner.Name}' (another stack's suggestion caches it too).");
                }
            }
            var composed = plan with { Caches = caches, Notes = notes };
            result.Add(s with { Plan = composed, Jobs = Render(s.Stack, composed) });
        }
        return result;
    }

    private static string NormalPath(string path)
    {
        path = path.Trim().TrimEnd('/');
        while (path.StartsWith("./", StringComparison.Ordinal)) path = path[2..];
        return path;
    }

    /// <summary>
    /// What the plugins of the detected stacks would run to deploy to <paramref name="server"/>: each plan's tools, then
    /// its commands, as plain timed commands. <paramref name="variables"/> are the names (never values) the deploy's
    /// environment will define; the ones a plan needs but that are missing are listed so people define them first.
    /// </summary>
    public async Task<Outcome<IReadOnlyList<DeploySuggestion>>> PlanDeploysAsync(ProjectRow project, string server,
        IReadOnlyCollection<string> variables, CancellationToken ct)
    {
        var planned = await WithStacksAsync(project, refresh: true, ct, (view, plugin, detected) =>
        {
            if (plugin.Instance is not IDeployPlanner planner) return null;
            var plan = host.Invoke(plugin, () => planner.PlanDeploy(new DeployPlanContext(view, detected, server, variables)), "planning a deploy");
            if (plan is null) return new DeploySuggestion(detected, plugin.Name, [], [], [], plugin.Error);
            var defined = variables.ToHashSet(StringComparer.OrdinalIgnoreCase);
            return new DeploySuggestion(detected, plugin.Name,
                [.. (plan.Tools ?? []).Select(ToolCommand), .. plan.Commands],
                plan.RequiredVariables, plan.RequiredVariables.Where(v => !defined.Contains(v)).ToList(), null);
        });
        return planned.Ok ? Outcome<IReadOnlyList<DeploySuggestion>>.Of(OwnedDeploys(planned.Value!)) : planned;
    }

    /// <summary>
    /// A folder that a stack deploys as a whole (a Serverless service: <c>ownsDeploy</c>) gets only that stack's deploy:
    /// a Node stack in the same folder would otherwise also offer to sync it to a bucket.
    /// </summary>
    public static IReadOnlyList<DeploySuggestion> OwnedDeploys(IReadOnlyList<DeploySuggestion> suggestions)
    {
        ArgumentNullException.ThrowIfNull(suggestions);
        var owned = suggestions.Where(s => s.Stack.Fact("ownsDeploy") == "true").Select(s => s.Stack.Directory).ToHashSet(StringComparer.Ordinal);
        return suggestions.Where(s => s.Stack.Fact("ownsDeploy") == "true" || !owned.Contains(s.Stack.Directory)).ToList();
    }

    /// <summary>Runs <paramref name="each"/> for every stack the plugins detect at the default branch's head.</summary>
    private async Task<Outcome<IReadOnlyList<T>>> WithStacksAsync<T>(ProjectRow project, bool refresh, CancellationToken ct,
        Func<IRepositoryView, PluginState, DetectedStack, T?> each) where T : class
    {
        IReadOnlyList<BranchRow> heads;
        if (refresh)
        {
            var branches = await projectService.RefreshBranchesAsync(project.Id, project.GitUrl, ct);
            if (!branches.Ok) return Outcome<IReadOnlyList<T>>.Fail(Problem.Invalid, branches.Message!);
            heads = branches.Value!;
        }
        else
        {
            heads = await projects.BranchesAsync(project.Id, ct);
        }
        var head = heads.FirstOrDefault(b => b.Name == project.DefaultBranch);
        if (head is null)
            return Outcome<IReadOnlyList<T>>.Fail(Problem.NotFound, $"The default branch '{project.DefaultBranch}' does not exist any more.");

        using var view = await GitRepositoryView.OpenAsync(git.MirrorPath(project.Id), head.HeadSha, ct);
        if (view is null) return Outcome<IReadOnlyList<T>>.Fail(Problem.Invalid, "Could not read the repository's files.");

        var found = new List<T>();
        foreach (var (plugin, detector) in host.Extensions<IStackDetector>())
        {
            var stacks = host.Invoke(plugin, () => detector.Detect(view), "detecting stacks");
            foreach (var stack in stacks ?? [])
            {
                // The plugin that found a stack plans it; its id is stamped so suggestions can be traced back.
                if (each(view, plugin, stack with { PluginId = plugin.Id }) is { } item) found.Add(item);
            }
        }
        return Outcome<IReadOnlyList<T>>.Of(found);
    }

    /// <summary>Adds every suggested job whose name is not in the settings yet (so applying twice changes nothing), as a
    /// change by <paramref name="user"/>.</summary>
    public async Task<Outcome<BuildSettings>> ApplyAsync(ProjectRow project, ClaimsPrincipal? user, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(project);
        if ((await sources.GetAsync(project.Id, ct)).InRepository)
            return Outcome<BuildSettings>.Fail(Problem.Conflict, BuildSettingsChanges.InRepositoryMessage(project.Slug) +
                " The suggested jobs are listed with the stacks: add them to the file.");
        var detected = await DetectAsync(project, ct);
        if (!detected.Ok) return Outcome<BuildSettings>.Fail(detected.Problem!.Value, detected.Message!);
        var settings = (await projects.FindBySlugAsync(project.Slug, ct))?.Settings ?? project.Settings;
        var existing = settings.HasBlocks ? settings.Blocks!.SelectMany(b => b.Jobs) : settings.Jobs;
        var names = existing.Select(j => j.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var added = detected.Value!.SelectMany(s => s.Jobs).Where(j => names.Add(j.Name)).ToList();
        if (added.Count == 0) return Outcome<BuildSettings>.Of(settings);
        // Settings with blocks get the suggestions as a block of their own that starts with the build.
        var changed = settings.HasBlocks
            ? settings with { Blocks = [.. settings.Blocks!, new BlockSettings(SuggestedBlockName(settings.Blocks!), added, Dependencies: [])] }
            : settings with { Jobs = [.. settings.Jobs, .. added] };
        var saved = await settingsChanges.SaveAsync(project, changed, user, SettingsSources.StackSuggestions, ct);
        if (saved.InRepository) return Outcome<BuildSettings>.Fail(Problem.Conflict, saved.Errors[0]);
        return saved.Ok
            ? Outcome<BuildSettings>.Of(saved.Saved!)
            : Outcome<BuildSettings>.Fail(Problem.Invalid, "The suggested jobs could not be added: " + string.Join(" ", saved.Errors));
    }

    private static string SuggestedBlockName(IReadOnlyList<BlockSettings> blocks)
    {
        var taken = blocks.Select(b => b.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var name = "suggested";
        for (var n = 2; taken.Contains(name); n++) name = $"suggested {n}";
        return name;
    }

    /// <summary>
    /// A plan as jobs of build settings: each job installs its tools, restores its caches, runs the plan's setup (the
    /// install), stores the caches the setup fills right after it (<see cref="CacheSpec.StoreAfterSetup"/>: a job whose
    /// tests fail still keeps its install for the next build; a key already stored is skipped), runs its own commands,
    /// then stores the caches those commands fill (reached only when they passed). Every step is a plain,
    /// timed command using the runner's <c>kaizen</c> shell function, so people can read and edit it. The JUnit files a
    /// plan's job writes become the job's test reports, uploaded after it ends.
    /// </summary>
    public static IReadOnlyList<JobSettings> Render(DetectedStack stack, BuildPlan plan)
    {
        var prefix = string.IsNullOrEmpty(stack.Directory) || stack.Directory == "." ? stack.Stack : $"{stack.Stack} ({stack.Directory})";
        var tools = plan.Tools.Select(ToolCommand).ToList();
        var restore = plan.Caches.Select(c => CacheCommand("restore", c)).ToList();
        var storeEarly = plan.Caches.Where(c => c.StoreAfterSetup).Select(c => CacheCommand("store", c)).ToList();
        var storeLate = plan.Caches.Where(c => !c.StoreAfterSetup).Select(c => CacheCommand("store", c)).ToList();
        return plan.Jobs
            .Select(job => new JobSettings($"{prefix}: {job.Name}", [.. tools, .. restore, .. plan.Setup, .. storeEarly, .. job.Commands, .. storeLate],
                job.TestReports is { Count: > 0 } reports ? reports : null,
                job.Coverage is { Count: > 0 } coverage ? coverage : null))
            .ToList();
    }

    public static string ToolCommand(ToolSpec tool)
    {
        var paths = string.Concat(tool.PathEntries.Select(p => $" --path {Shell.Quote(p)}"));
        return $"kaizen tool use {Shell.Quote(tool.Name)} {Shell.Quote(tool.Version)}{paths} -- {Shell.Quote(string.Join(" && ", tool.Install))}";
    }

    public static string CacheCommand(string verb, CacheSpec cache) =>
        $"kaizen cache {verb} {Shell.Quote(cache.Name)} {string.Join(' ', cache.KeyFiles.Select(Shell.Quote))} -- {string.Join(' ', cache.Paths.Select(Shell.Quote))}";
}
