using Kaizen.Portal.Auth;
using Kaizen.Portal.Hosting;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Kaizen.Portal.Components.Layout;

/// <summary>
/// Tells admins, on every page, that the portal's storage is degraded (<see cref="StorageHealth"/>), and why; appears and
/// goes away live as the storage checks change. Others see nothing: they meet a clear 507 when a write fails.
/// </summary>
public sealed partial class StorageBanner : ComponentBase, IDisposable
{
    [Inject] private StorageHealth Health { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    private bool _admin;
    private IDisposable? _subscription;

    protected override async Task OnInitializedAsync()
    {
        _admin = Auth is not null && (await Auth).User.IsInRole(Roles.Admin);
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender || !_admin) return;
        _subscription = Health.Subscribe(() => InvokeAsync(StateHasChanged));
        // A change between the first render and the subscription would otherwise wait for the next one.
        _ = InvokeAsync(StateHasChanged);
    }

    public void Dispose() => _subscription?.Dispose();
}
