using Kaizen.Sdk;

namespace Kaizen.Plugins.Auth0;

/// <summary>Bash scripts that manage an Auth0 tenant with curl and jq.</summary>
public sealed class Auth0Plugin : IStackDetector, IBuildPlanner, IDeployPlanner
{
    public PluginInfo Info { get; } = new("auth0", "Auth0 tenant scripts", "0.1.0", "Kaizen", "Bash scripts that manage an Auth0 tenant with curl and jq.");

    public IReadOnlyList<DetectedStack> Detect(IRepositoryView repository) => [];

    public BuildPlan PlanBuild(BuildPlanContext context) => BuildPlan.Empty;

    public DeployPlan PlanDeploy(DeployPlanContext context) => new([], []);
}
