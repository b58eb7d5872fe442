namespace Kaizen.Portal.Debug;

public static class DebugServices
{
    public static IServiceCollection AddKaizenDebug(this IServiceCollection services)
    {
        services.AddSingleton<DebugSessionStore>();
        services.AddSingleton<TerminalHub>();
        services.AddSingleton<DebugSessionService>();
        services.AddSingleton<DebugDispatch>();
        services.AddHostedService<DebugSessionReaper>();
        return services;
    }
}
