using System.Globalization;
using System.Security.Claims;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Shared;
using Kaizen.Portal.Debug;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.JSInterop;
using MudBlazor;

namespace Kaizen.Portal.Components.Pages.Debug;

/// <summary>
/// One debug session: what state it is in, how long it has left (extend it, end it), whether it has the project's
/// secrets, the SSH command when the runner offers one, and the terminal filling the rest of the page. Only the person
/// who started it gets the terminal; an admin may look at and end anyone's.
/// </summary>
public sealed partial class DebugSessionPage : IDisposable
{
    [Inject] private DebugSessionService Sessions { get; set; } = default!;
    [Inject] private BuildStore Builds { get; set; } = default!;
    [Inject] private LiveUpdates Live { get; set; } = default!;
    [Inject] private IOptions<KaizenOptions> Options { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    /// <summary>The session id from the URL.</summary>
    [Parameter] public long Id { get; set; }

    private ClaimsPrincipal _user = new();
    private DebugSessionRow? _session;
    private JobRow? _job;
    private bool _fromFork;
    private bool _isStarter;
    private bool _isAdmin;
    private bool _canStartAgain;
    private bool _loading = true;
    private bool _busy;
    private string? _error;
    private string? _connectionNote;
    private long _loadedId;
    private DebugTerminal? _terminal;
    private IDisposable? _subscription;
    private long _subscribedId;
    private CoalescingRefresh? _refresh;
    private ITimer? _clock;

    private double ExtendMinutes => Options.Value.Debug.DefaultMinutes;

    private string ExtendWord => $"{ExtendMinutes.ToString("0.#", CultureInfo.InvariantCulture)} min";

    private string KindWord => _session?.Kind == DebugKinds.Attach ? "Attached" : "Debug";

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>"29:59", "1:02:03"; null until the shell opens (the time counts from then).</summary>
    private string? TimeLeft => _session is { Status: DebugStates.Open } s ? Countdown(s.ExpiresAt - Now) : null;

    /// <summary>The last minutes of an open session: the time left stands out, next to Extend.</summary>
    public static readonly TimeSpan EndingSoon = TimeSpan.FromMinutes(5);

    private bool IsEndingSoon => _session is { Status: DebugStates.Open } s && s.ExpiresAt - Now <= (long)EndingSoon.TotalMilliseconds;

    internal static string Countdown(long milliseconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Ceiling(milliseconds / 1000.0)));
        return t.TotalHours >= 1
            ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}"
            : $"{(int)t.TotalMinutes}:{t.Seconds:00}";
    }

    /// <summary>Why a session has or lacks the project's secrets, in the words the page and the dialog use.</summary>
    public static string SecretsNote(bool withSecrets, bool fromFork) => withSecrets
        ? "This session has the project's secrets, as the job had them: whatever you type can read them."
        : fromFork
            ? "This session has no secrets: builds of a fork's code never do."
            : "This session has no secrets: only admins receive them.";

    private string StateSentence => _session switch
    {
        null => "",
        { Status: DebugStates.Queued, Image: { } image } =>
            $"Waiting for a runner… The job ran in the image {image}: this session needs a runner with Docker.",
        { Status: DebugStates.Queued } => "Waiting for a runner…",
        { Status: DebugStates.Starting } s => $"Setting the job up on {s.RunnerName ?? "a runner"}…",
        { Status: DebugStates.Open } s => s.Kind == DebugKinds.Attach
            ? $"Open: a shell next to the running job on {s.RunnerName ?? "its runner"}."
            : $"Open: the job is set up on {s.RunnerName ?? "a runner"}; its commands are in kaizen-commands.sh.",
        { IsEnded: true } s => $"Ended{(s.EndReason is { Length: > 0 } r ? $": {r}" : "")}"
                               + (s.EndedAt is { } at ? $" ({RelativeTime.Describe(Format.Time(at)!.Value, Time.GetUtcNow())}, {RelativeTime.Exact(Format.Time(at)!.Value)})." : "."),
        _ => _session.Status,
    };

    private Severity StateSeverity => _session?.Status switch
    {
        DebugStates.Open => Severity.Success,
        DebugStates.Ended => Severity.Normal,
        _ => Severity.Info,
    };

    private (Color Color, string Icon) StateLook => _session?.Status switch
    {
        DebugStates.Open => (Color.Success, Icons.Material.Filled.Terminal),
        DebugStates.Starting => (Color.Info, Icons.Material.Filled.Autorenew),
        DebugStates.Ended => (Color.Default, Icons.Material.Filled.StopCircle),
        _ => (Color.Default, Icons.Material.Filled.Schedule),
    };

    protected override async Task OnParametersSetAsync()
    {
        if (_loadedId == Id && !_loading) return;
        _loading = true;
        _user = Auth is null ? new() : (await Auth).User;
        _isAdmin = _user.IsInRole(Roles.Admin);
        _connectionNote = null;
        _error = null;
        await LoadAsync();
        _loadedId = Id;
        _loading = false;
    }

    private async Task LoadAsync()
    {
        var session = await Sessions.GetAsync(Id);
        var userId = _user.UserId();
        // Someone else's session is not found, like a missing one, except for admins (who may end it).
        _session = session is not null && (session.UserId == userId || _isAdmin) ? session : null;
        _isStarter = _session is not null && _session.UserId == userId;
        if (_session is null) return;
        if (_job?.Id != _session.JobId)
        {
            _job = await Builds.FindJobAsync(_session.JobId);
            _fromFork = (await Builds.FindAsync(_session.BuildId))?.FromFork ?? false;
        }
        _canStartAgain = _job is not null && Sessions.WhyNot(_user, _job, DebugKinds.Debug) is null;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (_session is null || _subscribedId == _session.Id) return;
        _subscription?.Dispose();
        _refresh?.Dispose();
        _subscribedId = _session.Id;
        _refresh = new CoalescingRefresh(async () =>
        {
            await LoadAsync();
            await InvokeAsync(StateHasChanged);
        }, CoalescingRefresh.DefaultInterval);
        _subscription = Live.Subscribe(LiveUpdates.Keys.Debug(_session.Id), _refresh.RequestAsync);
        // Whatever changed between the first load and subscribing.
        _ = _refresh.RequestAsync();
        // The time left counts down every second.
        _clock ??= Time.CreateTimer(_ =>
        {
            if (_session is { Status: DebugStates.Open }) _ = InvokeAsync(StateHasChanged);
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private Task OnTerminalChangedAsync() => _refresh?.RequestAsync() ?? Task.CompletedTask;

    private void OnConnectionNote(string? note) => _connectionNote = note;

    private async Task ExtendAsync()
    {
        if (_session is null) return;
        _busy = true;
        try
        {
            var extended = await Sessions.ExtendAsync(_session.Id, ExtendMinutes, _user);
            if (extended.Ok) _session = extended.Value;
            else _error = extended.Message ?? "The session could not be extended.";
        }
        finally
        {
            _busy = false;
        }
        if (_terminal is not null) await _terminal.FocusAsync();
    }

    private async Task EndAsync()
    {
        if (_session is null) return;
        _busy = true;
        try
        {
            var ended = await Sessions.EndAsync(_session.Id, _user);
            if (ended.Ok) _session = ended.Value;
            else _error = ended.Message ?? "The session could not be ended.";
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task StartAgainAsync()
    {
        if (_session is null) return;
        var dialog = await Dialogs.ShowAsync<DebugJobDialog>("Debug job",
            new DialogParameters<DebugJobDialog> { { d => d.JobId, _session.JobId }, { d => d.FromFork, _fromFork } },
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true });
        var result = await dialog.Result;
        if (result is { Canceled: false, Data: long id }) Navigation.NavigateTo($"/debug/{id}");
    }

    private async Task CopyAsync(string text)
    {
        try
        {
            await JS.InvokeVoidAsync("navigator.clipboard.writeText", text);
            Snackbar.Add("SSH command copied.", Severity.Success);
        }
        catch (JSException)
        {
            // No clipboard access (plain http on a LAN address): the code box selects all on a click instead.
            Snackbar.Add("Select the command and copy it: this browser gives the page no clipboard.", Severity.Info);
        }
        catch (JSDisconnectedException) { }
    }

    public void Dispose()
    {
        _clock?.Dispose();
        _refresh?.Dispose();
        _subscription?.Dispose();
    }
}
