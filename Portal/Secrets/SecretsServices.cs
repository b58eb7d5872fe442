using Microsoft.AspNetCore.DataProtection;

namespace Kaizen.Portal.Secrets;

public static class SecretsServices
{
    /// <summary>
    /// Data Protection with its keys in <see cref="SecretsOptions.KeysDirectory"/> (so secrets and sign-in cookies
    /// survive restarts and moves of the binaries), the variable store and what hands values to jobs.
    /// </summary>
    public static IServiceCollection AddKaizenSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        var kaizen = configuration.GetSection(KaizenOptions.Section).Get<KaizenOptions>() ?? new KaizenOptions();
        var keys = kaizen.Secrets.ResolveKeysDirectory(kaizen);
        CreatePrivateDirectory(keys);
        // A fixed application name: by default keys are isolated per content root, which changes with every
        // installation folder and would make every saved secret unreadable after an upgrade.
        services.AddDataProtection()
            .SetApplicationName("Kaizen")
            .PersistKeysToFileSystem(new DirectoryInfo(keys));
        services.AddSingleton<VariableStore>();
        services.AddSingleton<VariableChanges>();
        services.AddSingleton<JobEnvironmentProvider>();
        return services;
    }

    /// <summary>The keys are as sensitive as the secrets: only the portal's user may read them.</summary>
    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
