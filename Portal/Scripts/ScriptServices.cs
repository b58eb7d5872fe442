namespace Kaizen.Portal.Scripts;

public static class ScriptServices
{
    /// <summary>The shared script library: its store and the service the pages, the API and build planning use.</summary>
    public static IServiceCollection AddKaizenScripts(this IServiceCollection services)
    {
        services.AddSingleton<ScriptStore>();
        services.AddSingleton<ScriptLibrary>();
        services.AddSingleton<ScriptPlanner>();
        services.AddSingleton<ScriptGitSync>();
        return services;
    }
}
