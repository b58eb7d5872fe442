using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace Kaizen.Portal.Components.Pages.Debug;

/// <summary>
/// A debug session's terminal: xterm.js in the browser, connected through the portal's WebSocket to the PTY on the
/// runner. Tells the page when the server reports a change (status, expiry) and when the connection drops or comes back;
/// the page reloads the session itself, so the service stays the one source of truth.
/// </summary>
public sealed partial class DebugTerminal : ComponentBase, IAsyncDisposable
{
    [Inject] private IJSRuntime JS { get; set; } = default!;

    /// <summary>The debug session whose terminal this is (give the component <c>@key</c> of it: it connects once).</summary>
    [Parameter, EditorRequired] public long SessionId { get; set; }

    /// <summary>True once the session has ended: what the terminal shows stays, typing goes nowhere.</summary>
    [Parameter] public bool ReadOnly { get; set; }

    /// <summary>The server reported a change of the session (its state, or a new expiry after an extension).</summary>
    [Parameter] public EventCallback Changed { get; set; }

    /// <summary>A sentence about the connection (dropped, reconnecting, lost), or null while it is fine.</summary>
    [Parameter] public EventCallback<string?> ConnectionNote { get; set; }

    private ElementReference _element;
    private IJSObjectReference? _module;
    private DotNetObjectReference<DebugTerminal>? _self;
    private bool _readOnlyShown;

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        try
        {
            if (firstRender)
            {
                _module = await JS.InvokeAsync<IJSObjectReference>("import", "./js/terminal.js");
                _self = DotNetObjectReference.Create(this);
                _readOnlyShown = ReadOnly;
                await _module.InvokeVoidAsync("open", _element, SessionId, _self, ReadOnly);
            }
            else if (_module is not null && _readOnlyShown != ReadOnly)
            {
                _readOnlyShown = ReadOnly;
                await _module.InvokeVoidAsync("setReadOnly", _element, ReadOnly);
            }
        }
        catch (JSDisconnectedException) { }
        catch (JSException e) when (firstRender)
        {
            await ConnectionNote.InvokeAsync($"The terminal could not start: {e.Message}");
        }
    }

    [JSInvokable]
    public Task OnTerminalStatus(string? state, string? reason, long? at, string? ssh) => Changed.InvokeAsync();

    [JSInvokable]
    public Task OnTerminalExpires(long? at) => Changed.InvokeAsync();

    [JSInvokable]
    public Task OnTerminalConnection(bool connected, string? message) => ConnectionNote.InvokeAsync(connected ? null : message);

    /// <summary>Gives the keyboard to the terminal (after a button outside it was used).</summary>
    public async Task FocusAsync()
    {
        try
        {
            if (_module is not null) await _module.InvokeVoidAsync("focus", _element);
        }
        catch (JSDisconnectedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_module is not null)
            {
                await _module.InvokeVoidAsync("dispose", _element);
                await _module.DisposeAsync();
            }
        }
        catch (JSDisconnectedException) { }
        _self?.Dispose();
    }
}
