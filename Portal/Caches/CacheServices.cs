using Kaizen.Portal.Storage;

namespace Kaizen.Portal.Caches;

public static class CacheServices
{
    /// <summary>Cache metadata and the service over the caches area of the blob storage.</summary>
    public static IServiceCollection AddKaizenCaches(this IServiceCollection services)
    {
        services.AddKaizenStorage();
        services.AddSingleton<CacheStore>();
        services.AddSingleton<CacheService>();
        return services;
    }
}
