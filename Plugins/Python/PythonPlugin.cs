using Kaizen.Sdk;

namespace Kaizen.Plugins.Python;

/// <summary>Python projects built with tox, pytest and flake8.</summary>
public sealed class PythonPlugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public PluginInfo Info { get; } = new("python", "Python / tox", "0.1.0", "Kaizen", "Python projects built with tox, pytest and flake8.");

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository) => [];

    public BuildPlan PlanBuild(BuildPlanContext context) => BuildPlan.Empty;

    public DeployPlan PlanDeploy(DeployPlanContext context) => new([], []);
}
