using Kaizen.Sdk;

namespace Kaizen.Plugins.Gradle;

/// <summary>Gradle builds (Kotlin or Java), with or without the wrapper.</summary>
public sealed class GradlePlugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public PluginInfo Info { get; } = new("gradle", "Kotlin / Gradle", "0.1.0", "Kaizen", "Gradle builds (Kotlin or Java), with or without the wrapper.");

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository) => [];

    public BuildPlan PlanBuild(BuildPlanContext context) => BuildPlan.Empty;

    public DeployPlan PlanDeploy(DeployPlanContext context) => new([], []);
}
