using Bunit;
using MudBlazor.Services;

namespace Kaizen.Portal.Tests.Components.Logs;

/// <summary>
/// A bUnit context with MudBlazor and permissive JS interop (scrolling calls do nothing here). Disposed
/// asynchronously because some MudBlazor services only implement <see cref="IAsyncDisposable"/>.
/// </summary>
public abstract class LogComponentsTestContext : BunitContext, IAsyncLifetime
{
    /// <summary>Generous: a loaded CI machine can take seconds to render.</summary>
    protected static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    protected LogComponentsTestContext()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public new async Task DisposeAsync() => await base.DisposeAsync();
}
