using Kaizen.Sdk;

namespace Kaizen.Plugins.Serverless;

/// <summary>Serverless Framework services: package in CI, deploy per stage.</summary>
public sealed class ServerlessPlugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public PluginInfo Info { get; } = new("serverless", "Serverless Framework", "0.1.0", "Kaizen", "Serverless Framework services: package in CI, deploy per stage.");

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository) => [];

    public BuildPlan PlanBuild(BuildPlanContext context) => BuildPlan.Empty;

    public DeployPlan PlanDeploy(DeployPlanContext context) => new([], []);
}
