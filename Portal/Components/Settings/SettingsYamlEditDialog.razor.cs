using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Shared;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace Kaizen.Portal.Components.Settings;

/// <summary>
/// The build settings as YAML, to edit in place. Opens with <see cref="Yaml"/>; closes with an <see cref="ImportedYaml"/>
/// on Apply (only when the text has no problems), or canceled. Cancel and Escape ask before dropping typed changes.
/// </summary>
public sealed partial class SettingsYamlEditDialog
{
    private const string Example = "setup: []\njobs:\n  - name: test\n    commands:\n      - make test\nepilogue: []";

    // Small texts are checked at every keystroke (well under a millisecond); larger ones once typing pauses, off the circuit.
    private const int CheckAtOnceBelow = 50_000;
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(400);

    [CascadingParameter] private IMudDialogInstance Dialog { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    /// <summary>The settings as YAML to start from: what Export YAML shows (the stored text with its comments while it
    /// still says the same). Empty to start from nothing.</summary>
    [Parameter] public string Yaml { get; set; } = "";

    // What the text area showed when it opened (never rewritten while the dialog is open), and the text as typed since.
    private string _shown = "";
    private string _text = "";
    private SettingsYamlCheck _check = SettingsYamlCheck.Of("");
    private BuildSettings? _preview;
    private bool _checking;
    private bool _confirmDiscard;
    private CancellationTokenSource? _pending;
    private ElementReference _container;
    private IJSObjectReference? _module;
    private DotNetObjectReference<SettingsYamlEditDialog>? _self;

    // The browser holds a text too long to send (see yaml-editor.js): what the portal last heard is not what is shown.
    private bool _tooLong;

    private string SchemaComment => $"# yaml-language-server: $schema={Navigation.BaseUri.TrimEnd('/')}{SettingsYamlEndpoints.SchemaPath}";

    private bool Edited => _tooLong || _text != Yaml;

    protected override void OnInitialized()
    {
        _shown = _text = Yaml ?? "";
        Check(SettingsYamlCheck.Of(_text));
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender) return;
        try
        {
            _module = await JS.InvokeAsync<IJSObjectReference>("import", "./js/yaml-editor.js");
            _self = DotNetObjectReference.Create(this);
            if (_module is not null) await _module.InvokeVoidAsync("attach", _container, _self, SettingsYamlCheck.MaxLength);
        }
        catch (JSDisconnectedException)
        {
        }
    }

    private void Check(SettingsYamlCheck check)
    {
        _check = check;
        if (check.Ok) _preview = check.Settings;
    }

    private async Task InputAsync(ChangeEventArgs e)
    {
        _text = e.Value?.ToString() ?? "";
        _tooLong = false;
        _confirmDiscard = false;
        _pending?.Cancel();
        _pending?.Dispose();
        _pending = null;
        if (_text.Length < CheckAtOnceBelow)
        {
            _checking = false;
            Check(SettingsYamlCheck.Of(_text));
            return;
        }

        var typed = _text;
        var pending = _pending = new CancellationTokenSource();
        _checking = true;
        try
        {
            await Task.Delay(Pause, pending.Token);
            var check = await Task.Run(() => SettingsYamlCheck.Of(typed), pending.Token);
            if (pending.IsCancellationRequested || typed != _text) return;
            Check(check);
            _checking = false;
        }
        catch (OperationCanceledException) when (pending.IsCancellationRequested)
        {
            // A newer keystroke took over; its own check follows.
        }
    }

    /// <summary>The browser's text is <paramref name="length"/> characters, too long to send or read.</summary>
    [JSInvokable]
    public void TooLong(long length)
    {
        _pending?.Cancel();
        _checking = false;
        _tooLong = true;
        _check = SettingsYamlCheck.TooLong(length);
        StateHasChanged();
    }

    private void Apply()
    {
        if (_tooLong) return;
        // Checked again on the text as it is now: a check still waiting for a pause in typing may be behind.
        _pending?.Cancel();
        _checking = false;
        Check(SettingsYamlCheck.Of(_text));
        if (_check.Settings is { } settings && _check.Ok) Dialog.Close(DialogResult.Ok(new ImportedYaml(settings, _text)));
    }

    private Task CancelAsync()
    {
        if (Edited) _confirmDiscard = true;
        else Dialog.Cancel();
        return Task.CompletedTask;
    }

    private void KeepEditing() => _confirmDiscard = false;

    /// <summary>Escape in the dialog (yaml-editor.js listens for it: a Blazor key handler would send the whole text with
    /// every key): cancels, asking first when something was typed.</summary>
    [JSInvokable]
    public async Task EscapeAsync()
    {
        await CancelAsync();
        StateHasChanged();
    }

    private async Task SelectLineAsync(int line)
    {
        try
        {
            if (_module is not null) await _module.InvokeVoidAsync("selectLine", _container, line);
        }
        catch (JSDisconnectedException)
        {
        }
    }

    private static string Commands(IReadOnlyList<string>? commands, string what) => (commands?.Count ?? 0) switch
    {
        0 => $"no {what}s",
        1 => $"1 {what}",
        var n => $"{n} {what}s",
    };

    public async ValueTask DisposeAsync()
    {
        _pending?.Cancel();
        _pending?.Dispose();
        _self?.Dispose();
        if (_module is not null)
        {
            try
            {
                await _module.DisposeAsync();
            }
            catch (JSDisconnectedException)
            {
            }
        }
    }
}
