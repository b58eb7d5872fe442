namespace Kaizen.Sdk;

/// <summary>
/// The entry type of a plugin. The portal creates it once, with a public parameterless constructor, right after
/// loading the plugin's assembly, then calls <see cref="Configure"/> with its settings from <c>plugins.json</c>.
/// A plugin implements this together with one or more extension points: <see cref="IStackDetector"/>,
/// <see cref="IBuildPlanner"/>, <see cref="IDeployPlanner"/>.
/// </summary>
/// <remarks>
/// Plugins run inside the portal at planning time and return data; they never run commands themselves, never touch
/// the network, and never see secret values (they name variables instead). Every call may be made concurrently from
/// several threads, so keep plugins stateless after <see cref="Configure"/>. An exception thrown by a plugin marks it
/// as failed with that message; the portal and other plugins carry on.
/// </remarks>
public interface IKaizenPlugin
{
    PluginInfo Info { get; }

    /// <summary>Receives the plugin's <c>settings</c> object from <c>plugins.json</c> (string values).</summary>
    void Configure(PluginSettings settings)
    {
    }
}

/// <summary>Finds the stacks this plugin knows in a repository (e.g. a Python package in <c>backend/</c>).</summary>
public interface IStackDetector : IKaizenPlugin
{
    /// <summary>Every occurrence of the plugin's stack in the repository, or an empty list.</summary>
    IReadOnlyList<DetectedStack> Detect(IRepositoryView repository);
}

/// <summary>Suggests how to build a detected stack: tools, caches, setup commands and parallel jobs.</summary>
public interface IBuildPlanner : IKaizenPlugin
{
    BuildPlan PlanBuild(BuildPlanContext context);
}

/// <summary>Suggests how to deploy a detected stack to a server (staging, production, ...).</summary>
public interface IDeployPlanner : IKaizenPlugin
{
    DeployPlan PlanDeploy(DeployPlanContext context);
}
