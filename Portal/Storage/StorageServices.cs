using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Storage;

public static class StorageServices
{
    /// <summary>
    /// One <see cref="IBlobStorage"/> per area, keyed by <see cref="BlobAreas"/>: folders on disk by default
    /// (Kaizen:Artifacts:Directory, Kaizen:Caches:Directory). An object-storage implementation replaces these two
    /// registrations and nothing else.
    /// </summary>
    public static IServiceCollection AddKaizenStorage(this IServiceCollection services)
    {
        services.AddKeyedSingleton<IBlobStorage>(BlobAreas.Artifacts, (sp, _) =>
        {
            var options = sp.GetRequiredService<IOptions<KaizenOptions>>().Value;
            return new DiskBlobStorage(options.Artifacts.ResolveDirectory(options));
        });
        services.AddKeyedSingleton<IBlobStorage>(BlobAreas.Caches, (sp, _) =>
        {
            var options = sp.GetRequiredService<IOptions<KaizenOptions>>().Value;
            return new DiskBlobStorage(options.Caches.ResolveDirectory(options));
        });
        return services;
    }
}
