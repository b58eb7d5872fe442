namespace Kaizen.Portal.Artifacts;

public static class ArtifactServices
{
    /// <summary>Artifact metadata, the disk storage, and the sweep of expired artifacts.</summary>
    public static IServiceCollection AddKaizenArtifacts(this IServiceCollection services)
    {
        services.AddSingleton<ArtifactStore>();
        services.AddSingleton<IArtifactStorage, DiskArtifactStorage>();
        services.AddSingleton<ArtifactService>();
        services.AddHostedService<ArtifactSweeper>();
        return services;
    }
}
