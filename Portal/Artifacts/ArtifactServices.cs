using Kaizen.Portal.Storage;

namespace Kaizen.Portal.Artifacts;

public static class ArtifactServices
{
    /// <summary>Artifact metadata (bytes: the artifacts area of the blob storage) and the sweep of expired artifacts.</summary>
    public static IServiceCollection AddKaizenArtifacts(this IServiceCollection services)
    {
        services.AddKaizenStorage();
        services.AddSingleton<ArtifactStore>();
        services.AddSingleton<ArtifactService>();
        services.AddHostedService<ArtifactSweeper>();
        return services;
    }
}
