using Kaizen.Sdk;

namespace Kaizen.Plugins.Node;

/// <summary>Node.js projects with yarn: install, test, lint, static sites.</summary>
public sealed class NodePlugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public PluginInfo Info { get; } = new("node", "Node / yarn", "0.1.0", "Kaizen", "Node.js projects with yarn: install, test, lint, static sites.");

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository) => [];

    public BuildPlan PlanBuild(BuildPlanContext context) => BuildPlan.Empty;

    public DeployPlan PlanDeploy(DeployPlanContext context) => new([], []);
}
